package io.conditio.plugins.concat;

import io.conditio.api.Conditioner;
import io.conditio.api.ConditioningContext;
import io.conditio.api.GenerationRequest;
import io.conditio.core.testing.ShapesConditionerContract;
import io.conditio.core.testing.ShapesFixture;
import io.conditio.tck.TestModels;
import java.util.List;
import java.util.Map;

/**
 * The conformance kit's conditioner contract for instruct-pix2pix image channels: the shipped model's VAE encodes
 * the image; the UNet is an 8-channel signature (the conditioner reads only its inputs).
 */
class ImageConditionerContractTest extends ShapesConditionerContract {
    @Override
    protected Conditioner conditioner() {
        return new ImageConditioner();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().setPrompt("make it blue").optGuidanceScale(3).optSeed(1)
                .optParameter(InpaintConditioner.INIT, ShapesFixture.image("docs/examples/inpaint-init.png"))
                .optParameter(Pix2Pix.IMAGE_GUIDANCE, 1.5).build();
    }

    @Override
    protected GenerationRequest otherRequest() {
        return request().toBuilder()
                .optParameter(InpaintConditioner.INIT, ShapesFixture.image("docs/examples/sketch-square-41-24.png"))
                .build();
    }

    @Override
    protected ConditioningContext context(GenerationRequest request) {
        return shapes().context(request, "unet").unet(TestModels.unet(8, 4)).build();
    }

    @Override
    protected Map<String, Object> invalidParameters() {
        return Map.of(InpaintConditioner.INIT, 42L);
    }

    @Override
    protected List<Refusal> refusedRequests() {
        return List.of(new Refusal(request().toBuilder().optParameter(InpaintConditioner.MASK,
                ShapesFixture.image("docs/examples/inpaint-mask-bottom-right.png")).build(), "--image-guidance"));
    }
}
