package io.conditio.plugins.concat;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Model;
import io.conditio.api.SingleBranchGuidance;
import io.conditio.api.StepContext;
import io.conditio.api.TensorSpec;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * instruct-pix2pix guidance, as diffusers' StableDiffusionInstructPix2PixPipeline: three branches
 * {@code [text + image, image only, neither]} and
 * {@code uncond + g × (text − image) + ig × (image − uncond)} in float32. Without guidance (g ≤ 1 or ig &lt; 1)
 * one branch with both conditions.
 */
@Extension
public final class Pix2PixGuidanceProvider implements GuidanceProvider {
    /** The condition kind of the image latents. */
    static final String KIND = "image";
    static final GuidanceBranch IMAGE_ONLY = new GuidanceBranch("image", Set.of("text"));
    static final GuidanceBranch NEITHER = new GuidanceBranch("uncond", Set.of("text", KIND));

    @Override
    public String id() {
        return "pix2pix";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(ParameterDeclaration.builder(Pix2Pix.IMAGE_GUIDANCE, ParameterType.NUMBER).minimum(0, true)
                .defaultValue(Pix2Pix.DEFAULT_IMAGE_GUIDANCE)
                .description("instruct-pix2pix image guidance scale, with an 8-channel UNet (--image-guidance)")
                .build());
    }

    @Override
    public Optional<Guidance> create(GenerationRequest request, Model unet) {
        int channels = latentChannels(unet);
        if (channels < 0 || !Pix2Pix.applies(request, unet, channels)) {
            return Optional.empty();
        }
        return Optional.of(Pix2Pix.guided(request)
                ? new ThreeWay((float) request.guidanceScale(), (float) Pix2Pix.imageGuidance(request),
                        request.guidanceScale(), Pix2Pix.imageGuidance(request))
                : new SingleBranchGuidance("none"));
    }

    /**
     * The latent channels from the UNet's output (instruct-pix2pix: 8 in, 4 out), else its config's
     * {@code out_channels}. Half the input channels would call any 4-channel UNet a 2-channel pix2pix one.
     *
     * @param unet the UNet
     * @return the latent channels, or -1 when neither says
     */
    static int latentChannels(Model unet) {
        for (TensorSpec out : unet.outputs().values()) {
            if (out.rank() == 4 && out.dim(1) > 0) {
                return (int) out.dim(1);
            }
        }
        return (int) unet.config().integer("out_channels").orElse(-1);
    }

    /** Text and image guidance. */
    private static final class ThreeWay implements Guidance {
        private final float g;
        private final float ig;
        private final String description;

        ThreeWay(float g, float ig, double gd, double igd) {
            this.g = g;
            this.ig = ig;
            this.description = "pix2pix(" + gd + ", image " + igd + ")";
        }

        @Override
        public List<GuidanceBranch> branches() {
            return List.of(GuidanceBranch.CONDITIONAL, IMAGE_ONLY, NEITHER);
        }

        @Override
        public FloatTensor expand(FloatTensor latents) {
            return FloatTensor.concatBatch(latents, latents, latents);
        }

        @Override
        public FloatTensor combine(FloatTensor out, StepContext step) {
            int n = out.size() / 3;
            float[] o = out.array();
            float[] r = new float[n];
            for (int i = 0; i < n; i++) {
                float text = o[i];
                float image = o[n + i];
                float uncond = o[2 * n + i];
                r[i] = uncond + g * (text - image) + ig * (image - uncond);
            }
            int[] shape = out.shape();
            shape[0] /= 3;
            return FloatTensor.of(r, shape);
        }

        /** {@link #expand} into the host's tensor: the latents three times. */
        @Override
        public FloatTensor expandInto(FloatTensor latents, FloatTensor into) {
            float[] src = latents.array();
            float[] dst = into.array();
            if (dst.length != 3 * src.length) {
                return expand(latents);
            }
            for (int b = 0; b < 3; b++) {
                System.arraycopy(src, 0, dst, b * src.length, src.length);
            }
            return into;
        }

        /** {@link #combine} into the host's tensor, the same float32 arithmetic. */
        @Override
        public FloatTensor combineInto(FloatTensor out, StepContext step, FloatTensor into) {
            int n = into.size();
            if (3 * n != out.size()) {
                return combine(out.copy(), step);
            }
            float[] o = out.array();
            float[] r = into.array();
            for (int i = 0; i < n; i++) {
                float text = o[i];
                float image = o[n + i];
                float uncond = o[2 * n + i];
                r[i] = uncond + g * (text - image) + ig * (image - uncond);
            }
            return into;
        }

        @Override
        public String describe() {
            return description;
        }
    }
}
