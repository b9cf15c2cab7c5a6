package io.conditio.plugins.guidance;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceProvider;
import io.conditio.tck.GuidanceProviderContract;
import java.util.List;

/** The conformance kit's guidance contract for the interval modifier, over classifier-free guidance. */
class IntervalGuidanceContractTest extends GuidanceProviderContract {
    @Override
    protected GuidanceProvider provider() {
        return new IntervalGuidanceProvider();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().optGuidanceScale(7.5)
                .optParameter(IntervalGuidanceProvider.PARAMETER, List.of(0.2, 0.8)).build();
    }
}
