package io.conditio.spark;

import io.conditio.core.Conditio;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one executor JVM keeps between tasks: one Conditio host and one pipeline per (model folder, plugin folder),
 * opened on first use and reused by every later task and partition on that executor, closed when the JVM exits. ONNX
 * Runtime's native library is unpacked once per node into a folder named by its version (not into a fresh temporary
 * folder per JVM), and every session gets as many intra-op threads as a task has cores ({@code spark.task.cpus}), so
 * concurrent tasks do not oversubscribe the executor.
 */
final class ExecutorRuntime {
    private static final Map<Key, Host> PIPELINES = new ConcurrentHashMap<>();
    private static final AtomicInteger OPENED = new AtomicInteger();
    private static volatile boolean nativeReady;

    private record Key(Path model, Path plugins) {
    }

    /**
     * A host and its pipeline for one model.
     *
     * @param conditio the plugin host (its parameter declarations type the requests)
     * @param pipeline the pipeline of the model
     */
    record Host(Conditio conditio, Pipeline pipeline) {
    }

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorRuntime::closeAll, "conditio-executor-close"));
    }

    private ExecutorRuntime() {
    }

    /**
     * @param model       the model folder as seen on this executor
     * @param plugins     the plugin folder as seen on this executor
     * @param taskThreads ONNX Runtime intra-op threads per session (the task's cores)
     * @return this JVM's host and pipeline for the pair, opened on the first call
     */
    static Host host(Path model, Path plugins, int taskThreads) {
        Key key = new Key(model.toAbsolutePath().normalize(), plugins.toAbsolutePath().normalize());
        return PIPELINES.computeIfAbsent(key, k -> {
            prepareOnnxRuntime(taskThreads);
            Conditio conditio = Conditio.start(List.of(k.plugins()));
            try {
                Pipeline pipeline = conditio.open(k.model());
                OPENED.incrementAndGet();
                return new Host(conditio, pipeline);
            } catch (RuntimeException e) {
                conditio.close();
                throw e;
            }
        });
    }

    /** @return how many pipelines this JVM has opened (for tests: once per model, however many tasks ran) */
    static int pipelinesOpened() {
        return OPENED.get();
    }

    /** @return the model folders this JVM has open pipelines for, as this executor sees them */
    static Set<Path> openModels() {
        Set<Path> models = new TreeSet<>();
        PIPELINES.keySet().forEach(k -> models.add(k.model()));
        return models;
    }

    /** Closes every pipeline and host of this JVM (the next task opens them again). */
    static synchronized void closeAll() {
        for (Host e : PIPELINES.values()) {
            try {
                e.pipeline().close();
            } finally {
                e.conditio().close();
            }
        }
        PIPELINES.clear();
    }

    /**
     * Sets the intra-op thread count for sessions opened from now on (unless the user set the property) and, before
     * ONNX Runtime first loads, points {@code onnxruntime.native.path} at a per-node folder holding its native
     * libraries, unpacking them there only when they are not there yet.
     */
    static synchronized void prepareOnnxRuntime(int taskThreads) {
        if (System.getProperty(OnnxModel.INTRA_OP_THREADS_PROPERTY) == null && taskThreads > 0) {
            System.setProperty(OnnxModel.INTRA_OP_THREADS_PROPERTY, Integer.toString(taskThreads));
        }
        if (nativeReady || System.getProperty("onnxruntime.native.path") != null) {
            nativeReady = true;
            return;
        }
        String platform = platform();
        String[] libs = {System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni")};
        String prefix = "/ai/onnxruntime/native/" + platform + "/";
        if (platform == null || ExecutorRuntime.class.getResource(prefix + libs[0]) == null) {
            nativeReady = true; // unknown platform: leave it to ONNX Runtime's own loader
            return;
        }
        Path dir;
        try {
            // named by ONNX Runtime's version (in a fat jar, where the package has none, by the library's size)
            String version = ai.onnxruntime.OrtEnvironment.class.getPackage().getImplementationVersion();
            if (version == null) {
                version = "size" + ExecutorRuntime.class.getResource(prefix + libs[0]).openConnection()
                        .getContentLengthLong();
            }
            dir = Path.of(System.getProperty("java.io.tmpdir"), "conditio-onnxruntime-" + version + "-" + platform
                    + "-" + System.getProperty("user.name"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Files.createDirectories(dir);
            for (String lib : libs) {
                Path target = dir.resolve(lib);
                if (Files.isRegularFile(target)) {
                    continue;
                }
                try (InputStream in = ExecutorRuntime.class.getResourceAsStream(prefix + lib)) {
                    if (in == null) {
                        continue;
                    }
                    // another executor on the node may unpack at the same time: write aside, then move in place
                    Path tmp = Files.createTempFile(dir, lib, ".part");
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not unpack ONNX Runtime's native library into " + dir + ": "
                    + e.getMessage(), e);
        }
        System.setProperty("onnxruntime.native.path", dir.toString());
        nativeReady = true;
    }

    /** @return the folder name ONNX Runtime's jar uses for this OS and CPU, or null */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") ? "osx" : os.contains("win") ? "win" : null;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "aarch64" : null;
        return o == null || a == null ? null : o + "-" + a;
    }
}
