package io.conditio.core.pipeline;

import io.conditio.api.AfterStepCallback;
import io.conditio.api.BeforeStepCallback;
import io.conditio.api.Conditioner;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Model;
import io.conditio.api.SchedulerProvider;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.plugin.PluginHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model folder with its plugins resolved: immutable and thread-safe. Holds the ONNX sessions (opened on first use,
 * one per model file, shared by all generations) and the extensions, looked up once. Each {@link #generate} call gets
 * fresh per-request state: scheduler, generator, conditionings.
 */
public final class Pipeline implements AutoCloseable {
    private final ModelFolder folder;
    private final SchedulerCatalog schedulers;
    private final List<Conditioner> conditioners;
    private final List<GuidanceProvider> guidanceProviders;
    private final List<BeforeStepCallback> beforeStep;
    private final List<AfterStepCallback> afterStep;
    private final PluginHost host;
    private final Map<Path, OnnxModel> extraModels = new ConcurrentHashMap<>();

    /**
     * @param folder the model folder; the pipeline takes ownership and closes it
     * @param host   the plugin host whose extensions the pipeline uses
     */
    public Pipeline(ModelFolder folder, PluginHost host) {
        this.folder = folder;
        this.host = host;
        this.schedulers = new SchedulerCatalog(host.extensions(SchedulerProvider.class));
        this.conditioners = host.extensions(Conditioner.class);
        this.guidanceProviders = host.extensions(GuidanceProvider.class);
        this.beforeStep = host.extensions(BeforeStepCallback.class);
        this.afterStep = host.extensions(AfterStepCallback.class);
    }

    /**
     * Generates an image.
     *
     * @param request the request
     * @return images, final latents and provenance
     * @throws io.conditio.api.ConditioException (a subtype) saying what was wrong; everything the generation
     *     allocated is released and the pipeline stays usable
     */
    public GenerationResult generate(GenerationRequest request) {
        return new Generation(this, request).run();
    }

    /** @return the model folder */
    public ModelFolder folder() {
        return folder;
    }

    /** @return the scheduler catalog built from the plugins */
    public SchedulerCatalog schedulers() {
        return schedulers;
    }

    List<Conditioner> conditioners() {
        return conditioners;
    }

    List<GuidanceProvider> guidanceProviders() {
        return guidanceProviders;
    }

    List<BeforeStepCallback> beforeStepHooks() {
        return beforeStep;
    }

    List<AfterStepCallback> afterStepHooks() {
        return afterStep;
    }

    PluginHost host() {
        return host;
    }

    Model extraModel(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path onnx = Files.isDirectory(abs) ? abs.resolve("model.onnx") : abs;
        return extraModels.computeIfAbsent(onnx, p -> OnnxModel.open(
                (Files.isDirectory(abs) ? abs : abs.getParent()).getFileName().toString(), p));
    }

    /** Closes every ONNX session of this pipeline. */
    @Override
    public void close() {
        extraModels.values().forEach(OnnxModel::close);
        extraModels.clear();
        folder.close();
    }
}
