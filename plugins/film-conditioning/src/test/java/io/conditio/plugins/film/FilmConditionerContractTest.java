package io.conditio.plugins.film;

import io.conditio.api.Conditioner;
import io.conditio.api.GenerationRequest;
import io.conditio.core.testing.ShapesConditionerContract;
import java.util.List;
import java.util.Map;

/**
 * The conformance kit's conditioner contract for class labels, on the shipped model's class-conditional UNet (which
 * takes the null class when no class is asked for, so it acts on every request).
 */
class FilmConditionerContractTest extends ShapesConditionerContract {
    @Override
    protected Conditioner conditioner() {
        return new FilmConditioner();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().setPrompt("a shape").optGuidanceScale(3).optSeed(1)
                .optParameter(FilmConditioner.CLASS_LABEL, 2L).build();
    }

    @Override
    protected GenerationRequest otherRequest() {
        return request().toBuilder().optParameter(FilmConditioner.CLASS_LABEL, 3L).build();
    }

    @Override
    protected boolean actsOnEveryRequest() {
        return true;
    }

    @Override
    protected Map<String, Object> invalidParameters() {
        return Map.of(FilmConditioner.CLASS_LABEL, -1L, FilmConditioner.NULL_CLASS_LABEL, "none");
    }

    @Override
    protected List<Refusal> refusedRequests() {
        return List.of(new Refusal(request().toBuilder().optParameter(FilmConditioner.CLASS_LABEL, 99L).build(),
                "out of range"), new Refusal(request().toBuilder().optParameter(FilmConditioner.TARGET_SIZE,
                List.of(64L, 64L)).build(), "time_ids"));
    }
}
