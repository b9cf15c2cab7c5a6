package io.conditio.cli;

import io.conditio.server.ConditioServer;
import io.conditio.server.Limits;
import io.conditio.server.ServerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conditio serve}: the HTTP server (A1111-compatible API, native API, web page). */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve models over HTTP: the AUTOMATIC1111-compatible API (/sdapi/v1), the native API (/v1), "
                + "/metrics, /health and a web page at /. Stops gracefully on SIGTERM.")
final class ServeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--host", paramLabel = "H", defaultValue = "127.0.0.1",
            description = "Address to bind (default: ${DEFAULT-VALUE}, this machine only).")
    String host;

    @Option(names = "--port", paramLabel = "P", defaultValue = "7860",
            description = "Port (default: ${DEFAULT-VALUE}, as A1111; 0 picks a free one).")
    int port;

    @ArgGroup(exclusive = true)
    ModelChoice models;

    static final class ModelChoice {
        @Option(names = "--model", paramLabel = "DIR",
                description = "Serve one model folder (" + ConditioCli.MODEL_DEFAULT + ").")
        Path model;

        @Option(names = "--models", paramLabel = "DIR",
                description = "Serve every model folder in DIR by its name; ControlNet folders in DIR are offered "
                        + "to all of them.")
        Path directory;
    }

    @Mixin
    PluginDirectoryOption plugins = new PluginDirectoryOption();

    @Option(names = "--plugin-dev", paramLabel = "DIR",
            description = "Also load a plugin straight from its build output, in development mode (a plugin project "
                    + "folder holding target/classes, or that classes folder), and reload it when a rebuild changes "
                    + "it; a reload that fails keeps the previous version running. Repeatable. No lock file applies "
                    + "to it; for plugin development only.")
    List<Path> pluginDev = new java.util.ArrayList<>();

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:CONDITIO_API_KEY}",
            description = "Every endpoint but /health needs 'Authorization: Bearer KEY' (default: "
                    + "$CONDITIO_API_KEY, else none).")
    String apiKey;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "1",
            description = "Generations at once per model (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "32",
            description = "Generations that may wait; more get 429 with Retry-After (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--cors-origin", paramLabel = "O",
            description = "Allow cross-origin browser calls from this origin, e.g. https://app.example (default: "
                    + "none).")
    String corsOrigin;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "150",
            description = "Most inference steps per image (default: ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--model-idle", paramLabel = "SECONDS", defaultValue = "600",
            description = "Close a model nobody has used for this long (default: ${DEFAULT-VALUE}).")
    long modelIdle;

    @Option(names = "--model-memory", paramLabel = "SIZE",
            description = "Model weights that may be open at once, e.g. 6g; before another model opens, the least "
                    + "recently used idle ones are closed to stay within it (default: half the physical memory).")
    String modelMemory;

    @Option(names = "--shutdown-grace", paramLabel = "SECONDS", defaultValue = "30",
            description = "On SIGTERM, how long running generations may finish before they are cancelled "
                    + "(default: ${DEFAULT-VALUE}).")
    long grace;

    @Mixin
    SessionFlags sessionFlags = new SessionFlags();

    @Override
    public Integer call() throws Exception {
        return sessionFlags.around(this::execute);
    }

    private Integer execute() throws InterruptedException {
        ServerConfig.Builder b = ServerConfig.builder().optHost(host).optPort(port)
                .optPluginDirectories(List.of(plugins.directory())).optDevPlugins(pluginDev)
                .optConcurrency(concurrency).optMaxQueue(maxQueue).optCorsOrigin(corsOrigin)
                .optLimits(Limits.defaults().withMaxSteps(maxSteps)).optShutdownGrace(Duration.ofSeconds(grace))
                .optIdleClose(Duration.ofSeconds(modelIdle));
        if (modelMemory != null) {
            b.optModelMemory(io.conditio.core.MemoryLimit.parse(modelMemory));
        }
        if (models != null && models.directory != null) {
            b.setModelsDirectory(models.directory);
        } else {
            b.setModel(ConditioCli.modelDirectory(models == null ? null : models.model));
        }
        if (apiKey != null && !apiKey.isBlank()) {
            b.optApiKey(apiKey);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ConditioServer server = ConditioServer.start(b.build(), line -> println(err, "conditio: " + line));
        // SIGTERM and SIGINT stop the server before the JVM shuts down (see StopSignals); the hook covers other exits
        StopSignals signals = StopSignals.install();
        AtomicBoolean closed = new AtomicBoolean();
        Runnable stop = () -> {
            if (closed.compareAndSet(false, true)) {
                server.close();
                println(out, "stopped");
            }
        };
        Thread hook = new Thread(stop, "conditio-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        println(out, "listening on " + server.url());
        signals.await();
        println(err, "conditio: " + signals.signal() + ": stopping");
        stop.run();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down
        }
        return 0;
    }

    /** A whole line, flushed at once (the server's threads log too). */
    private static void println(PrintWriter w, String line) {
        synchronized (w) {
            w.println(line);
            w.flush();
        }
    }
}
