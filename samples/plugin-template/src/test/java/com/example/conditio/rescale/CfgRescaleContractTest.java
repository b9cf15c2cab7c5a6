package com.example.conditio.rescale;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceProvider;
import io.conditio.tck.GuidanceProviderContract;

/** The SPI contract, from the conformance kit: shapes, finite values, determinism, no state between generations. */
class CfgRescaleContractTest extends GuidanceProviderContract {
    @Override
    protected GuidanceProvider provider() {
        return new CfgRescaleGuidanceProvider();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().optGuidanceScale(7.5)
                .optParameter(CfgRescaleGuidanceProvider.PARAMETER, 0.7).build();
    }
}
