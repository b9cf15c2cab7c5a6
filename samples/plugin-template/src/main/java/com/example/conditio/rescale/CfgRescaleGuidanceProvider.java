package com.example.conditio.rescale;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceModifier;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.Ordinals;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.StepContext;
import java.util.List;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * CFG rescale (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", section 3.4), as
 * diffusers' {@code rescale_noise_cfg}: the guided prediction is rescaled to the standard deviation of the
 * conditional prediction and mixed with the plain guided one by {@code guidance_rescale}.
 *
 * <p>A guidance modifier: it wraps whatever guidance is below it (classifier-free guidance, instruct-pix2pix's
 * three branches) rather than replacing it, and its ordinal places it right over that base, before the guidance
 * schedules (annealing, intervals). Active when the request parameter {@code guidance_rescale} (a number in (0, 1])
 * is given and the guidance below has a guided batch; on the command line: {@code --param guidance_rescale=0.7}.
 */
@Extension(ordinal = Ordinals.GUIDANCE_CORRECTIONS)
public final class CfgRescaleGuidanceProvider implements GuidanceProvider {
    /** The request parameter. */
    public static final String PARAMETER = "guidance_rescale";

    @Override
    public String id() {
        return "cfg-rescale";
    }

    /** What this plugin reads from the request: the host validates it and lists it in {@code conditio plugins}. */
    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(ParameterDeclaration.builder(PARAMETER, ParameterType.NUMBER).range(0, false, 1, true)
                .description("CFG rescale factor phi (Lin et al. 2023); active with a guidance scale above 1")
                .build());
    }

    @Override
    public Optional<Guidance> wrap(GenerationRequest request, Model unet, Guidance inner) {
        Optional<Number> rescale = request.parameter(PARAMETER, Number.class);
        // nothing to rescale without a guided batch: one branch is the conditional prediction itself
        if (rescale.isEmpty() || inner.branches().size() < 2
                || GuidanceModifier.conditionalBranch(inner.branches()) < 0) {
            return Optional.empty();
        }
        double phi = rescale.get().doubleValue();
        if (!(phi > 0 && phi <= 1)) {
            throw new InvalidRequestException(PARAMETER + " must be in (0, 1], got " + phi);
        }
        return Optional.of(new Rescaled(inner, phi));
    }

    /** The guidance below, then the rescale. */
    static final class Rescaled extends GuidanceModifier {
        private final double requested;
        private final float phi;

        Rescaled(Guidance inner, double phi) {
            super(inner);
            this.requested = phi;
            this.phi = (float) phi;
        }

        @Override
        public FloatTensor combine(FloatTensor out, StepContext step) {
            FloatTensor guided = super.combine(out, step);
            float[] cfg = guided.array();
            float[] text = conditional(out).array();
            float[] r = new float[cfg.length];
            // as diffusers' rescale_noise_cfg: the standard deviations of each image of the batch
            int images = guided.dim(0);
            int per = cfg.length / images;
            for (int k = 0; k < images; k++) {
                int from = k * per;
                float ratio = (float) (std(text, from, per) / std(cfg, from, per));
                for (int i = from; i < from + per; i++) {
                    r[i] = phi * (cfg[i] * ratio) + (1 - phi) * cfg[i];
                }
            }
            return FloatTensor.of(r, guided.shape());
        }

        /** Unbiased standard deviation, as torch.std. */
        static double std(float[] x) {
            return std(x, 0, x.length);
        }

        /** Unbiased standard deviation of {@code x[from, from + n)}, as torch.std. */
        static double std(float[] x, int from, int n) {
            double mean = 0;
            for (int i = from; i < from + n; i++) {
                mean += x[i];
            }
            mean /= n;
            double ss = 0;
            for (int i = from; i < from + n; i++) {
                ss += (x[i] - mean) * (x[i] - mean);
            }
            return Math.sqrt(ss / (n - 1));
        }

        @Override
        public String describe() {
            return "cfg-rescale(" + requested + ")";
        }
    }
}
