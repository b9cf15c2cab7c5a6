package io.conditio.plugins.t2iadapter;

import io.conditio.api.Conditioner;
import io.conditio.api.GenerationRequest;
import io.conditio.core.testing.ShapesConditionerContract;
import io.conditio.core.testing.ShapesFixture;
import java.util.List;
import java.util.Map;

/** The conformance kit's conditioner contract for T2I-Adapter, with the shipped model's sketch adapter and UNet. */
class T2IAdapterConditionerContractTest extends ShapesConditionerContract {
    private static Map<String, Object> adapter(String image, double scale) {
        return Map.of(T2IAdapterConditioner.MODEL, ShapesFixture.root().resolve("t2i-adapter"),
                T2IAdapterConditioner.IMAGE, ShapesFixture.image(image), T2IAdapterConditioner.SCALE, scale);
    }

    @Override
    protected Conditioner conditioner() {
        return new T2IAdapterConditioner();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().setPrompt("a red circle").optGuidanceScale(3).optSeed(1)
                .optParameter(T2IAdapterConditioner.ADAPTERS,
                        List.of(adapter("docs/examples/sketch-circle-22-40.png", 1.0))).build();
    }

    @Override
    protected GenerationRequest otherRequest() {
        return request().toBuilder().optParameter(T2IAdapterConditioner.ADAPTERS,
                List.of(adapter("docs/examples/sketch-square-41-24.png", 0.7))).build();
    }

    @Override
    protected String unet() {
        return "unet-adapter";
    }

    /** A UNet that takes adapter features gets zeros from it when no adapter is asked for. */
    @Override
    protected boolean actsOnEveryRequest() {
        return true;
    }

    @Override
    protected Map<String, Object> invalidParameters() {
        Map<String, Object> tooLate = new java.util.HashMap<>(adapter("docs/examples/sketch-circle-22-40.png", 1.0));
        tooLate.put(T2IAdapterConditioner.FACTOR, 1.5);
        return Map.of(T2IAdapterConditioner.ADAPTERS, List.of(tooLate));
    }

    @Override
    protected List<Refusal> refusedRequests() {
        return List.of(new Refusal(request().toBuilder().optParameter(T2IAdapterConditioner.ADAPTERS,
                List.of(Map.of(T2IAdapterConditioner.MODEL, ShapesFixture.root().resolve("no-such-adapter"),
                        T2IAdapterConditioner.IMAGE, ShapesFixture.image("docs/examples/sketch-circle-22-40.png"))))
                .build(), "no-such-adapter"));
    }
}
