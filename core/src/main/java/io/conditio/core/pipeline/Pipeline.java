package io.conditio.core.pipeline;

import io.conditio.api.AfterStepCallback;
import io.conditio.api.BeforeStepCallback;
import io.conditio.api.Conditioner;
import io.conditio.api.WeightPatcher;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Model;
import io.conditio.api.SchedulerProvider;
import io.conditio.core.HostThreads;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.Cancellation;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.parameters.ParameterCatalog;
import io.conditio.core.plugin.PluginGuard;
import io.conditio.core.plugin.PluginHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A model folder with its plugins resolved: immutable and thread-safe. Holds the ONNX sessions (opened on first use,
 * one per model file, shared by all generations) and the extensions, looked up once. Each {@link #generate} call gets
 * fresh per-request state: scheduler, generator, conditionings. A generation stops within one step when its thread is
 * interrupted, when it runs past {@link GenerationRequest#timeout()}, or, when started with {@link #submit}, when its
 * future is cancelled.
 */
public final class Pipeline implements AutoCloseable {
    private final ModelFolder folder;
    private final PluginHost host;
    private final PluginGuard guard;
    /** The extensions of the host's current view, resolved once per view. */
    private volatile Plugins plugins;
    private final Map<Path, OnnxModel> extraModels = new ConcurrentHashMap<>();
    private final Set<GenerationTask> submitted = ConcurrentHashMap.newKeySet();
    private ExecutorService executor;
    private volatile boolean closed;

    /**
     * @param folder the model folder; the pipeline takes ownership and closes it
     * @param host   the plugin host whose extensions the pipeline uses
     */
    public Pipeline(ModelFolder folder, PluginHost host) {
        this.folder = folder;
        this.host = host;
        this.guard = new PluginGuard(host);
        this.plugins = new Plugins(host.view());
    }

    /**
     * The extensions of one view of the host's plugins, as a generation uses them from start to end.
     *
     * @param view the view they come from
     * @param schedulers the scheduler catalog
     * @param conditioners the conditioners, in plugin order
     * @param weightPatchers the weight patchers
     * @param guidanceProviders the guidance providers
     * @param beforeStep the before-step hooks
     * @param afterStep the after-step hooks
     * @param parameters the declared parameters
     */
    record Plugins(PluginHost.View view, SchedulerCatalog schedulers, List<Conditioner> conditioners,
            List<WeightPatcher> weightPatchers, List<GuidanceProvider> guidanceProviders,
            List<BeforeStepCallback> beforeStep, List<AfterStepCallback> afterStep, ParameterCatalog parameters) {
        Plugins(PluginHost.View view) {
            this(view, new SchedulerCatalog(view.extensions(SchedulerProvider.class)),
                    view.extensions(Conditioner.class), view.extensions(WeightPatcher.class),
                    view.extensions(GuidanceProvider.class), view.extensions(BeforeStepCallback.class),
                    view.extensions(AfterStepCallback.class), ParameterCatalog.of(view));
        }
    }

    /** @return the extensions of the given view, resolved anew when a reload replaced the previous one */
    private Plugins plugins(PluginHost.View view) {
        Plugins p = plugins;
        if (p.view() != view) {
            p = new Plugins(view);
            plugins = p;
        }
        return p;
    }

    /**
     * Generates an image.
     *
     * @param request the request
     * @return images, final latents and provenance
     * @throws io.conditio.api.ConditioException (a subtype) saying what was wrong; everything the generation
     *     allocated is released and the pipeline stays usable. Request parameters are validated against the
     *     plugins' declarations ({@link #parameters()}) before anything runs.
     */
    public GenerationResult generate(GenerationRequest request) {
        return run(request, Cancellation.start(request.timeout()));
    }

    /**
     * Starts a generation on the pipeline's own threads (daemon threads, one per running generation).
     *
     * <p>The future's {@code cancel} stops the generation within one step, terminating an ONNX Runtime call in
     * flight; {@code get} then waits until it has stopped and released what it allocated, and throws a
     * {@link java.util.concurrent.CancellationException} whose cause is the
     * {@link io.conditio.api.GenerationCancelledException} naming the step. A failure, a time limit
     * ({@link GenerationRequest#timeout()}) included, is the cause of the
     * {@link java.util.concurrent.ExecutionException}.
     *
     * @param request the request
     * @return the generation's future
     * @throws java.util.concurrent.RejectedExecutionException when the pipeline is closed
     */
    public Future<GenerationResult> submit(GenerationRequest request) {
        return submit(request, executor());
    }

    /**
     * Starts a generation on the given executor; otherwise as {@link #submit(GenerationRequest)}.
     *
     * @param request the request
     * @param executor runs the generation
     * @return the generation's future
     */
    public Future<GenerationResult> submit(GenerationRequest request, Executor executor) {
        Objects.requireNonNull(request, "request");
        if (closed) {
            throw new RejectedExecutionException("pipeline on " + folder.root() + " is closed");
        }
        parameters().validate(request.parameters());
        GenerationTask task = new GenerationTask(this, request, submitted::remove);
        submitted.add(task);
        try {
            executor.execute(task);
        } catch (RuntimeException e) {
            submitted.remove(task);
            throw e;
        }
        return task;
    }

    /** Runs a generation on the calling thread under the given stop signal. */
    GenerationResult run(GenerationRequest request, Cancellation cancellation) {
        // the lease keeps the plugins this generation starts with loaded until it ends, across a reload
        try (Cancellation.Scope scope = cancellation.enter(); PluginHost.Lease lease = host.lease()) {
            Plugins resolved = plugins(lease.view());
            resolved.parameters().validate(request.parameters());
            cancellation.check();
            return new Generation(this, resolved, request).run();
        }
    }

    private ExecutorService executor() {
        synchronized (submitted) {
            if (closed) {
                throw new RejectedExecutionException("pipeline on " + folder.root() + " is closed");
            }
            if (executor == null) {
                executor = Executors.newCachedThreadPool(HostThreads.daemon("conditio-generation", true));
            }
            return executor;
        }
    }

    /** @return the model folder */
    public ModelFolder folder() {
        return folder;
    }

    /**
     * @return the request parameters the plugins and the host declare, which every request is validated against
     *     (those of the plugins new generations use, after a reload the new ones)
     */
    public ParameterCatalog parameters() {
        return plugins(host.view()).parameters();
    }

    /** @return the scheduler catalog built from the plugins new generations use */
    public SchedulerCatalog schedulers() {
        return plugins(host.view()).schedulers();
    }

    PluginHost host() {
        return host;
    }

    PluginGuard guard() {
        return guard;
    }

    Model extraModel(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path onnx = Files.isDirectory(abs) ? abs.resolve("model.onnx") : abs;
        return extraModels.computeIfAbsent(onnx, p -> OnnxModel.open(
                (Files.isDirectory(abs) ? abs : abs.getParent()).getFileName().toString(), p,
                folder.sessionSettings()));
    }

    /**
     * Cancels the generations submitted and not yet finished, waits (up to 30 s) for them to stop, and closes every
     * ONNX session of this pipeline.
     */
    @Override
    public void close() {
        ExecutorService pool;
        synchronized (submitted) {
            closed = true;
            pool = executor;
        }
        for (GenerationTask task : List.copyOf(submitted)) {
            task.cancel(true);
        }
        if (pool != null) {
            pool.shutdown();
            try {
                pool.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        extraModels.values().forEach(OnnxModel::close);
        extraModels.clear();
        folder.close();
    }
}
