package io.conditio.cli;

import io.conditio.api.InvalidRequestException;
import io.conditio.core.onnx.Device;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.onnx.SessionSettings;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The ONNX Runtime session flags shared by generate, bench and serve: threads, execution mode, memory arena, device
 * and the optimised-model cache. Each sets its {@code conditio.onnx.*} system property (see
 * {@link SessionSettings#defaults()}) for the command only.
 */
final class SessionFlags {
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec command;

    @Option(names = "--threads", paramLabel = "N",
            description = "ONNX Runtime intra-op threads per model session (default: half the cores, at least 1;"
                    + " or the system property " + SessionSettings.INTRA_OP_THREADS_PROPERTY + ").")
    Integer threads;

    @Option(names = "--inter-op-threads", paramLabel = "N",
            description = "Threads running independent operators at once, with --execution-mode parallel"
                    + " (default: ONNX Runtime's).")
    Integer interOpThreads;

    @Option(names = "--execution-mode", paramLabel = "MODE",
            description = "sequential (one operator at a time) or parallel (default: sequential).")
    String executionMode;

    @Option(names = "--memory-arena", negatable = true, fallbackValue = "true",
            description = "Keep ONNX Runtime's CPU memory arena (default: on; --no-memory-arena returns freed"
                    + " memory at once).")
    Boolean memoryArena;

    @Option(names = "--device", paramLabel = "DEVICE",
            description = "cpu, cuda or cuda:N (default: cpu). CUDA needs the onnxruntime_gpu build; without it the"
                    + " command warns once and runs on the CPU.")
    String device;

    @Option(names = "--model-cache", paramLabel = "DIR|none",
            description = "Folder of optimised models, so later starts skip ONNX Runtime's graph optimisation, or"
                    + " none (default: none; e.g. ~/.cache/conditio/onnx).")
    String modelCache;

    /**
     * Sets the properties for the sessions opened until the scope closes, and sends session warnings to the
     * command's standard error; then restores the previous values.
     */
    Scope apply() {
        Map<String, String> set = new LinkedHashMap<>();
        putThreads(set, SessionSettings.INTRA_OP_THREADS_PROPERTY, "--threads", threads);
        putThreads(set, SessionSettings.INTER_OP_THREADS_PROPERTY, "--inter-op-threads", interOpThreads);
        if (executionMode != null) {
            set.put(SessionSettings.EXECUTION_MODE_PROPERTY, SessionSettings.parseExecutionMode(executionMode,
                    "--execution-mode").name().toLowerCase(Locale.ROOT));
        }
        if (memoryArena != null) {
            set.put(SessionSettings.MEMORY_ARENA_PROPERTY, memoryArena.toString());
        }
        if (device != null) {
            try {
                set.put(SessionSettings.DEVICE_PROPERTY, Device.parse(device).toString());
            } catch (InvalidRequestException e) {
                throw new InvalidRequestException("--device " + device + ": expected cpu, cuda or cuda:N (N a CUDA"
                        + " device index)");
            }
        }
        if (modelCache != null) {
            if (modelCache.isBlank()) {
                throw new InvalidRequestException("--model-cache '': expected a folder or none");
            }
            set.put(SessionSettings.MODEL_CACHE_PROPERTY, modelCache.strip());
        }
        Scope properties = setProperties(set);
        java.util.function.Consumer<String> sink = command == null ? null : OnnxModel.warnings(line -> {
            command.commandLine().getErr().println("conditio: warning: " + line);
            command.commandLine().getErr().flush();
        });
        return () -> {
            if (sink != null) {
                OnnxModel.warnings(sink);
            }
            properties.close();
        };
    }

    /** Runs a command's work with these settings (see {@link #apply()}). */
    <T> T around(java.util.concurrent.Callable<T> work) throws Exception {
        try (Scope scope = apply()) {
            return work.call();
        }
    }

    private static void putThreads(Map<String, String> set, String property, String flag, Integer threads) {
        if (threads != null) {
            if (threads < 1) {
                throw new InvalidRequestException(flag + " " + threads + ": expected a positive number of threads");
            }
            set.put(property, Integer.toString(threads));
        }
    }

    /**
     * Sets system properties until the scope closes, then restores their previous values (the CLI also runs
     * in-process: tests, embedding).
     */
    static Scope setProperties(Map<String, String> set) {
        Map<String, String> before = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : set.entrySet()) {
            before.put(e.getKey(), System.getProperty(e.getKey()));
            System.setProperty(e.getKey(), e.getValue());
        }
        return () -> before.forEach((k, v) -> {
            if (v == null) {
                System.clearProperty(k);
            } else {
                System.setProperty(k, v);
            }
        });
    }

    /** Restores the previous settings. */
    interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
