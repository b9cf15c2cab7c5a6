package io.conditio.core.onnx;

import io.conditio.api.InvalidRequestException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How ONNX Runtime sessions are opened: threads, execution mode, memory arena, device and the optimised-model cache.
 * Immutable; made with {@link #builder()} (starting from {@link #defaults()}) and given to
 * {@link io.conditio.core.Conditio#open(Path, SessionSettings)}, which opens every session of that pipeline with it.
 *
 * <pre>{@code
 * SessionSettings s = SessionSettings.builder().optIntraOpThreads(1).optDevice(Device.parse("cuda:0")).build();
 * try (Pipeline pipeline = conditio.open(Path.of("models/sd-tiny"), s)) { ... }
 * }</pre>
 *
 * <p>{@link #defaults()} reads the {@code conditio.onnx.*} system properties named below, so a host can set them
 * without code; a property that is set but malformed is refused with the property's name.
 *
 * @param intraOpThreads threads one operator may use; 0 lets ONNX Runtime choose (one per physical core)
 * @param interOpThreads threads running independent operators in parallel execution mode; 0 lets ONNX Runtime choose
 * @param executionMode  sequential (one operator at a time, each using the intra-op threads) or parallel
 * @param memoryArena    whether the CPU allocator keeps an arena of freed blocks for reuse
 * @param device         where the sessions run; CUDA falls back to the CPU with one warning when the ONNX Runtime
 *                       artifact on the class path lacks it
 * @param modelCache     the folder of the optimised-model cache, or empty for none
 */
public record SessionSettings(int intraOpThreads, int interOpThreads, ExecutionMode executionMode,
                              boolean memoryArena, Device device, Optional<Path> modelCache) {
    /** System property: intra-op threads per session (a positive number; unset: the default below). */
    public static final String INTRA_OP_THREADS_PROPERTY = "conditio.onnx.intraOpThreads";
    /** System property: inter-op threads per session, used in parallel execution mode. */
    public static final String INTER_OP_THREADS_PROPERTY = "conditio.onnx.interOpThreads";
    /** System property: {@code sequential} or {@code parallel}. */
    public static final String EXECUTION_MODE_PROPERTY = "conditio.onnx.executionMode";
    /** System property: {@code true} or {@code false}, the CPU memory arena. */
    public static final String MEMORY_ARENA_PROPERTY = "conditio.onnx.memoryArena";
    /** System property: {@code cpu}, {@code cuda} or {@code cuda:N}. */
    public static final String DEVICE_PROPERTY = "conditio.onnx.device";
    /** System property: the optimised-model cache folder, or {@code none} for no cache. */
    public static final String MODEL_CACHE_PROPERTY = "conditio.onnx.modelCache";

    /** ONNX Runtime's execution modes. */
    public enum ExecutionMode {
        /** One operator at a time. */
        SEQUENTIAL,
        /** Independent branches of the graph at once, on the inter-op threads. */
        PARALLEL
    }

    /** Checks the values. */
    public SessionSettings {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intra-op threads " + intraOpThreads + ": expected 0 (ONNX Runtime's"
                    + " choice) or a positive number");
        }
        if (interOpThreads < 0) {
            throw new IllegalArgumentException("inter-op threads " + interOpThreads + ": expected 0 (ONNX Runtime's"
                    + " choice) or a positive number");
        }
        Objects.requireNonNull(executionMode, "executionMode");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(modelCache, "modelCache");
        modelCache = modelCache.map(p -> p.toAbsolutePath().normalize());
    }

    /**
     * The settings used when none are given: sequential execution, {@link #defaultIntraOpThreads()} intra-op
     * threads, ONNX Runtime's inter-op thread count, the memory arena on, the CPU, and no optimised-model cache (it is
     * opt-in: a folder such as {@link #defaultCacheFolder()} given by the builder, the CLI or its property); each
     * overridden by its system property when that is set.
     *
     * @return the defaults
     * @throws InvalidRequestException naming the property when one is set to something it cannot be
     */
    public static SessionSettings defaults() {
        int intra = positive(INTRA_OP_THREADS_PROPERTY, defaultIntraOpThreads());
        int inter = positive(INTER_OP_THREADS_PROPERTY, 0);
        ExecutionMode mode = ExecutionMode.SEQUENTIAL;
        String m = property(EXECUTION_MODE_PROPERTY);
        if (m != null) {
            mode = parseExecutionMode(m, "system property " + EXECUTION_MODE_PROPERTY);
        }
        boolean arena = true;
        String a = property(MEMORY_ARENA_PROPERTY);
        if (a != null) {
            if (!a.equalsIgnoreCase("true") && !a.equalsIgnoreCase("false")) {
                throw new InvalidRequestException("system property " + MEMORY_ARENA_PROPERTY + "=" + a
                        + ": expected true or false");
            }
            arena = Boolean.parseBoolean(a);
        }
        String d = property(DEVICE_PROPERTY);
        Device device = d == null ? Device.CPU : Device.parse(d);
        String c = property(MODEL_CACHE_PROPERTY);
        Optional<Path> cache = c == null ? Optional.empty() : parseCache(c);
        return new SessionSettings(intra, inter, mode, arena, device, cache);
    }

    /**
     * Intra-op threads when none are set: half the processors the JVM sees, at least one. On a 2-core machine one
     * thread per session made more images per second than ONNX Runtime's one per core at 1, 2 and 4 concurrent
     * generations, at 64 and 256 px (see the README's performance section); the other half is left to concurrent
     * generations and to the Java side of the loop.
     *
     * @return the default intra-op thread count
     */
    public static int defaultIntraOpThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    /**
     * The suggested optimised-model cache folder: {@code $XDG_CACHE_HOME/conditio/onnx}, else
     * {@code ~/.cache/conditio/onnx}. Not used unless asked for.
     *
     * @return the folder, or empty when there is no home directory to put it in
     */
    public static Optional<Path> defaultCacheFolder() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Optional.of(Path.of(xdg, "conditio", "onnx"));
        }
        String home = System.getProperty("user.home");
        if (home == null || home.isBlank() || home.equals("?")) {
            return Optional.empty();
        }
        return Optional.of(Path.of(home, ".cache", "conditio", "onnx"));
    }

    /**
     * @param text {@code sequential} or {@code parallel}, case-insensitive
     * @param what where the text came from, for the message
     * @return the mode
     */
    public static ExecutionMode parseExecutionMode(String text, String what) {
        try {
            return ExecutionMode.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(what + " '" + text + "': expected sequential or parallel");
        }
    }

    /**
     * @param text a folder, or {@code none}
     * @return the folder, or empty for {@code none}
     */
    public static Optional<Path> parseCache(String text) {
        String t = text.strip();
        if (t.isEmpty()) {
            throw new InvalidRequestException("model cache '': expected a folder or none");
        }
        return t.equalsIgnoreCase("none") ? Optional.empty() : Optional.of(Path.of(t));
    }

    private static String property(String name) {
        String v = System.getProperty(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static int positive(String name, int unset) {
        String v = property(name);
        if (v == null) {
            return unset;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below says what was expected
        }
        throw new InvalidRequestException("system property " + name + "=" + v
                + ": expected a positive number of threads");
    }

    /** @return a builder starting from {@link #defaults()} */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** @return a builder starting from these settings */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Builds {@link SessionSettings}. */
    public static final class Builder {
        private int intraOpThreads;
        private int interOpThreads;
        private ExecutionMode executionMode;
        private boolean memoryArena;
        private Device device;
        private Optional<Path> modelCache;

        private Builder(SessionSettings from) {
            intraOpThreads = from.intraOpThreads;
            interOpThreads = from.interOpThreads;
            executionMode = from.executionMode;
            memoryArena = from.memoryArena;
            device = from.device;
            modelCache = from.modelCache;
        }

        /**
         * @param threads intra-op threads per session; 0 for ONNX Runtime's choice
         * @return this
         */
        public Builder optIntraOpThreads(int threads) {
            this.intraOpThreads = threads;
            return this;
        }

        /**
         * @param threads inter-op threads per session (parallel execution mode); 0 for ONNX Runtime's choice
         * @return this
         */
        public Builder optInterOpThreads(int threads) {
            this.interOpThreads = threads;
            return this;
        }

        /**
         * @param mode sequential or parallel
         * @return this
         */
        public Builder optExecutionMode(ExecutionMode mode) {
            this.executionMode = mode;
            return this;
        }

        /**
         * @param on whether the CPU allocator keeps a memory arena
         * @return this
         */
        public Builder optMemoryArena(boolean on) {
            this.memoryArena = on;
            return this;
        }

        /**
         * @param device where the sessions run
         * @return this
         */
        public Builder optDevice(Device device) {
            this.device = device;
            return this;
        }

        /**
         * @param folder the optimised-model cache folder, created when missing
         * @return this
         */
        public Builder optModelCache(Path folder) {
            this.modelCache = Optional.of(folder);
            return this;
        }

        /** @return this, with the optimised-model cache off: every session optimises its graph anew */
        public Builder noModelCache() {
            this.modelCache = Optional.empty();
            return this;
        }

        /** @return the settings */
        public SessionSettings build() {
            return new SessionSettings(intraOpThreads, interOpThreads, executionMode, memoryArena, device,
                    modelCache);
        }
    }
}
