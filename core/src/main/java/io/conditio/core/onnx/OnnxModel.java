package io.conditio.core.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.LongTensor;
import io.conditio.api.Model;
import io.conditio.api.ModelConfig;
import io.conditio.api.ModelInputException;
import io.conditio.api.ModelLoadException;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.core.json.Json;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An ONNX Runtime session behind the api's {@link Model}. Reads the declared inputs once, adapts what callers feed
 * to them (int32/int64 ids, float/int64 timesteps, rank-0/rank-1 scalars), and copies outputs back to the Java heap so
 * every native value is closed inside {@link #run}.
 *
 * <p>float16 inputs and outputs (fp16 exports) are converted at this boundary: {@link #inputs()} and
 * {@link #outputs()} show them as float32, which is what callers feed and get back; {@link #declaredInputs()} and
 * {@link #declaredOutputs()} keep the graph's own types.
 */
public final class OnnxModel implements Model, AutoCloseable {
    private final String name;
    private final Path path;
    private final OrtSession session;
    private final OrtSession.SessionOptions options;
    private final Device device;
    private final Map<String, TensorSpec> inputs;
    private final Map<String, TensorSpec> outputs;
    private final Map<String, TensorSpec> declaredInputs;
    private final Map<String, TensorSpec> declaredOutputs;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final List<OnnxTensor> patched = new ArrayList<>();
    private volatile List<String> weightPatches = List.of();
    private volatile ModelConfig config;
    private volatile java.util.function.Consumer<Map<String, ? extends Tensor>> recorder;

    private OnnxModel(String name, Path path, OrtSession session, OrtSession.SessionOptions options, Device device)
            throws OrtException {
        this.name = name;
        this.path = path;
        this.session = session;
        this.options = options;
        this.device = device;
        this.declaredInputs = specs(session.getInputInfo());
        this.declaredOutputs = specs(session.getOutputInfo());
        this.inputs = asSeen(declaredInputs);
        this.outputs = asSeen(declaredOutputs);
    }

    /**
     * Opens a model file.
     *
     * @param name a component name for messages, e.g. {@code unet}
     * @param file the {@code .onnx} file (external weights beside it are found by ONNX Runtime)
     * @return the model
     * @throws ModelLoadException naming the file when it is missing or ONNX Runtime rejects it
     */
    public static OnnxModel open(String name, Path file) {
        return open(name, file, Map.of());
    }

    /**
     * Opens a model file with some initializers replaced (weight patches: LoRA, textual inversion).
     *
     * <p>Initializers stored in the file ({@code raw_data}) are replaced in a copy of the file's bytes, and the session
     * is created from that copy, so ONNX Runtime's graph optimizations (constant folding, attention and layout
     * fusions) see the patched values and the copy can be dropped once the session exists: patched weights are
     * held once, by the session. Initializers stored as external data go through
     * {@code SessionOptions.addExternalInitializers}, which ONNX Runtime applies when it loads the graph (same name,
     * shape and type). {@code addInitializer} was measured not to fit: optimizations that fold or repack weights
     * (Conv layouts, fused projections) read the original values, so its overrides were partly ignored;
     * {@code OrtLoraAdapter} needs a model exported with its LoRA matrices as inputs.
     *
     * @param name         a component name for messages
     * @param file         the {@code .onnx} file
     * @param initializers replacement float32 values by initializer name, each with the original's shape; may be
     *                     empty
     * @return the model
     * @throws ModelLoadException naming the file when it is missing, ONNX Runtime rejects it, or a replacement does
     *                            not fit its initializer
     */
    public static OnnxModel open(String name, Path file, Map<String, FloatTensor> initializers) {
        return open(name, file, initializers, Set.of());
    }

    /**
     * Opens a model file with some initializers replaced, some of which may grow (see
     * {@link OnnxGraph#growthProblem}): a token-embedding table gaining the rows of new tokens. Such a table is
     * written anew into the copy of the model bytes; every other replacement must keep its initializer's shape.
     *
     * @param name         a component name for messages
     * @param file         the {@code .onnx} file
     * @param initializers replacement float32 values by initializer name
     * @param grown        names among them whose first dimension may be larger than the file's
     * @return the model
     * @throws ModelLoadException naming the file and initializer when a replacement does not fit
     */
    public static OnnxModel open(String name, Path file, Map<String, FloatTensor> initializers,
                                 Set<String> grown) {
        return open(name, file, initializers, grown, SessionSettings.defaults());
    }

    /**
     * Opens a model file with the given session settings.
     *
     * @param name     a component name for messages
     * @param file     the {@code .onnx} file
     * @param settings threads, execution mode, memory arena, device and optimised-model cache
     * @return the model
     * @throws ModelLoadException naming the file when it is missing or ONNX Runtime rejects it
     */
    public static OnnxModel open(String name, Path file, SessionSettings settings) {
        return open(name, file, Map.of(), Set.of(), settings);
    }

    /**
     * Opens a model file with some initializers replaced (see {@link #open(String, Path, Map, Set)}) and the given
     * session settings. A session built with weight patches does not use the optimised-model cache: its graph is
     * optimised anew, from the patched weights.
     *
     * @param name         a component name for messages
     * @param file         the {@code .onnx} file
     * @param initializers replacement float32 values by initializer name; may be empty
     * @param grown        names among them whose first dimension may be larger than the file's
     * @param settings     threads, execution mode, memory arena, device and optimised-model cache
     * @return the model
     * @throws ModelLoadException naming the file and initializer when a replacement does not fit, or the file when
     *                            ONNX Runtime rejects it
     */
    public static OnnxModel open(String name, Path file, Map<String, FloatTensor> initializers,
                                 Set<String> grown, SessionSettings settings) {
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException("model file not found: " + file.toAbsolutePath()
                    + " (expected the " + name + " ONNX model there)");
        }
        OrtEnvironment env = NativeRuntime.environment();
        Device device = resolve(settings.device());
        List<OnnxTensor> replacements = new ArrayList<>();
        OrtSession.SessionOptions options = null;
        try {
            byte[] patchedBytes = null;
            Map<String, ai.onnxruntime.OnnxTensorLike> external = new LinkedHashMap<>();
            if (!initializers.isEmpty()) {
                OnnxGraph graph = OnnxGraph.read(file);
                Map<String, FloatTensor> growing = new LinkedHashMap<>();
                for (Map.Entry<String, FloatTensor> e : initializers.entrySet()) {
                    io.conditio.api.ModelGraph.Initializer init = graph.initializers().get(e.getKey());
                    long[] want = Arrays.stream(e.getValue().shape()).asLongStream().toArray();
                    if (grown.contains(e.getKey()) && init != null && !Arrays.equals(init.shape(), want)) {
                        Optional<String> problem = graph.growthProblem(e.getKey(), want);
                        if (problem.isPresent()) {
                            throw new ModelLoadException("weight patch for " + file.toAbsolutePath() + ": "
                                    + problem.get());
                        }
                        growing.put(e.getKey(), e.getValue());
                        continue;
                    }
                    if (init == null || init.type() != ElementType.FLOAT32 || !Arrays.equals(init.shape(), want)) {
                        throw new ModelLoadException("weight patch for " + file.toAbsolutePath() + ": initializer "
                                + e.getKey() + (init == null ? " does not exist" : " is " + init.type() + " "
                                + Arrays.toString(init.shape())) + "; the patch is float32 " + Arrays.toString(want));
                    }
                    if (init.external()) {
                        OnnxTensor t = directTensor(env, e.getValue());
                        replacements.add(t);
                        external.put(e.getKey(), t);
                    } else {
                        long offset = graph.rawDataOffset(e.getKey());
                        if (offset < 0) {
                            throw new ModelLoadException("weight patch for " + file.toAbsolutePath() + ": initializer "
                                    + e.getKey() + " is not stored as raw data; it cannot be replaced");
                        }
                        if (patchedBytes == null) {
                            patchedBytes = readAll(file);
                        }
                        java.nio.ByteBuffer.wrap(patchedBytes).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                                .position(Math.toIntExact(offset)).slice().order(java.nio.ByteOrder.LITTLE_ENDIAN)
                                .asFloatBuffer().put(e.getValue().array());
                    }
                }
                if (!growing.isEmpty()) {
                    patchedBytes = graph.withGrownInitializers(patchedBytes != null ? patchedBytes : readAll(file),
                            growing);
                }
            }
            if (patchedBytes != null && !replacements.isEmpty()) {
                throw new ModelLoadException("weight patch for " + file.toAbsolutePath() + " replaces both embedded"
                        + " and external-data initializers; only one kind per model is supported");
            }
            OrtSession session = null;
            String cacheProblem = null;
            boolean cacheable = initializers.isEmpty() && device.kind() == Device.Kind.CPU
                    && settings.modelCache().isPresent();
            if (cacheable) {
                OptimizedModelCache cache = new OptimizedModelCache(settings.modelCache().get(), OnnxModel::warn);
                Path entry = cache.entry(file, env.getVersion());
                Path cached = entry == null ? null : OptimizedModelCache.cached(entry);
                if (cached != null) {
                    options = sessionOptions(settings, device, OrtSession.SessionOptions.OptLevel.NO_OPT);
                    try {
                        session = env.createSession(cached.toString(), options);
                    } catch (OrtException e) {
                        options.close();
                        options = null;
                        cache.rejected(entry, e);
                    }
                }
                Path staged = session != null || entry == null ? null : cache.staging(entry);
                if (staged != null) {
                    options = sessionOptions(settings, device, OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    try {
                        options.setOptimizedModelFilePath(staged.resolve("model.onnx").toString());
                        options.addConfigEntry("session.optimized_model_external_initializers_file_name",
                                "model.onnx.data");
                        options.addConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes",
                                Integer.toString(1 << 20));
                        session = env.createSession(file.toAbsolutePath().toString(), options);
                        cache.publish(staged, entry);
                    } catch (OrtException e) {
                        options.close();
                        options = null;
                        OptimizedModelCache.delete(staged);
                        cacheProblem = "ONNX Runtime could not save the optimised " + name + " model into "
                                + cache.folder() + " (" + e.getMessage() + "); opened it without the cache";
                    }
                }
            }
            if (session == null) {
                options = sessionOptions(settings, device, OrtSession.SessionOptions.OptLevel.ALL_OPT);
                if (!external.isEmpty()) {
                    options.addExternalInitializers(external);
                }
                session = patchedBytes != null
                        ? env.createSession(patchedBytes, options)
                        : env.createSession(file.toAbsolutePath().toString(), options);
                if (cacheProblem != null) {
                    new OptimizedModelCache(settings.modelCache().get(), OnnxModel::warn).warn("save", cacheProblem);
                }
            }
            try {
                OnnxModel model = new OnnxModel(name, file, session, options, device);
                model.patched.addAll(replacements);
                NativeObjects.sessionOpened();
                return model;
            } catch (OrtException | RuntimeException e) {
                session.close();
                throw e;
            }
        } catch (RuntimeException e) {
            closeQuietly(options);
            replacements.forEach(OnnxTensor::close);
            throw e;
        } catch (OrtException e) {
            closeQuietly(options);
            replacements.forEach(OnnxTensor::close);
            throw new ModelLoadException("ONNX Runtime could not load " + file.toAbsolutePath() + " (" + name + "): "
                    + e.getMessage(), e);
        }
    }

    private static void closeQuietly(OrtSession.SessionOptions options) {
        if (options != null) {
            options.close();
        }
    }

    /** Session options from the settings; the caller owns them and closes them after the session. */
    private static OrtSession.SessionOptions sessionOptions(SessionSettings settings, Device device,
                                                            OrtSession.SessionOptions.OptLevel level)
            throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setOptimizationLevel(level);
            if (settings.intraOpThreads() > 0) {
                options.setIntraOpNumThreads(settings.intraOpThreads());
            }
            if (settings.interOpThreads() > 0) {
                options.setInterOpNumThreads(settings.interOpThreads());
            }
            options.setExecutionMode(settings.executionMode() == SessionSettings.ExecutionMode.PARALLEL
                    ? OrtSession.SessionOptions.ExecutionMode.PARALLEL
                    : OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setCPUArenaAllocator(settings.memoryArena());
            if (device.kind() == Device.Kind.CUDA) {
                options.addCUDA(device.index());
            }
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    private static final Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static volatile java.util.function.Consumer<String> warnings =
            line -> System.err.println("conditio: warning: " + line);

    static void warn(String line) {
        warnings.accept(line);
    }

    /**
     * Sets where the warnings of session opening go (a CUDA device that is not available, an optimised-model cache
     * that cannot be used); standard error, prefixed {@code conditio: warning:}, unless replaced.
     *
     * @param sink receives one line per warning
     * @return the sink it replaces, to restore
     */
    public static java.util.function.Consumer<String> warnings(java.util.function.Consumer<String> sink) {
        java.util.function.Consumer<String> before = warnings;
        warnings = sink;
        return before;
    }

    /**
     * The device sessions will run on: the one asked for when the ONNX Runtime on the class path has its provider,
     * else the CPU, with one warning per device.
     *
     * @param wanted the device asked for
     * @return the device used
     */
    public static Device resolve(Device wanted) {
        if (wanted.kind() == Device.Kind.CPU) {
            return wanted;
        }
        NativeRuntime.environment();
        java.util.EnumSet<ai.onnxruntime.OrtProvider> available = OrtEnvironment.getAvailableProviders();
        if (available.contains(ai.onnxruntime.OrtProvider.CUDA)) {
            String problem = CUDA_PROBLEMS.computeIfAbsent(wanted.index(), OnnxModel::cudaProblem);
            if (problem.isEmpty()) {
                return wanted;
            }
            if (WARNED.add("device " + wanted)) {
                warn("device " + wanted + " asked for, but ONNX Runtime could not start CUDA there (" + problem
                        + "); running on the CPU. CUDA needs the CUDA and cuDNN libraries onnxruntime_gpu was built"
                        + " for on the library path, and a GPU");
            }
            return Device.CPU;
        }
        if (WARNED.add("device " + wanted)) {
            warn("device " + wanted + " asked for, but the ONNX Runtime on the class path has no CUDA provider (it"
                    + " has " + available + "); running on the CPU. CUDA needs com.microsoft.onnxruntime:"
                    + "onnxruntime_gpu (build with -Donnxruntime.artifactId=onnxruntime_gpu) and the CUDA libraries");
        }
        return Device.CPU;
    }

    private static final Map<Integer, String> CUDA_PROBLEMS = new java.util.concurrent.ConcurrentHashMap<>();

    /** Whether the CUDA provider starts on a device: empty when it does, else ONNX Runtime's message. */
    private static String cudaProblem(int index) {
        try (OrtSession.SessionOptions probe = new OrtSession.SessionOptions()) {
            probe.addCUDA(index);
            return "";
        } catch (OrtException | RuntimeException | LinkageError e) {
            return String.valueOf(e.getMessage()).strip();
        }
    }

    /** System property: ONNX Runtime intra-op threads of every session opened afterwards (unset: ORT's default). */
    public static final String INTRA_OP_THREADS_PROPERTY = SessionSettings.INTRA_OP_THREADS_PROPERTY;

    private static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new ModelLoadException("could not read " + file.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    private static OnnxTensor directTensor(OrtEnvironment env, FloatTensor value) throws OrtException {
        float[] data = value.array();
        FloatBuffer buf = java.nio.ByteBuffer.allocateDirect(data.length * Float.BYTES)
                .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        buf.put(data).flip();
        long[] shape = Arrays.stream(value.shape()).asLongStream().toArray();
        return OnnxTensor.createTensor(env, buf, shape);
    }

    private static Map<String, TensorSpec> specs(Map<String, NodeInfo> infos) {
        Map<String, TensorSpec> out = new LinkedHashMap<>();
        for (NodeInfo info : infos.values()) {
            if (info.getInfo() instanceof TensorInfo t) {
                out.put(info.getName(), new TensorSpec(info.getName(), elementType(t.type), t.getShape()));
            } else {
                out.put(info.getName(), new TensorSpec(info.getName(), ElementType.OTHER, new long[0]));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /** The specs callers see: float16 as float32, converted by the model. */
    private static Map<String, TensorSpec> asSeen(Map<String, TensorSpec> declared) {
        Map<String, TensorSpec> out = new LinkedHashMap<>();
        for (TensorSpec spec : declared.values()) {
            out.put(spec.name(), spec.elementType() == ElementType.FLOAT16
                    ? new TensorSpec(spec.name(), ElementType.FLOAT32, spec.shape()) : spec);
        }
        return Collections.unmodifiableMap(out);
    }

    private static ElementType elementType(OnnxJavaType type) {
        return switch (type) {
            case FLOAT -> ElementType.FLOAT32;
            case FLOAT16 -> ElementType.FLOAT16;
            case INT64 -> ElementType.INT64;
            case INT32 -> ElementType.INT32;
            default -> ElementType.OTHER;
        };
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public ModelConfig config() {
        ModelConfig c = config;
        if (c == null) {
            c = configBeside(path);
            config = c;
        }
        return c;
    }

    /**
     * @param file a model file
     * @return the {@code config.json} beside the file, else beside the file a link points to, else the empty config
     */
    public static ModelConfig configBeside(Path file) {
        List<Path> candidates = new ArrayList<>();
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            candidates.add(parent.resolve("config.json"));
        }
        try {
            Path real = file.toRealPath().getParent();
            if (real != null) {
                candidates.add(real.resolve("config.json"));
            }
        } catch (java.io.IOException e) {
            // the model file was opened already; a broken link only means no config
        }
        for (Path c : candidates) {
            if (Files.isRegularFile(c)) {
                return ModelConfig.of(Json.parseObject(c), c);
            }
        }
        return ModelConfig.empty();
    }

    @Override
    public Map<String, TensorSpec> inputs() {
        return inputs;
    }

    @Override
    public Map<String, TensorSpec> outputs() {
        return outputs;
    }

    /** @return the inputs with the graph's own element types (float16 where the export has it) */
    public Map<String, TensorSpec> declaredInputs() {
        return declaredInputs;
    }

    /** @return the outputs with the graph's own element types (float16 where the export has it) */
    public Map<String, TensorSpec> declaredOutputs() {
        return declaredOutputs;
    }

    @Override
    public Map<String, Tensor> run(Map<String, ? extends Tensor> feeds) {
        if (closed.get()) {
            throw new IllegalStateException("model " + name + " (" + path + ") is closed");
        }
        checkNames(feeds);
        record(feeds);
        OrtEnvironment env = NativeRuntime.environment();
        List<OnnxTensor> created = new ArrayList<>();
        try {
            Map<String, OnnxTensor> ort = new LinkedHashMap<>();
            for (TensorSpec spec : declaredInputs.values()) {
                OnnxTensor t = toOrt(env, spec, feeds.get(spec.name()));
                NativeObjects.tensorCreated();
                created.add(t);
                ort.put(spec.name(), t);
            }
            try (OrtSession.Result result = Cancellation.run(session, ort, null)) {
                Map<String, Tensor> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    out.put(e.getKey(), fromOrt(e.getKey(), e.getValue()));
                }
                return out;
            }
        } catch (OrtException e) {
            throw new ModelInputException("ONNX Runtime failed running " + name + " (" + path + "): "
                    + e.getMessage(), e);
        } finally {
            for (OnnxTensor t : created) {
                t.close();
                NativeObjects.tensorClosed();
            }
        }
    }

    /**
     * Hands every later call's feeds (of {@link #run} and of this model's bindings) to {@code sink} before the call,
     * until it is set back to null; for benchmarks that replay what a generation fed. The feeds are the caller's
     * live tensors: copy what must outlive the call. Costs one volatile read per call when unset.
     *
     * @param sink receives the feeds, on the calling thread; null stops recording
     */
    public void recordFeeds(java.util.function.Consumer<Map<String, ? extends Tensor>> sink) {
        this.recorder = sink;
    }

    void record(Map<String, ? extends Tensor> feeds) {
        java.util.function.Consumer<Map<String, ? extends Tensor>> sink = recorder;
        if (sink != null) {
            sink.accept(feeds);
        }
    }

    void checkNames(Map<String, ? extends Tensor> feeds) {
        List<String> problems = new ArrayList<>();
        for (String required : inputs.keySet()) {
            if (!feeds.containsKey(required)) {
                problems.add("missing input '" + required + "' (" + inputs.get(required) + ")");
            }
        }
        for (String given : feeds.keySet()) {
            if (!inputs.containsKey(given)) {
                problems.add("unknown input '" + given + "' (the model declares " + inputs.keySet() + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new ModelInputException(name + " (" + path + "): " + String.join("; ", problems));
        }
    }

    OnnxTensor toOrt(OrtEnvironment env, TensorSpec spec, Tensor value) throws OrtException {
        int[] given = value.shape();
        long[] shape = adaptShape(spec, given, value);
        return switch (spec.elementType()) {
            case FLOAT32 -> {
                float[] data = asFloats(spec, value);
                yield OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
            }
            case FLOAT16 -> {
                int n = feedCount(spec, value);
                ShortBuffer halves = ShortBuffer.allocate(n);
                putHalves(halves, value, n);
                halves.flip();
                yield OnnxTensor.createTensor(env, halves, shape, OnnxJavaType.FLOAT16);
            }
            case INT64 -> {
                long[] data = asLongs(spec, value);
                yield OnnxTensor.createTensor(env, LongBuffer.wrap(data), shape);
            }
            case INT32 -> {
                long[] data = asLongs(spec, value);
                int[] narrowed = new int[data.length];
                for (int i = 0; i < data.length; i++) {
                    narrowed[i] = Math.toIntExact(data[i]);
                }
                yield OnnxTensor.createTensor(env, IntBuffer.wrap(narrowed), shape);
            }
            default -> throw new ModelInputException(name + " (" + path + ") input '" + spec.name()
                    + "' has element type " + spec.elementType() + ", which the runtime cannot feed; expected "
                    + "float32, float16, int64 or int32");
        };
    }

    /** Fits a value's shape to the declared rank: scalars and one-element vectors are interchangeable. */
    long[] adaptShape(TensorSpec spec, int[] given, Tensor value) {
        if (spec.accepts(given)) {
            return Arrays.stream(given).asLongStream().toArray();
        }
        boolean uniform = isUniform(value);
        if (spec.rank() == 0 && uniform) {
            return new long[0];
        }
        if (spec.rank() == 1 && (given.length == 0 || uniform) && (spec.dim(0) == 1 || spec.dim(0) < 0)) {
            return new long[] {1};
        }
        throw new ModelInputException(name + " (" + path + ") input '" + spec.name() + "': expected " + spec
                + ", got " + value.elementType().name().toLowerCase() + " " + Arrays.toString(given));
    }

    private static boolean isUniform(Tensor value) {
        if (value instanceof FloatTensor f) {
            for (int i = 1; i < f.size(); i++) {
                if (Float.compare(f.get(i), f.get(0)) != 0) {
                    return false;
                }
            }
            return true;
        }
        LongTensor l = (LongTensor) value;
        for (int i = 1; i < l.size(); i++) {
            if (l.get(i) != l.get(0)) {
                return false;
            }
        }
        return true;
    }

    /** How many of a value's elements are fed: one for a scalar input given a uniform vector, else all. */
    static int feedCount(TensorSpec spec, Tensor value) {
        return spec.rank() == 0 || (value.size() > 1 && spec.rank() == 1 && spec.dim(0) == 1) ? 1 : value.size();
    }

    /** Writes the first {@code n} values as float16 at the buffer's position, straight from the value's array. */
    static void putHalves(ShortBuffer dst, Tensor value, int n) {
        if (value instanceof FloatTensor f) {
            Half.put(dst, f.array(), 0, n);
        } else {
            LongTensor l = (LongTensor) value;
            for (int i = 0; i < n; i++) {
                dst.put(Half.fromFloat(l.get(i)));
            }
        }
    }

    float[] asFloats(TensorSpec spec, Tensor value) {
        int n = feedCount(spec, value);
        float[] out = new float[n];
        if (value instanceof FloatTensor f) {
            System.arraycopy(f.array(), 0, out, 0, n);
        } else {
            LongTensor l = (LongTensor) value;
            for (int i = 0; i < n; i++) {
                out[i] = l.get(i);
            }
        }
        return out;
    }

    /** Float values fed to an integer input are truncated toward zero, as numpy's astype(int64) does. */
    long[] asLongs(TensorSpec spec, Tensor value) {
        int n = spec.rank() == 0 || (value.size() > 1 && spec.rank() == 1 && spec.dim(0) == 1) ? 1 : value.size();
        long[] out = new long[n];
        if (value instanceof LongTensor l) {
            System.arraycopy(l.array(), 0, out, 0, n);
        } else {
            FloatTensor f = (FloatTensor) value;
            for (int i = 0; i < n; i++) {
                out[i] = (long) f.get(i);
            }
        }
        return out;
    }

    Tensor fromOrt(String output, OnnxValue value) {
        if (!(value instanceof OnnxTensor t)) {
            throw new ModelInputException(name + " (" + path + ") output '" + output + "' is not a tensor");
        }
        TensorInfo info = t.getInfo();
        int[] shape = Arrays.stream(info.getShape()).mapToInt(Math::toIntExact).toArray();
        return switch (info.type) {
            case FLOAT -> {
                FloatBuffer b = t.getFloatBuffer();
                float[] data = new float[b.remaining()];
                b.get(data);
                yield FloatTensor.of(data, shape);
            }
            case FLOAT16 -> FloatTensor.of(Half.toFloats(t.getShortBuffer()), shape);
            case INT64 -> {
                LongBuffer b = t.getLongBuffer();
                long[] data = new long[b.remaining()];
                b.get(data);
                yield LongTensor.of(data, shape);
            }
            case INT32 -> {
                IntBuffer b = t.getIntBuffer();
                long[] data = new long[b.remaining()];
                for (int i = 0; i < data.length; i++) {
                    data[i] = b.get(i);
                }
                yield LongTensor.of(data, shape);
            }
            default -> throw new ModelInputException(name + " (" + path + ") output '" + output + "' has type "
                    + info.type + "; the runtime reads float32, float16, int64 and int32 outputs");
        };
    }

    OrtSession session() {
        if (closed.get()) {
            throw new IllegalStateException("model " + name + " (" + path + ") is closed");
        }
        return session;
    }

    /**
     * A binding for repeated calls with the same shapes (the denoise loop): native input and output buffers are
     * allocated on the first call and reused, so later calls allocate no native memory that scales with the tensors.
     * One binding per generation and thread; close it when the generation ends.
     *
     * @return a new binding
     */
    public Binding bind() {
        return new Binding(this);
    }

    /** Closes the session; later calls to {@link #run} fail with an IllegalStateException. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            NativeObjects.sessionClosed();
            try {
                session.close();
            } catch (OrtException e) {
                throw new IllegalStateException("closing " + path + " failed: " + e.getMessage(), e);
            } finally {
                // the options live as long as the session: ONNX Runtime may read them until it is closed
                options.close();
                patched.forEach(OnnxTensor::close);
            }
        }
    }

    /** @return the device this session runs on (the CPU when CUDA was asked for but is not available) */
    public Device device() {
        return device;
    }

    /** @return the keys of the weight patches this session was built with; empty for the plain model */
    public List<String> weightPatches() {
        return weightPatches;
    }

    /**
     * Records which weight patches this session was built with (for provenance).
     *
     * @param keys the patch keys
     */
    public void describeWeightPatches(List<String> keys) {
        this.weightPatches = List.copyOf(keys);
    }

    @Override
    public String toString() {
        return name + " (" + path + ")";
    }
}
