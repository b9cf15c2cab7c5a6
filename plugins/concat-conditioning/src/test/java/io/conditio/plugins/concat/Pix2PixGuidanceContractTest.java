package io.conditio.plugins.concat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Model;
import io.conditio.api.RgbImage;
import io.conditio.tck.GuidanceProviderContract;
import io.conditio.tck.TestModels;

/** The conformance kit's guidance contract for instruct-pix2pix's three-way guidance. */
class Pix2PixGuidanceContractTest extends GuidanceProviderContract {
    @Override
    protected GuidanceProvider provider() {
        return new Pix2PixGuidanceProvider();
    }

    @Override
    protected GenerationRequest request() {
        return GenerationRequest.builder().optGuidanceScale(7.5).optParameter("image_guidance_scale", 1.5)
                .optParameter("init_image", new RgbImage(64, 64, new float[64 * 64 * 3])).build();
    }

    @Override
    protected Model unet() {
        return TestModels.unet(8, 4);
    }
}
