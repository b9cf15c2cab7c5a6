package io.conditio.plugins.guidance;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceProvider;
import io.conditio.tck.GuidanceProviderContract;

/** The conformance kit's guidance contract for the annealing modifier, over classifier-free guidance. */
class AnnealGuidanceContractTest extends GuidanceProviderContract {
    @Override
    protected GuidanceProvider provider() {
        return new AnnealGuidanceProvider();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().optGuidanceScale(7.5)
                .optParameter(AnnealGuidanceProvider.PARAMETER, "cosine").build();
    }
}
