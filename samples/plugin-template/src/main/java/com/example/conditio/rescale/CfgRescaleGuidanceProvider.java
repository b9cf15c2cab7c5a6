package com.example.conditio.rescale;

import io.conditio.api.ClassifierFreeGuidance;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.StepContext;
import java.util.List;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * Classifier-free guidance with rescale (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are
 * Flawed", section 3.4), as diffusers' {@code rescale_noise_cfg}: the guided prediction is rescaled to the standard
 * deviation of the conditional prediction and mixed with the plain guided one by {@code guidance_rescale}.
 *
 * <p>Active when the request parameter {@code guidance_rescale} (a number in (0, 1]) is given and the guidance scale
 * is above 1; on the command line: {@code --param guidance_rescale=0.7}.
 */
@Extension
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
    public Optional<Guidance> create(GenerationRequest request, Model unet) {
        Optional<Number> rescale = request.parameter(PARAMETER, Number.class);
        if (rescale.isEmpty() || request.guidanceScale() <= 1.0) {
            return Optional.empty();
        }
        double phi = rescale.get().doubleValue();
        if (!(phi > 0 && phi <= 1)) {
            throw new InvalidRequestException(PARAMETER + " must be in (0, 1], got " + phi);
        }
        return Optional.of(new RescaledGuidance((float) request.guidanceScale(), (float) phi));
    }

    /** The api's classifier-free guidance over [uncond, cond], then the rescale. */
    static final class RescaledGuidance extends ClassifierFreeGuidance {
        private final float scale;
        private final float phi;

        RescaledGuidance(float scale, float phi) {
            super(scale);
            this.scale = scale;
            this.phi = phi;
        }

        @Override
        public FloatTensor combine(FloatTensor out, StepContext step) {
            float[] cfg = super.combine(out, step).array();
            float ratio = (float) (std(conditional(out).array()) / std(cfg));
            float[] r = new float[cfg.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = phi * (cfg[i] * ratio) + (1 - phi) * cfg[i];
            }
            int[] shape = out.shape();
            shape[0] = 1;
            return FloatTensor.of(r, shape);
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
            return "cfg-rescale(" + scale + ", " + phi + ")";
        }
    }
}
