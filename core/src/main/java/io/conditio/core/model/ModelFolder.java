package io.conditio.core.model;

import io.conditio.api.ModelLoadException;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.TensorSpec;
import io.conditio.core.json.Json;
import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.WeightPatch;
import io.conditio.core.onnx.OnnxGraph;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.onnx.SessionSettings;
import io.conditio.core.tokenizer.ClipTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Stable Diffusion model folder in the diffusers/optimum layout: one sub-folder per component, each holding
 * {@code model.onnx} (and a {@code config.json}), plus {@code tokenizer/} and {@code scheduler/}.
 *
 * <p>Sessions are opened on first use and shared; the folder owns them and closes them in {@link #close()}.
 * Thread-safe.
 */
public final class ModelFolder implements AutoCloseable {
    /** The VAE scaling factor of Stable Diffusion 1.x, used when the VAE config does not give one. */
    public static final double DEFAULT_SCALING_FACTOR = 0.18215;

    private final Path root;
    private final Map<String, Object> modelIndex;
    private final Map<String, OnnxModel> open = new ConcurrentHashMap<>();
    private final Map<String, ClipTokenizer> tokenizers = new ConcurrentHashMap<>();
    private final Map<String, OnnxGraph> graphs = new ConcurrentHashMap<>();
    private final Map<Path, Map<String, Object>> jsonFiles = new ConcurrentHashMap<>();
    private final SessionSettings settings;
    private volatile boolean closed;

    private ModelFolder(Path root, Map<String, Object> modelIndex, SessionSettings settings) {
        this.root = root;
        this.modelIndex = modelIndex;
        this.settings = settings;
    }

    /**
     * Opens a model folder. Nothing is loaded yet; the UNet and VAE decoder must exist.
     *
     * @param root the folder
     * @return the folder
     * @throws ModelLoadException naming the path when the folder or a required component is missing
     */
    public static ModelFolder open(Path root) {
        return open(root, SessionSettings.defaults());
    }

    /**
     * Opens a model folder whose sessions are opened with the given settings. Nothing is loaded yet; the UNet and
     * VAE decoder must exist.
     *
     * @param root     the folder
     * @param settings threads, execution mode, memory arena, device and optimised-model cache of its sessions
     * @return the folder
     * @throws ModelLoadException naming the path when the folder or a required component is missing
     */
    public static ModelFolder open(Path root, SessionSettings settings) {
        java.util.Objects.requireNonNull(settings, "settings");
        Path abs = root.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw new ModelLoadException("model path " + abs + " is a file, not a folder; expected a diffusers/optimum"
                    + " model folder holding unet/model.onnx and vae_decoder/model.onnx");
        }
        if (!Files.isDirectory(abs)) {
            throw new ModelLoadException("model folder not found: " + abs);
        }
        Path index = abs.resolve("model_index.json");
        Map<String, Object> modelIndex = Files.isRegularFile(index) ? Json.parseObject(index) : Map.of();
        FolderFiles.checkModelIndex(index, modelIndex);
        ModelFolder folder = new ModelFolder(abs, modelIndex, settings);
        List<String> missing = new ArrayList<>();
        for (String required : List.of("unet", "vae_decoder")) {
            if (!folder.has(required)) {
                missing.add(abs.resolve(required).resolve("model.onnx").toString());
            }
        }
        if (missing.isEmpty()) {
            folder.suggestedDefaults();
        } else {
            throw new ModelLoadException("not a Stable Diffusion ONNX model folder: " + abs + " lacks "
                    + String.join(" and ", missing) + " (expected the diffusers/optimum layout: unet/model.onnx, "
                    + "vae_decoder/model.onnx, text_encoder/model.onnx, tokenizer/, scheduler/)");
        }
        return folder;
    }

    /** @return the folder, absolute */
    public Path root() {
        return root;
    }

    /** @return the settings its sessions are opened with */
    public SessionSettings sessionSettings() {
        return settings;
    }

    /** @return model_index.json, or an empty map when absent */
    public Map<String, Object> modelIndex() {
        return modelIndex;
    }

    /**
     * @param component e.g. {@code text_encoder}
     * @return true when {@code component/model.onnx} exists
     */
    public boolean has(String component) {
        return Files.isRegularFile(root.resolve(component).resolve("model.onnx"));
    }

    /**
     * @param component e.g. {@code unet}
     * @return the component's model, opened on first use
     * @throws ModelLoadException naming the path when the file is missing or cannot be loaded
     */
    public OnnxModel model(String component) {
        if (closed) {
            throw new IllegalStateException("model folder " + root + " is closed");
        }
        return open.computeIfAbsent(component, c -> OnnxModel.open(c, root.resolve(c).resolve("model.onnx"),
                settings));
    }

    /**
     * The component's model with weight patches applied. One session is kept per component and set of patch keys and
     * reused, so switching back to a set of patches costs nothing and patched weights are held once.
     *
     * @param component e.g. {@code unet}
     * @param patches   the patches to apply, in order; empty for the plain model
     * @return the patched model, opened on first use of this set
     * @throws InvalidRequestException when two patches replace the same initializer
     */
    public OnnxModel model(String component, List<WeightPatch> patches) {
        if (patches.isEmpty()) {
            return model(component);
        }
        if (closed) {
            throw new IllegalStateException("model folder " + root + " is closed");
        }
        StringBuilder key = new StringBuilder(component);
        for (WeightPatch p : patches) {
            key.append('\u0000').append(p.key());
        }
        return open.computeIfAbsent(key.toString(), k -> {
            Map<String, FloatTensor> merged = new LinkedHashMap<>();
            Map<String, String> by = new LinkedHashMap<>();
            Set<String> grown = new HashSet<>();
            for (WeightPatch p : patches) {
                grown.addAll(p.grownTables());
                for (Map.Entry<String, FloatTensor> e : p.initializers().entrySet()) {
                    String before = by.put(e.getKey(), p.key());
                    if (before != null) {
                        throw new InvalidRequestException("weight patches " + before + " and " + p.key()
                                + " both replace " + e.getKey() + " of " + component);
                    }
                    merged.put(e.getKey(), e.getValue());
                }
            }
            OnnxModel m = OnnxModel.open(component, root.resolve(component).resolve("model.onnx"), merged, grown,
                    settings);
            m.describeWeightPatches(patches.stream().map(WeightPatch::key).toList());
            return m;
        });
    }

    /**
     * @param component e.g. {@code unet}
     * @return the component's ONNX graph (node names, initializers), read on first use
     */
    public OnnxGraph graph(String component) {
        return graphs.computeIfAbsent(component, c -> OnnxGraph.read(root.resolve(c).resolve("model.onnx")));
    }

    /**
     * @param component e.g. {@code vae_encoder}
     * @return the model, or empty when the folder lacks it
     */
    public Optional<OnnxModel> optionalModel(String component) {
        return has(component) ? Optional.of(model(component)) : Optional.empty();
    }

    /**
     * @param name {@code tokenizer} or {@code tokenizer_2}
     * @return the tokenizer, or empty when absent
     */
    public Optional<ClipTokenizer> tokenizer(String name) {
        Path dir = root.resolve(name);
        if (!Files.isRegularFile(dir.resolve("vocab.json"))) {
            return Optional.empty();
        }
        return Optional.of(tokenizers.computeIfAbsent(name, n -> ClipTokenizer.load(dir)));
    }

    /**
     * @param component e.g. {@code unet}
     * @return its config.json, or an empty map when absent
     */
    public Map<String, Object> config(String component) {
        return json(root.resolve(component).resolve("config.json"));
    }

    /** A JSON file of the folder, parsed once: the folder's files are read as they were when first used. */
    private Map<String, Object> json(Path file) {
        return jsonFiles.computeIfAbsent(file,
                f -> Files.isRegularFile(f) ? Collections.unmodifiableMap(Json.parseObject(f)) : Map.of());
    }

    /** @return {@code scheduler/scheduler_config.json}, or empty when the folder has none */
    public Optional<SchedulerConfig> schedulerConfig() {
        Path file = root.resolve("scheduler").resolve("scheduler_config.json");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        return Optional.of(SchedulerConfig.of(json(file)));
    }

    /**
     * Generation settings the model's authors recommend, from {@code conditio_defaults.json} in the folder:
     * {@code steps}, {@code guidance_scale} and {@code mask_blend} (inpainting: keep the unmasked area by latent
     * blending). They apply only where a request leaves the setting unset.
     *
     * @return the suggested values by key; empty when the folder suggests nothing
     * @throws ModelLoadException naming the file and key when a key is unknown or its value has the wrong type
     */
    public Map<String, Object> suggestedDefaults() {
        Path file = root.resolve("conditio_defaults.json");
        Map<String, Object> defaults = json(file);
        FolderFiles.checkDefaults(file, defaults);
        return defaults;
    }

    /** @return the VAE's {@code scaling_factor} (from vae_decoder or vae_encoder config), 0.18215 when absent */
    public double vaeScalingFactor() {
        return vaeNumber("scaling_factor", DEFAULT_SCALING_FACTOR);
    }

    /** @return the VAE's {@code shift_factor}, 0 when absent or null */
    public double vaeShiftFactor() {
        return vaeNumber("shift_factor", 0.0);
    }

    /** @return the VAE's spatial factor, 2^(len(block_out_channels)-1); 8 when the config does not say */
    public int vaeSpatialFactor() {
        for (String c : List.of("vae_decoder", "vae_encoder")) {
            if (config(c).get("block_out_channels") instanceof List<?> blocks && !blocks.isEmpty()) {
                return 1 << (blocks.size() - 1);
            }
        }
        return 8;
    }

    /**
     * @param unetComponent the UNet's folder ({@code unet}, {@code unet-controlnet}, ...)
     * @return how many times the UNet halves the latent, as a factor: 2^(len(block_out_channels)-1) of its config;
     *     1 when the config does not say. ONNX exports trace the upsamplers with a fixed factor of 2, so the latent's
     *     height and width must be multiples of it
     */
    public int unetDownsampling(String unetComponent) {
        if (config(unetComponent).get("block_out_channels") instanceof List<?> blocks && !blocks.isEmpty()
                && blocks.size() <= 8) {
            return 1 << (blocks.size() - 1);
        }
        return 1;
    }

    /**
     * @return the VAE decoder's channels at full resolution, {@code block_out_channels[0]} of its config; 128 (as in
     *     Stable Diffusion's VAE) when the config does not say
     */
    public int vaeFullResolutionChannels() {
        for (String c : List.of("vae_decoder", "vae_encoder")) {
            if (config(c).get("block_out_channels") instanceof List<?> blocks && !blocks.isEmpty()
                    && blocks.get(0) instanceof Number n && n.longValue() > 0) {
                return (int) Math.min(n.longValue(), 1 << 16);
            }
        }
        return 128;
    }

    private double vaeNumber(String key, double fallback) {
        for (String c : List.of("vae_decoder", "vae_encoder")) {
            Object v = config(c).get(key);
            if (v instanceof Number n && Double.isFinite(n.doubleValue()) && (n.doubleValue() != 0
                    || key.equals("shift_factor"))) {
                return n.doubleValue();
            }
            if (v != null) {
                // a wrong value must not fall back to the default silently: the images would be wrong
                throw new io.conditio.api.ModelLoadException(root.resolve(c).resolve("config.json") + ": key '" + key
                        + "' is " + Json.write(v) + "; expected a finite number" + (key.equals("shift_factor") ? ""
                                : " other than 0") + " (or no key)");
            }
        }
        return fallback;
    }

    /**
     * @return the UNet's latent sample size: {@code sample_size} from unet/config.json, else the fixed height of the
     *     {@code sample} input, else 64
     */
    public int unetSampleSize() {
        Object size = config("unet").get("sample_size");
        if (size instanceof Number n) {
            if (n.doubleValue() < 1 || n.doubleValue() > 1 << 14 || n.doubleValue() != Math.rint(n.doubleValue())) {
                throw new io.conditio.api.ModelLoadException(root.resolve("unet").resolve("config.json")
                        + ": key 'sample_size' is " + Json.write(n) + "; expected a whole number from 1 to 16384");
            }
            return n.intValue();
        }
        TensorSpec sample = model("unet").inputs().get("sample");
        if (sample != null && sample.rank() == 4 && sample.dim(2) > 0) {
            return (int) sample.dim(2);
        }
        return 64;
    }

    /**
     * @return the number of latent channels: the VAE decoder's {@code latent_sample} channels when fixed, else
     *     {@code latent_channels} from the VAE config, else 4
     */
    public int latentChannels() {
        TensorSpec latent = model("vae_decoder").inputs().get("latent_sample");
        if (latent != null && latent.rank() == 4 && latent.dim(1) > 0) {
            return (int) latent.dim(1);
        }
        for (String c : List.of("vae_decoder", "vae_encoder")) {
            if (config(c).get("latent_channels") instanceof Number n) {
                return n.intValue();
            }
        }
        return 4;
    }

    /** @return the components present, in a stable order */
    public List<String> components() {
        List<String> out = new ArrayList<>();
        for (String c : List.of("text_encoder", "text_encoder_2", "unet", "vae_encoder", "vae_decoder", "controlnet")) {
            if (has(c)) {
                out.add(c);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** @return the opened models by component, for diagnostics */
    public Map<String, OnnxModel> openModels() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(open));
    }

    /** Closes every session this folder opened. */
    @Override
    public void close() {
        closed = true;
        for (OnnxModel m : open.values()) {
            m.close();
        }
        open.clear();
        graphs.clear();
    }
}
