package io.conditio.plugins.film;

import static io.conditio.core.testing.InterfaceFakes.as;

import io.conditio.api.ConditioningContext;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.Model;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.api.TextTokenizer;
import io.conditio.core.testing.InterfaceFakes;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A conditioning context around a UNet that is only metadata. The fakes are dynamic proxies ({@code InterfaceFakes.as}) so they
 * keep compiling when the SPI interfaces gain methods.
 */
final class FakeContext {
    private final GenerationRequest request;
    private final Model unet;
    private final List<GuidanceBranch> branches;

    FakeContext(GenerationRequest request, Model unet, List<GuidanceBranch> branches) {
        this.request = request;
        this.unet = unet;
        this.branches = branches;
    }

    /** @return this fake as a ConditioningContext */
    ConditioningContext view() {
        return as(ConditioningContext.class, this);
    }


    static List<GuidanceBranch> cfg() {
        return List.of(GuidanceBranch.UNCONDITIONAL, GuidanceBranch.CONDITIONAL);
    }

    /** A model with the given inputs (name → spec), at a path. */
    static Model model(Path path, TensorSpec... inputs) {
        Map<String, TensorSpec> in = new LinkedHashMap<>();
        for (TensorSpec s : inputs) {
            in.put(s.name(), s);
        }
        return as(Model.class, new Object() {
            public String name() {
                return "unet";
            }

            public Path path() {
                return path;
            }

            public io.conditio.api.ModelConfig config() {

                return InterfaceFakes.configBeside(path);

            }

            public Map<String, TensorSpec> inputs() {
                return in;
            }

            public Map<String, TensorSpec> outputs() {
                return Map.of();
            }

            public Map<String, Tensor> run(Map<String, ? extends Tensor> inputs) {
                throw new UnsupportedOperationException("metadata only");
            }

            @Override
            public String toString() {
                return "unet (" + path + ")";
            }
        });
    }

    public GenerationRequest request() {
        return request;
    }

    public Model unet() {
        return unet;
    }

    public Optional<Model> component(String component) {
        return Optional.empty();
    }

    public Optional<TextTokenizer> tokenizer(String name) {
        return Optional.empty();
    }


    public List<GuidanceBranch> branches() {
        return branches;
    }

    public int[] latentShape() {
        return new int[] {1, 4, height() / 8, width() / 8};
    }

    public int width() {
        return request.width().orElse(64);
    }

    public int height() {
        return request.height().orElse(64);
    }
}
