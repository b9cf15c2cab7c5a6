package io.conditio.core.pipeline;

import io.conditio.api.GenerationRequest;
import io.conditio.api.TensorSpec;
import io.conditio.core.model.ModelFolder;
import java.util.Map;

/**
 * Which UNet of a model folder a request runs. A folder may ship task variants beside {@code unet/}:
 * {@code unet-inpaint/} (9 input channels) is used for a request with a mask when {@code unet/} is not an inpainting
 * UNet, and {@code unet-controlnet/} (declaring ControlNet residual inputs) for a request with ControlNets when
 * {@code unet/} declares none, and {@code unet-adapter/} (declaring T2I-Adapter inputs
 * {@code down_intrablock_additional_residual_{i}}) for a request with T2I-Adapters when {@code unet/} declares none.
 * Otherwise {@code unet/}.
 */
final class UnetVariant {
    static final String DEFAULT = "unet";
    static final String INPAINT = "unet-inpaint";
    static final String CONTROLNET = "unet-controlnet";
    static final String ADAPTER = "unet-adapter";

    private UnetVariant() {
    }

    static String choose(ModelFolder folder, GenerationRequest request) {
        Map<String, Object> p = request.parameters();
        if (p.containsKey(LatentStart.MASK_IMAGE) && folder.has(INPAINT)) {
            TensorSpec sample = folder.model(DEFAULT).inputs().get("sample");
            boolean inpaintUnet = sample != null && sample.rank() == 4 && sample.dim(1) == 2L * folder.latentChannels() + 1;
            if (!inpaintUnet) {
                return INPAINT;
            }
        }
        if (p.get("controlnets") instanceof java.util.Collection<?> c && !c.isEmpty() && folder.has(CONTROLNET)) {
            boolean residuals = folder.model(DEFAULT).inputs().keySet().stream()
                    .anyMatch(n -> n.endsWith("_additional_residual"));
            if (!residuals) {
                return CONTROLNET;
            }
        }
        if (p.get("t2i_adapters") instanceof java.util.Collection<?> c && !c.isEmpty() && folder.has(ADAPTER)) {
            boolean intrablock = folder.model(DEFAULT).inputs().keySet().stream()
                    .anyMatch(n -> n.startsWith("down_intrablock_additional_residual"));
            if (!intrablock) {
                return ADAPTER;
            }
        }
        return DEFAULT;
    }
}
