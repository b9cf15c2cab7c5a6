package io.conditio.core;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Provides;
import com.google.inject.ProvisionException;
import com.google.inject.Singleton;
import io.conditio.api.ConditioException;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.SessionSettings;
import io.conditio.core.parameters.ParameterCatalog;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.plugin.PluginHost;
import java.nio.file.Path;
import java.util.List;

/**
 * The entry point for host applications: starts the plugin host once and opens pipelines on model folders.
 *
 * <pre>{@code
 * try (Conditio conditio = Conditio.start(List.of(Path.of("plugins")));
 *      Pipeline pipeline = conditio.open(Path.of("models/sd-tiny"))) {
 *     GenerationResult result = pipeline.generate(GenerationRequest.builder().setPrompt("a red circle").build());
 * }
 * }</pre>
 *
 * Wiring is done with Guice; the injector is the parent of every plugin's child injector, so extensions can inject
 * what the host binds here.
 */
public final class Conditio implements AutoCloseable {
    private final Injector injector;
    private final PluginHost host;

    private Conditio(Injector injector) {
        this.injector = injector;
        this.host = injector.getInstance(PluginHost.class);
    }

    /**
     * Loads and starts the plugins in the given directories.
     *
     * @param pluginDirectories directories holding plugin jars or zips
     * @return a started runtime
     * @throws io.conditio.api.PluginFailureException when a directory does not exist
     */
    public static Conditio start(List<Path> pluginDirectories) {
        return start(pluginDirectories, List.of());
    }

    /**
     * Loads and starts the plugins in the given directories and, in development mode, plugins straight from their
     * build output. A development plugin is trusted because it is named here: no lock file applies to it, so name
     * only folders you build yourself, never one taken from a request. {@link PluginHost#reload()} and
     * {@link PluginHost#watch} load a rebuilt one again without a restart; generations running meanwhile finish
     * with the version they started with.
     *
     * <pre>{@code
     * try (Conditio conditio = Conditio.start(List.of(Path.of("plugins")), List.of(Path.of("my-plugin")));
     *      AutoCloseable watch = conditio.plugins().watch(Duration.ofMillis(500), Duration.ofSeconds(1),
     *              System.err::println)) {
     *     ...
     * }
     * }</pre>
     *
     * @param pluginDirectories directories holding plugin jars
     * @param devPlugins        plugin project folders (holding {@code target/classes}) or classes folders
     * @return a started runtime
     * @throws io.conditio.api.PluginFailureException when a directory does not exist or a development plugin
     *     cannot be loaded, saying why
     */
    public static Conditio start(List<Path> pluginDirectories, List<Path> devPlugins) {
        try {
            return new Conditio(Guice.createInjector(new CoreModule(pluginDirectories, devPlugins)));
        } catch (ProvisionException e) {
            // Guice wraps what the plugin host threw; callers should see the host's own message
            if (e.getCause() instanceof ConditioException c) {
                throw c;
            }
            throw e;
        }
    }

    /** @return the plugin host */
    public PluginHost plugins() {
        return host;
    }

    /**
     * @return the request parameters the loaded plugins and the host declare (read anew on each call); a host
     *     renders forms or JSON Schema from it, and every pipeline validates requests against it
     */
    public ParameterCatalog parameters() {
        return ParameterCatalog.of(host);
    }

    /** @return the Guice injector of the host */
    public Injector injector() {
        return injector;
    }

    /**
     * Opens a model folder with this runtime's plugins.
     *
     * @param modelFolder a diffusers/optimum ONNX model folder
     * @return a pipeline; close it to release its ONNX sessions
     */
    public Pipeline open(Path modelFolder) {
        return new Pipeline(ModelFolder.open(modelFolder), host);
    }

    /**
     * Opens a model folder with this runtime's plugins, its ONNX sessions opened with the given settings.
     *
     * <pre>{@code
     * SessionSettings settings = SessionSettings.builder().optIntraOpThreads(2).optDevice(Device.parse("cuda")).build();
     * try (Pipeline pipeline = conditio.open(Path.of("models/sd-tiny"), settings)) { ... }
     * }</pre>
     *
     * @param modelFolder a diffusers/optimum ONNX model folder
     * @param settings    threads, execution mode, memory arena, device and optimised-model cache
     * @return a pipeline; close it to release its ONNX sessions
     */
    public Pipeline open(Path modelFolder, SessionSettings settings) {
        return new Pipeline(ModelFolder.open(modelFolder, settings), host);
    }

    /** Stops the plugins. Pipelines opened from this runtime must be closed first. */
    @Override
    public void close() {
        host.close();
    }

    /** The core's bindings. */
    static final class CoreModule extends AbstractModule {
        private final List<Path> pluginDirectories;
        private final List<Path> devPlugins;

        CoreModule(List<Path> pluginDirectories, List<Path> devPlugins) {
            this.pluginDirectories = List.copyOf(pluginDirectories);
            this.devPlugins = List.copyOf(devPlugins);
        }

        @Provides
        @Singleton
        PluginHost pluginHost(Injector injector) {
            return new PluginHost(pluginDirectories, devPlugins, injector);
        }
    }
}
