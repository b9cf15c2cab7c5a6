package io.conditio.plugins.concat;

import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.FloatTensor;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.Ordinals;
import io.conditio.api.RgbImage;
import io.conditio.api.StepContext;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * instruct-pix2pix image conditioning: the init image's VAE latent mode (unscaled, as diffusers uses
 * {@code latent_dist.mode()}) concatenated after the latents, zeros for branches that drop the {@code image}
 * condition. Active for a UNet with twice the latent channels and an {@code init_image}; see
 * {@link Pix2PixGuidanceProvider} for the three-way guidance and {@code image_guidance_scale}.
 */
@Extension(ordinal = Ordinals.IMAGE_CHANNELS)
public final class ImageConditioner implements Conditioner {

    @Override
    public String id() {
        return "pix2pix";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(ParameterDeclaration.builder(InpaintConditioner.INIT, ParameterType.IMAGE)
                .description("the instruct-pix2pix input image, for an 8-channel UNet (--init-image)").build());
    }

    @Override
    public Optional<Conditioning> prepare(ConditioningContext context) {
        int channels = context.latentShape()[1];
        if (!Pix2Pix.applies(context.request(), context.unet(), channels)) {
            return Optional.empty();
        }
        RgbImage image = context.request().parameter(InpaintConditioner.INIT, RgbImage.class).orElseThrow();
        FloatTensor latents = context.encodeImageMode(image);
        FloatTensor zeros = FloatTensor.zeros(latents.shape());
        List<FloatTensor> batch = new ArrayList<>();
        for (GuidanceBranch b : context.branches()) {
            batch.add(b.drops(Pix2PixGuidanceProvider.KIND) ? zeros : latents);
        }
        FloatTensor all = FloatTensor.concatBatch(batch.toArray(FloatTensor[]::new));
        return Optional.of(new ImageLatents(all, Map.of("image_guidance_scale",
                Double.toString(Pix2Pix.imageGuidance(context.request())))));
    }

    private record ImageLatents(FloatTensor latents, Map<String, String> provenance) implements Conditioning {
        @Override
        public List<UnetInputDeclaration> provides() {
            return List.of(UnetInputDeclaration.channels(latents.dim(1), "image latents (--init-image, pix2pix)"));
        }

        @Override
        public void contribute(StepContext step, UnetInputs inputs) {
            inputs.appendChannels(latents);
        }
    }
}
