package io.conditio.plugins.controlnet;

import io.conditio.api.Conditioner;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.core.testing.ShapesConditionerContract;
import io.conditio.core.testing.ShapesFixture;
import io.conditio.tck.TestRandom;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The conformance kit's conditioner contract for ControlNet: the shipped model's ControlNet runs every call, on the
 * UNet that takes its residuals; the text encoder's hidden states it reads are seeded noise of their shape.
 */
class ControlNetConditionerContractTest extends ShapesConditionerContract {
    private static Map<String, Object> net(String image, double scale) {
        return Map.of(ControlNetConditioner.MODEL, ShapesFixture.root().resolve("controlnet"),
                ControlNetConditioner.IMAGE, ShapesFixture.image(image), ControlNetConditioner.SCALE, scale);
    }

    @Override
    protected Conditioner conditioner() {
        return new ControlNetConditioner();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().setPrompt("a large blue triangle").optGuidanceScale(3).optSeed(1)
                .optParameter(ControlNetConditioner.CONTROLNETS,
                        List.of(net("docs/examples/control-triangle-bottom-right.png", 0.8))).build();
    }

    @Override
    protected GenerationRequest otherRequest() {
        return request().toBuilder().optParameter(ControlNetConditioner.CONTROLNETS,
                List.of(net("docs/examples/sketch-square-41-24.png", 1.0))).build();
    }

    @Override
    protected String unet() {
        return "unet-controlnet";
    }

    /** A UNet that takes residuals gets zeros from it when no ControlNet is asked for. */
    @Override
    protected boolean actsOnEveryRequest() {
        return true;
    }

    @Override
    protected Map<String, Tensor> inputsFromEarlierConditionings(int batch) {
        TensorSpec hidden = shapes().folder().model("unet-controlnet").inputs().get(ControlNetConditioner.HIDDEN);
        return Map.of(ControlNetConditioner.HIDDEN, new TestRandom(7).randn(batch, 77, (int) hidden.dim(2)));
    }

    @Override
    protected Map<String, Object> invalidParameters() {
        return Map.of(ControlNetConditioner.CONTROLNETS, List.of(Map.of(ControlNetConditioner.MODEL,
                ShapesFixture.root().resolve("controlnet"))));
    }

    @Override
    protected List<Refusal> refusedRequests() {
        Path missing = ShapesFixture.root().resolve("no-such-controlnet");
        return List.of(new Refusal(request().toBuilder().optParameter(ControlNetConditioner.CONTROLNETS,
                List.of(Map.of(ControlNetConditioner.MODEL, missing, ControlNetConditioner.IMAGE,
                        ShapesFixture.image("docs/examples/control-triangle-bottom-right.png")))).build(),
                "no-such-controlnet"));
    }
}
