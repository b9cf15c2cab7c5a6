package io.conditio.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@code conditio serve} runs. Build with {@link #builder()}; everything but the model source has a default.
 *
 * @param host          the address to bind (default 127.0.0.1: local only)
 * @param port          the port (default 7860, A1111's; 0 picks a free one)
 * @param model         one model folder, served under its folder name; or empty with {@code modelsDirectory}
 * @param modelsDirectory a directory whose model folders are served by name; or empty with {@code model}
 * @param pluginDirectories directories with plugin jars
 * @param devPlugins    plugins loaded from their build output in development mode (project or classes folders),
 *                      reloaded when it changes; empty for none. Only ever what the operator names
 * @param apiKey        the bearer token every endpoint but {@code /health} needs, or empty for none
 * @param concurrency   generations running at once per model
 * @param maxQueue      generations that may wait; more are refused with 429
 * @param corsOrigin    the one browser origin allowed cross-origin calls, or empty for none
 * @param limits        per-request limits
 * @param idleClose     how long an unused model stays open
 * @param maxOpenModels how many models may be open at once; the least recently used idle one is closed first
 * @param modelMemory   the bytes of model weights that may be open at once (the size of their ONNX files); before
 *                      another model is opened, least recently used idle ones are closed to stay within it
 * @param shutdownGrace how long running generations may take to finish when the server stops
 */
public record ServerConfig(String host, int port, Optional<Path> model, Optional<Path> modelsDirectory,
        List<Path> pluginDirectories, List<Path> devPlugins, Optional<String> apiKey, int concurrency, int maxQueue,
        Optional<String> corsOrigin, Limits limits, Duration idleClose, int maxOpenModels, long modelMemory,
        Duration shutdownGrace) {

    /** Validates. */
    public ServerConfig {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port " + port + ": expected 0 to 65535");
        }
        if (model.isPresent() == modelsDirectory.isPresent()) {
            throw new IllegalArgumentException("give exactly one of --model DIR and --models DIR");
        }
        pluginDirectories = List.copyOf(pluginDirectories);
        devPlugins = List.copyOf(devPlugins);
        if (apiKey.isPresent() && apiKey.get().isBlank()) {
            throw new IllegalArgumentException("--api-key must not be blank");
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("--concurrency " + concurrency + ": expected at least 1");
        }
        if (maxQueue < 0) {
            throw new IllegalArgumentException("--max-queue " + maxQueue + ": expected 0 or more");
        }
        Objects.requireNonNull(limits, "limits");
        if (modelMemory <= 0) {
            throw new IllegalArgumentException("--model-memory " + modelMemory + ": expected a positive size");
        }
        if (idleClose.isNegative() || idleClose.isZero()) {
            throw new IllegalArgumentException("--model-idle " + idleClose + ": expected a positive duration");
        }
        if (maxOpenModels < 1) {
            throw new IllegalArgumentException("max open models " + maxOpenModels + ": expected at least 1");
        }
    }

    /**
     * @return half of this machine's physical memory (at least 1 GiB): the default model memory budget
     */
    public static long defaultModelMemory() {
        long physical = 0;
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            physical = os.getTotalMemorySize();
        }
        return Math.max(1L << 30, physical / 2);
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ServerConfig}. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 7860;
        private Path model;
        private Path modelsDirectory;
        private List<Path> plugins = List.of(Path.of("plugins"));
        private List<Path> devPlugins = List.of();
        private String apiKey;
        private int concurrency = 1;
        private int maxQueue = 32;
        private String corsOrigin;
        private Limits limits = Limits.defaults();
        private Duration idleClose = Duration.ofMinutes(10);
        private int maxOpenModels = 8;
        private long modelMemory = defaultModelMemory();
        private Duration shutdownGrace = Duration.ofSeconds(30);

        private Builder() {
        }

        /**
         * @param host the bind address
         * @return this
         */
        public Builder optHost(String host) {
            this.host = host;
            return this;
        }

        /**
         * @param port the port, 0 for a free one
         * @return this
         */
        public Builder optPort(int port) {
            this.port = port;
            return this;
        }

        /**
         * @param model one model folder
         * @return this
         */
        public Builder setModel(Path model) {
            this.model = model;
            return this;
        }

        /**
         * @param directory a directory of model folders
         * @return this
         */
        public Builder setModelsDirectory(Path directory) {
            this.modelsDirectory = directory;
            return this;
        }

        /**
         * @param directories plugin directories
         * @return this
         */
        public Builder optPluginDirectories(List<Path> directories) {
            this.plugins = List.copyOf(directories);
            return this;
        }

        /**
         * @param folders plugin project folders (holding {@code target/classes}) or classes folders to load in
         *                development mode and reload when their build output changes
         * @return this
         */
        public Builder optDevPlugins(List<Path> folders) {
            this.devPlugins = List.copyOf(folders);
            return this;
        }

        /**
         * @param key the bearer token, or null for none
         * @return this
         */
        public Builder optApiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /**
         * @param n generations at once per model
         * @return this
         */
        public Builder optConcurrency(int n) {
            this.concurrency = n;
            return this;
        }

        /**
         * @param n generations that may wait
         * @return this
         */
        public Builder optMaxQueue(int n) {
            this.maxQueue = n;
            return this;
        }

        /**
         * @param origin the allowed browser origin, or null for none
         * @return this
         */
        public Builder optCorsOrigin(String origin) {
            this.corsOrigin = origin;
            return this;
        }

        /**
         * @param limits per-request limits
         * @return this
         */
        public Builder optLimits(Limits limits) {
            this.limits = limits;
            return this;
        }

        /**
         * @param idle how long an unused model stays open
         * @return this
         */
        public Builder optIdleClose(Duration idle) {
            this.idleClose = idle;
            return this;
        }

        /**
         * @param n models open at once
         * @return this
         */
        public Builder optMaxOpenModels(int n) {
            this.maxOpenModels = n;
            return this;
        }

        /**
         * @param bytes the model weights that may be open at once
         * @return this
         */
        public Builder optModelMemory(long bytes) {
            this.modelMemory = bytes;
            return this;
        }

        /**
         * @param grace how long running generations may take when stopping
         * @return this
         */
        public Builder optShutdownGrace(Duration grace) {
            this.shutdownGrace = grace;
            return this;
        }

        /** @return the config */
        public ServerConfig build() {
            return new ServerConfig(host, port, Optional.ofNullable(model), Optional.ofNullable(modelsDirectory),
                    plugins, devPlugins, Optional.ofNullable(apiKey), concurrency, maxQueue, Optional.ofNullable(corsOrigin),
                    limits, idleClose, maxOpenModels, modelMemory, shutdownGrace);
        }
    }
}
