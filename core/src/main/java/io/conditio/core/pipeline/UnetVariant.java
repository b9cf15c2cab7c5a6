package io.conditio.core.pipeline;

import io.conditio.api.Conditioner;
import io.conditio.api.GenerationRequest;
import io.conditio.api.TensorSpec;
import io.conditio.api.UnetVariantNeed;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.plugin.PluginGuard;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which UNet of a model folder a request runs. A folder may ship task variants beside {@code unet/}:
 * {@code unet-inpaint/} (9 input channels) is used for a request with a mask when {@code unet/} is not an inpainting
 * UNet; otherwise the conditioners are asked in their order ({@link Conditioner#unetVariant}) and the first variant
 * the folder has whose inputs {@code unet/} lacks is used (the ControlNet and T2I-Adapter plugins name theirs);
 * otherwise {@code unet/}.
 */
final class UnetVariant {
    static final String DEFAULT = "unet";
    static final String INPAINT = "unet-inpaint";

    private UnetVariant() {
    }

    static String choose(ModelFolder folder, GenerationRequest request, List<Conditioner> conditioners,
            PluginGuard guard) {
        if (request.parameters().containsKey(LatentStart.MASK_IMAGE) && folder.has(INPAINT)) {
            TensorSpec sample = folder.model(DEFAULT).inputs().get("sample");
            boolean inpaintUnet = sample != null && sample.rank() == 4 && sample.dim(1) == 2L * folder.latentChannels() + 1;
            if (!inpaintUnet) {
                return INPAINT;
            }
        }
        for (Conditioner c : conditioners) {
            Optional<UnetVariantNeed> need = guard.call(c, "conditioner unetVariant", () -> c.unetVariant(request));
            if (need == null || need.isEmpty() || !folder.has(need.get().folder())) {
                continue;
            }
            Set<String> declared = folder.model(DEFAULT).inputs().keySet();
            if (declared.stream().noneMatch(need.get()::supplies)) {
                return need.get().folder();
            }
        }
        return DEFAULT;
    }
}
