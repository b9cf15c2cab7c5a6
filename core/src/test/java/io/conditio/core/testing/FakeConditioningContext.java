package io.conditio.core.testing;

import io.conditio.api.ConditioningContext;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.Model;
import io.conditio.api.RandomSource;
import io.conditio.api.RgbImage;
import io.conditio.api.TextTokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A conditioning context for plugin unit tests: a request, a UNet and the guidance branches; the size is the
 * request's (64×64 by default), there are no other components or tokenizers, and what needs a real host (loading
 * models, the VAE, the random source) throws. Subclasses fake more. Shared through the core's test jar.
 */
public class FakeConditioningContext implements ConditioningContext {
    private final GenerationRequest request;
    private final Model unet;
    private final List<GuidanceBranch> branches;

    /**
     * @param request  the request
     * @param unet     the UNet
     * @param branches the guidance branches, in batch order
     */
    public FakeConditioningContext(GenerationRequest request, Model unet, List<GuidanceBranch> branches) {
        this.request = request;
        this.unet = unet;
        this.branches = branches;
    }

    /** @return unconditional and conditional, classifier-free guidance's branches */
    public static List<GuidanceBranch> cfg() {
        return List.of(GuidanceBranch.UNCONDITIONAL, GuidanceBranch.CONDITIONAL);
    }

    @Override
    public GenerationRequest request() {
        return request;
    }

    @Override
    public Model unet() {
        return unet;
    }

    @Override
    public Optional<Model> component(String component) {
        return Optional.empty();
    }

    @Override
    public Model loadModel(Path modelFile) {
        throw new UnsupportedOperationException("loadModel is not faked");
    }

    @Override
    public Optional<TextTokenizer> tokenizer(String name) {
        return Optional.empty();
    }

    @Override
    public FloatTensor encodeImage(RgbImage image) {
        throw new UnsupportedOperationException("encodeImage is not faked");
    }

    @Override
    public FloatTensor encodeImageMode(RgbImage image) {
        throw new UnsupportedOperationException("encodeImageMode is not faked");
    }

    @Override
    public RandomSource random() {
        throw new UnsupportedOperationException("random is not faked");
    }

    @Override
    public List<GuidanceBranch> branches() {
        return branches;
    }

    @Override
    public int[] latentShape() {
        return new int[] {1, 4, height() / 8, width() / 8};
    }

    @Override
    public int width() {
        return request.width().orElse(64);
    }

    @Override
    public int height() {
        return request.height().orElse(64);
    }
}
