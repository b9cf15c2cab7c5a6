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
            float ratio = (float) (std(conditional(out).array()) / std(cfg));
            float[] r = new float[cfg.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = phi * (cfg[i] * ratio) + (1 - phi) * cfg[i];
            }
            return FloatTensor.of(r, guided.shape());
        }

        /** Unbiased standard deviation, as torch.std. */
        static double std(float[] x) {
            double mean = 0;
            for (float v : x) {
                mean += v;
            }
            mean /= x.length;
            double ss = 0;
            for (float v : x) {
                ss += (v - mean) * (v - mean);
            }
            return Math.sqrt(ss / (x.length - 1));
        }

        @Override
        public String describe() {
            return "cfg-rescale(" + requested + ")";
        }
    }
}
