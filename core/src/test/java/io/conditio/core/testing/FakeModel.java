package io.conditio.core.testing;

import io.conditio.api.Model;
import io.conditio.api.ModelConfig;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.core.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A model for plugin unit tests that is mostly metadata: declared inputs and outputs, the config.json beside its file
 * as the core's models read it, and a run that is a function of the feed (by default it refuses to run). Every feed
 * is recorded. Shared through the core's test jar.
 */
public final class FakeModel implements Model {
    private final String name;
    private final Path path;
    private final Map<String, TensorSpec> inputs = new LinkedHashMap<>();
    private final Map<String, TensorSpec> outputs = new LinkedHashMap<>();
    private final List<Map<String, ? extends Tensor>> feeds = new ArrayList<>();
    private Function<Map<String, ? extends Tensor>, Map<String, Tensor>> body = feed -> {
        throw new UnsupportedOperationException("metadata only");
    };

    /**
     * @param name the model's name
     * @param path its (possibly fake) model file
     */
    public FakeModel(String name, Path path) {
        this.name = name;
        this.path = path;
    }

    /** @param path its (possibly fake) model file, whose file name is the model's name */
    public FakeModel(Path path) {
        this(path.getFileName().toString(), path);
    }

    /**
     * @param specs inputs to declare, in order
     * @return this model
     */
    public FakeModel in(TensorSpec... specs) {
        for (TensorSpec s : specs) {
            inputs.put(s.name(), s);
        }
        return this;
    }

    /**
     * @param specs outputs to declare, in order
     * @return this model
     */
    public FakeModel out(TensorSpec... specs) {
        for (TensorSpec s : specs) {
            outputs.put(s.name(), s);
        }
        return this;
    }

    /**
     * @param body what a run returns for a feed
     * @return this model
     */
    public FakeModel runs(Function<Map<String, ? extends Tensor>, Map<String, Tensor>> body) {
        this.body = body;
        return this;
    }

    /** @return the feeds of every run so far, in order */
    public List<Map<String, ? extends Tensor>> feeds() {
        return feeds;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Path path() {
        return path;
    }

    /** @return the config.json beside the model file, read as the core's models read it, or the empty config */
    @Override
    public ModelConfig config() {
        return OnnxModel.configBeside(path);
    }

    @Override
    public Map<String, TensorSpec> inputs() {
        return inputs;
    }

    @Override
    public Map<String, TensorSpec> outputs() {
        return outputs;
    }

    @Override
    public Map<String, Tensor> run(Map<String, ? extends Tensor> feed) {
        feeds.add(feed);
        return body.apply(feed);
    }

    @Override
    public String toString() {
        return name + " (" + path + ")";
    }
}
