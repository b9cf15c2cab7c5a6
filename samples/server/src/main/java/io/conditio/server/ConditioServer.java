package io.conditio.server;

import io.conditio.api.SchedulerProvider;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.SchedulerCatalog;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code conditio serve}: the AUTOMATIC1111-compatible API, the native API, metrics and the web page over one
 * bounded queue, on Javalin (Jetty 12).
 *
 * <pre>{@code
 * try (ConditioServer server = ConditioServer.start(ServerConfig.builder().setModel(Path.of("models/shapes"))
 *         .optPort(0).build())) {
 *     System.out.println("listening on " + server.url());
 * }
 * }</pre>
 */
public final class ConditioServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConditioServer.class);
    private static final long LONG_REQUEST_MS = TimeUnit.MINUTES.toMillis(30);
    /** How often development plugins' build output is looked at, and how long it must stay unchanged. */
    private static final java.time.Duration DEV_POLL = java.time.Duration.ofMillis(250);
    private static final java.time.Duration DEV_SETTLE = java.time.Duration.ofSeconds(1);

    private final ServerConfig config;
    private final Conditio conditio;
    private final ModelCatalog catalog;
    private final GenerationQueue queue;
    private final ServerMetrics metrics;
    private final ScheduledExecutorService sweeper;
    private final Javalin app;
    private final byte[] apiKeyDigest;
    private final AutoCloseable devWatch;
    private final java.util.List<String> pluginReloads = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean stopping;
    private boolean closed;

    private final java.util.function.Consumer<String> pluginReport;

    private ConditioServer(ServerConfig config, java.util.function.Consumer<String> pluginReport) {
        this.pluginReport = pluginReport;
        this.config = config;
        this.apiKeyDigest = config.apiKey().map(ConditioServer::digest).orElse(null);
        this.conditio = Conditio.start(config.pluginDirectories(), config.devPlugins());
        try {
            for (String warning : conditio.plugins().devWarnings()) {
                LOG.warn(warning);
                pluginReport.accept("warning: " + warning);
            }
            this.devWatch = config.devPlugins().isEmpty() ? null : conditio.plugins().watch(DEV_POLL, DEV_SETTLE,
                    this::reported);
            this.metrics = new ServerMetrics(this::queueDepth, this::running, this::openModelCount);
            this.catalog = new ModelCatalog(conditio, config, (model, reason) -> {
                LOG.info("closed model {} ({})", model, reason);
                metrics.modelClosed(reason);
            });
            this.queue = new GenerationQueue(catalog, config.concurrency(), config.maxQueue(), metrics);
            java.util.function.Supplier<SchedulerCatalog> schedulers = this::schedulers;
            ServerParameters parameters = new ServerParameters(conditio.plugins(), catalog);
            A1111Api a1111 = new A1111Api(catalog, queue, schedulers, config.limits(),
                    () -> io.conditio.core.pipeline.Preprocessors.names(conditio.plugins()).keySet(),
                    parameters::catalog);
            NativeApi nativeApi = new NativeApi(conditio, catalog, queue, schedulers, config.limits(), parameters);
            this.app = Javalin.create(c -> {
                c.startup.showJavalinBanner = false;
                c.http.maxRequestSize = config.limits().maxRequestBytes();
                // multipart uploads stay in memory (bounded by the body limit): nothing a client sends is written
                // to this machine's disk
                long limit = config.limits().maxRequestBytes();
                c.jetty.multipartConfig.maxTotalRequestSize(limit, io.javalin.config.SizeUnit.BYTES);
                c.jetty.multipartConfig.maxFileSize(limit, io.javalin.config.SizeUnit.BYTES);
                c.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(limit, Integer.MAX_VALUE),
                        io.javalin.config.SizeUnit.BYTES);
                c.jsonMapper(new io.javalin.json.JavalinJackson(JsonFields.MAPPER, false));
                c.jetty.host = config.host();
                c.jetty.port = config.port();
                config.corsOrigin().ifPresent(origin -> c.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    rule.allowHost(origin);
                    rule.exposeHeader("Retry-After");
                    rule.exposeHeader("Location");
                })));
                c.routes.before(this::guard);
                c.routes.after(ctx -> metrics.request(ctx.statusCode() == 404 ? "unmatched"
                        : ctx.path().replaceAll("^/v1/generations/[^/]+", "/v1/generations/{id}"),
                        ctx.statusCode()));
                c.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e.status(), e.field(), e.getMessage(),
                        e.retryAfterSeconds()));
                c.routes.exception(io.conditio.api.InvalidRequestException.class, (e, ctx) ->
                        error(ctx, 400, null, e.getMessage(), null));
                c.routes.exception(io.javalin.http.HttpResponseException.class, (e, ctx) ->
                        error(ctx, e.getStatus(), null, e.getMessage(), null));
                c.routes.exception(Exception.class, (e, ctx) -> {
                    LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
                    error(ctx, 500, null, e.getClass().getSimpleName() + ": " + e.getMessage(), null);
                });
                c.routes.error(404, ctx -> {
                    if (ctx.result() == null || ctx.result().isEmpty()) {
                        error(ctx, 404, null, "no endpoint " + ctx.method() + " " + ctx.path(), null);
                    }
                });
                c.routes.get("/health", this::health);
                c.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                        .result(metrics.scrape()));
                c.routes.get("/", ctx -> page(ctx, "index.html", "text/html; charset=utf-8"));
                c.routes.get("/app.js", ctx -> page(ctx, "app.js", "text/javascript; charset=utf-8"));
                c.routes.get("/style.css", ctx -> page(ctx, "style.css", "text/css; charset=utf-8"));
                a1111.register(c.routes);
                nativeApi.register(c.routes);
            });
            this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "conditio-model-sweeper");
                t.setDaemon(true);
                return t;
            });
            long every = Math.max(1, Math.min(30, config.idleClose().toSeconds() / 2));
            sweeper.scheduleWithFixedDelay(catalog::closeIdle, every, every, TimeUnit.SECONDS);
        } catch (RuntimeException e) {
            closeWatch();
            conditio.close();
            throw e;
        }
    }

    private record Schedulers(io.conditio.core.plugin.PluginHost.View view, SchedulerCatalog catalog) {
    }

    private volatile Schedulers schedulers;

    /** @return the scheduler catalog of the plugins new generations use, built again after a reload */
    private SchedulerCatalog schedulers() {
        io.conditio.core.plugin.PluginHost.View now = conditio.plugins().view();
        Schedulers s = schedulers;
        if (s == null || s.view() != now) {
            s = new Schedulers(now, new SchedulerCatalog(now.extensions(SchedulerProvider.class)));
            schedulers = s;
        }
        return s.catalog();
    }

    private void reported(String line) {
        pluginReloads.add(line);
        pluginReport.accept(line);
        if (line.startsWith("reloaded ")) {
            LOG.info(line);
        } else {
            LOG.warn(line);
        }
    }

    /**
     * @return what reloading the development plugins said so far, one line each ({@code reloaded ID VERSION}, or
     *     {@code reload of ID failed: REASON (still running VERSION)}); empty without development plugins
     */
    public java.util.List<String> pluginReloads() {
        return java.util.List.copyOf(pluginReloads);
    }

    private void closeWatch() {
        if (devWatch != null) {
            try {
                devWatch.close();
            } catch (Exception e) {
                LOG.warn("stopping the development plugin watch failed", e);
            }
        }
    }

    /**
     * Starts a server and returns once it answers.
     *
     * @param config how to run
     * @return the running server; close it to stop
     */
    public static ConditioServer start(ServerConfig config) {
        return start(config, line -> { });
    }

    /**
     * Starts a server and returns once it answers; what its development plugins do is also told to a listener.
     *
     * @param config       how to run
     * @param pluginReport gets one line per development plugin event: {@code warning: ...} at the start, then
     *                     {@code reloaded ID VERSION} or {@code reload of ID failed: REASON (still running VERSION)}
     *                     after each rebuild, on the watching thread
     * @return the running server; close it to stop
     */
    public static ConditioServer start(ServerConfig config, java.util.function.Consumer<String> pluginReport) {
        ConditioServer s = new ConditioServer(config, pluginReport);
        try {
            s.app.start();
            for (Connector c : s.app.jettyServer().server().getConnectors()) {
                if (c instanceof ServerConnector sc) {
                    sc.setIdleTimeout(LONG_REQUEST_MS); // a synchronous txt2img may run for minutes
                }
            }
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** @return the port it listens on */
    public int port() {
        return app.port();
    }

    /** @return {@code http://HOST:PORT} */
    public String url() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    private int queueDepth() {
        return queue == null ? 0 : queue.waitingCount();
    }

    private int openModelCount() {
        return catalog == null ? 0 : catalog.openModels().size();
    }

    private int running() {
        return queue == null ? 0 : queue.runningCount();
    }

    private void guard(Context ctx) {
        if (ctx.method() == HandlerType.OPTIONS) {
            return; // CORS preflight carries no credentials
        }
        String path = ctx.path();
        boolean open = path.equals("/health") || path.equals("/") || path.equals("/app.js")
                || path.equals("/style.css");
        if (apiKeyDigest != null && !open) {
            String auth = ctx.header("Authorization");
            String token = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).strip()
                    : null;
            boolean valid = token != null && MessageDigest.isEqual(digest(token), apiKeyDigest);
            if (!valid && auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
                // A1111 clients (webuiapi, Open WebUI, SillyTavern) send --api-auth credentials as HTTP Basic: the
                // key is taken as the password, or as the whole user:password
                token = basicCredentials(auth.substring(6).strip());
                if (token != null) {
                    int colon = token.indexOf(':');
                    boolean whole = MessageDigest.isEqual(digest(token), apiKeyDigest);
                    boolean password = colon >= 0
                            && MessageDigest.isEqual(digest(token.substring(colon + 1)), apiKeyDigest);
                    valid = whole | password;
                }
            }
            if (!valid) {
                ctx.header("WWW-Authenticate", "Bearer");
                throw new ApiError(401, "Authorization", auth == null
                        ? "this server needs an API key: send 'Authorization: Bearer KEY'"
                        : "the API key is not valid");
            }
        }
        if (path.endsWith("/events") && !String.valueOf(ctx.header("Accept")).contains("text/event-stream")) {
            throw new ApiError(406, "Accept", "the event stream needs 'Accept: text/event-stream'");
        }
        long length = ctx.contentLength();
        if (length > config.limits().maxRequestBytes()) {
            throw new ApiError(413, "body", "body: " + length + " bytes; this server takes at most "
                    + config.limits().maxRequestBytes());
        }
        if (stopping && ctx.method() == HandlerType.POST) {
            throw new ApiError(503, null, "the server is shutting down");
        }
    }

    private static String basicCredentials(String base64) {
        try {
            return new String(java.util.Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static byte[] digest(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void error(Context ctx, int status, String field, String text, Integer retryAfter) {
        String message = catalog == null ? text : catalog.redact(text);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        body.put("field", field);
        body.put("detail", message);
        if (retryAfter != null) {
            ctx.header("Retry-After", Integer.toString(retryAfter));
            body.put("retry_after", retryAfter);
        }
        ctx.status(status).json(body);
    }

    private void health(Context ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", stopping ? "stopping" : "ok");
        m.put("version", Versions.conditio());
        m.put("queued", queue.waitingCount());
        m.put("running", queue.runningCount());
        m.put("models", catalog.models().keySet());
        m.put("open_models", catalog.openModels());
        m.put("model_memory_budget", catalog.memoryBudget());
        ctx.status(stopping ? 503 : 200).json(m);
    }

    private static void page(Context ctx, String file, String type) throws IOException {
        try (InputStream in = ConditioServer.class.getResourceAsStream("web/" + file)) {
            if (in == null) {
                throw ApiError.notFound("no page resource " + file);
            }
            ctx.contentType(type).header("Cache-Control", "no-cache").result(in.readAllBytes());
        }
    }

    /**
     * Stops gracefully: new generations get 503, waiting ones are cancelled, running ones may finish within the
     * grace period and are cancelled after it; then the HTTP server, the models and the plugins stop.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopping = true;
        try {
            if (queue != null) {
                queue.shutdown(config.shutdownGrace());
            }
        } finally {
            if (app != null) {
                app.stop();
            }
            if (sweeper != null) {
                sweeper.shutdownNow();
            }
            if (queue != null) {
                queue.close();
            }
            if (catalog != null) {
                catalog.close();
            }
            closeWatch();
            conditio.close();
        }
    }
}
