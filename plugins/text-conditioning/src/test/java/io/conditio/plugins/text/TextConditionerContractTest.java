package io.conditio.plugins.text;

import io.conditio.api.Conditioner;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.core.testing.ShapesConditionerContract;
import java.util.List;
import java.util.Map;

/** The conformance kit's conditioner contract for CLIP text conditioning, on the shipped model's text encoder. */
class TextConditionerContractTest extends ShapesConditionerContract {
    @Override
    protected Conditioner conditioner() {
        return new TextConditioner();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().setPrompt("a (red:1.2) circle at the top left")
                .optNegativePrompt("a square").optGuidanceScale(3).optSeed(1).build();
    }

    @Override
    protected boolean actsOnEveryRequest() {
        return true;
    }

    @Override
    protected Map<String, Object> invalidParameters() {
        return Map.of("clip_skip", -1L, "prompt_weighting", "sometimes");
    }

    @Override
    protected List<Refusal> refusedRequests() {
        return List.of(new Refusal(request().toBuilder()
                .optParameter("prompt_embeds", FloatTensor.zeros(1, 77, 32))
                .optParameter("negative_prompt_embeds", FloatTensor.zeros(1, 5, 32)).build(),
                "negative_prompt_embeds has shape"));
    }
}
