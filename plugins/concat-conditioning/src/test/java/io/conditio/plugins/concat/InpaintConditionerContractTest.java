package io.conditio.plugins.concat;

import io.conditio.api.Conditioner;
import io.conditio.api.GenerationRequest;
import io.conditio.api.RgbImage;
import io.conditio.core.testing.ShapesConditionerContract;
import io.conditio.core.testing.ShapesFixture;
import java.util.List;
import java.util.Map;

/** The conformance kit's conditioner contract for inpainting, on the shipped model's 9-channel UNet and VAE. */
class InpaintConditionerContractTest extends ShapesConditionerContract {
    @Override
    protected Conditioner conditioner() {
        return new InpaintConditioner();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().setPrompt("a large green square at the bottom right").optGuidanceScale(3)
                .optSeed(1).optParameter(InpaintConditioner.INIT, ShapesFixture.image("docs/examples/inpaint-init.png"))
                .optParameter(InpaintConditioner.MASK,
                        ShapesFixture.image("docs/examples/inpaint-mask-bottom-right.png")).build();
    }

    @Override
    protected GenerationRequest otherRequest() {
        return request().toBuilder().optSeed(2)
                .optParameter(InpaintConditioner.INIT, ShapesFixture.image("docs/examples/sketch-square-41-24.png"))
                .build();
    }

    @Override
    protected String unet() {
        return "unet-inpaint";
    }

    @Override
    protected Map<String, Object> invalidParameters() {
        return Map.of(InpaintConditioner.MASK, 42L, InpaintConditioner.INIT, "init.png");
    }

    @Override
    protected List<Refusal> refusedRequests() {
        return List.of(new Refusal(request().toBuilder()
                .optParameter(InpaintConditioner.MASK, new RgbImage(32, 32, new float[32 * 32 * 3])).build(),
                "is 32x32 but the generation is 64x64"));
    }
}
