package io.conditio.plugins.film;

import io.conditio.api.ElementType;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Model;
import io.conditio.api.TensorSpec;
import io.conditio.tck.GuidanceProviderContract;
import io.conditio.tck.TestModels;
import java.util.LinkedHashMap;
import java.util.Map;

/** The conformance kit's guidance contract for a Latent Consistency Model's embedded guidance (one branch). */
class LcmGuidanceContractTest extends GuidanceProviderContract {
    @Override
    protected GuidanceProvider provider() {
        return new LcmGuidanceProvider();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().optGuidanceScale(8.0).build();
    }

    /** The default UNet signature with an LCM's {@code timestep_cond} input. */
    @Override
    protected Model unet() {
        Model plain = TestModels.unet(4, 4);
        Map<String, TensorSpec> inputs = new LinkedHashMap<>(plain.inputs());
        inputs.put(FilmConditioner.TIMESTEP_COND_INPUT, new TensorSpec(FilmConditioner.TIMESTEP_COND_INPUT,
                ElementType.FLOAT32, new long[] {-1, 256}));
        return TestModels.model("unet", inputs, plain.outputs(), plain::run);
    }
}
