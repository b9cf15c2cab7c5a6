package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import java.util.List;

/**
 * Sigma arithmetic shared by the sigma-parameterised schedulers (Euler family, LMS, Heun, KDPM2, DPM-Solver, UniPC,
 * DEIS): {@code sigma = sqrt((1 - alpha_bar) / alpha_bar)} in float32, {@code np.interp} onto the inference
 * timesteps in float64, the Karras / exponential / Lu schedules in float64, and the log-space sigma-to-timestep
 * interpolation ({@code _sigma_to_t}).
 */
final class Sigmas {
    private Sigmas() {
    }

    /** How the inference sigmas are spaced: diffusers' {@code use_karras_sigmas} / {@code use_exponential_sigmas}. */
    enum Spacing {
        /** Interpolated at the spaced timesteps. */
        INTERPOLATED,
        /** Karras et al. (2022), rho 7. */
        KARRAS,
        /** Log-linear between sigma_max and sigma_min. */
        EXPONENTIAL
    }

    /** {@code use_karras_sigmas}. */
    static final ConfigKey<Boolean> USE_KARRAS_SIGMAS = ConfigKey.flag("use_karras_sigmas", false,
            "space the inference sigmas as Karras et al. (2022), rho 7");
    /** {@code use_exponential_sigmas}. */
    static final ConfigKey<Boolean> USE_EXPONENTIAL_SIGMAS = ConfigKey.flag("use_exponential_sigmas", false,
            "space the inference sigmas log-linearly between sigma_max and sigma_min");
    /** {@code use_beta_sigmas}: refused. */
    static final ConfigKey<Boolean> USE_BETA_SIGMAS = ConfigKey.unsupportedFlag("use_beta_sigmas",
            "beta sigmas need scipy's beta quantile function, which this port does not implement; use "
                    + "use_karras_sigmas or use_exponential_sigmas instead");
    /** {@code use_flow_sigmas} of the solvers: refused. */
    static final ConfigKey<Boolean> USE_FLOW_SIGMAS = ConfigKey.unsupportedFlag("use_flow_sigmas",
            "flow-matching sigmas are not implemented for this solver; use FlowMatchEulerDiscreteScheduler for "
                    + "flow-matching models");
    /** The keys {@link #readSpacing} reads, in order. */
    static final List<ConfigKey<?>> SPACING_KEYS = List.of(USE_KARRAS_SIGMAS, USE_EXPONENTIAL_SIGMAS,
            USE_BETA_SIGMAS);
    /** {@code final_sigmas_type}. */
    static final ConfigKey<String> FINAL_SIGMAS_TYPE = ConfigKey.choice("final_sigmas_type", "zero",
            "the sigma after the last step: 0, or the smallest training sigma", "zero", "sigma_min");
    /** {@code sigma_min}: absent means the smallest training sigma. */
    static final ConfigKey<Double> SIGMA_MIN = ConfigKey.optionalNumber("sigma_min",
            "the smallest sigma of the Karras / exponential schedules; absent: the smallest training sigma");
    /** {@code sigma_max}: absent means the largest training sigma. */
    static final ConfigKey<Double> SIGMA_MAX = ConfigKey.optionalNumber("sigma_max",
            "the largest sigma of the Karras / exponential schedules; absent: the largest training sigma");

    /** Reads {@link #SPACING_KEYS}: at most one of Karras and exponential. */
    static Spacing readSpacing(ConfigReader r) {
        boolean karras = r.get(USE_KARRAS_SIGMAS);
        boolean exponential = r.get(USE_EXPONENTIAL_SIGMAS);
        r.get(USE_BETA_SIGMAS);
        if (karras && exponential) {
            throw r.invalid("only one of use_karras_sigmas, use_exponential_sigmas and use_beta_sigmas can be true");
        }
        return karras ? Spacing.KARRAS : exponential ? Spacing.EXPONENTIAL : Spacing.INTERPOLATED;
    }

    /** {@code ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5} in float32, ascending in t. */
    static float[] fromAlphasCumprod(float[] alphasCumprod) {
        float[] s = new float[alphasCumprod.length];
        for (int i = 0; i < s.length; i++) {
            float a = alphasCumprod[i];
            s[i] = Float32.sqrt((1f - a) / a);
        }
        return s;
    }

    /** {@code np.log(sigmas)} of a float32 array: float32 results. */
    static float[] log(float[] sigmas) {
        float[] out = new float[sigmas.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float32.log(sigmas[i]);
        }
        return out;
    }

    /**
     * {@code np.interp(x, np.arange(0, len(fp)), fp)} in float64, with numpy's exact-hit and NaN rules.
     */
    static double[] interp(double[] x, float[] fp) {
        double[] out = new double[x.length];
        int last = fp.length - 1;
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            if (Double.isNaN(v)) {
                out[i] = v;
            } else if (v < 0) {
                out[i] = fp[0];
            } else if (v >= last) {
                out[i] = fp[last];
            } else {
                int j = (int) Math.floor(v);
                if (j == v) {
                    out[i] = fp[j];
                } else {
                    double slope = ((double) fp[j + 1] - fp[j]) / 1.0;
                    double r = slope * (v - j) + fp[j];
                    if (Double.isNaN(r)) {
                        r = slope * (v - (j + 1)) + fp[j + 1];
                        if (Double.isNaN(r) && fp[j] == fp[j + 1]) {
                            r = fp[j];
                        }
                    }
                    out[i] = r;
                }
            }
        }
        return out;
    }

    /** The float32 inference timesteps and sigmas of a k-diffusion schedule; the sigmas end with the final 0. */
    record Schedule(float[] timesteps, float[] sigmas) {
    }

    /**
     * Inference timesteps and sigmas as the k-diffusion ports (Euler ancestral, LMS, Heun, KDPM2) build them:
     * sigmas interpolated at the spaced timesteps, or replaced by a Karras / exponential schedule between the
     * interpolated ends, with the timesteps then recovered by {@link #sigmaToT}.
     *
     * @param timesteps   the spaced float32 timesteps
     * @param trainSigmas the training sigmas (float32, ascending in t)
     * @param spacing     the sigma spacing
     * @param roundKarras whether Karras timesteps are rounded (KDPM2 does, Heun and LMS do not)
     * @return the timesteps rounded to float32, and the sigmas rounded to float32 followed by the final 0
     */
    static Schedule spaced(float[] timesteps, float[] trainSigmas, Spacing spacing, boolean roundKarras) {
        int n = timesteps.length;
        double[] t = asDoubles(timesteps);
        double[] s = interp(t, trainSigmas);
        if (spacing != Spacing.INTERPOLATED) {
            s = between(spacing, s[n - 1], s[0], n);
            t = sigmasToT(s, log(trainSigmas));
            if (spacing == Spacing.KARRAS && roundKarras) {
                for (int i = 0; i < n; i++) {
                    t[i] = Math.rint(t[i]);
                }
            }
        }
        return new Schedule(TimestepSpacing.toFloats(t), withFinal(s, 0.0));
    }

    /**
     * The closed-form schedules: {@code n} sigmas from {@code sigmaMax} down to {@code sigmaMin}, float64, by
     * {@link #karras} or {@link #exponential}.
     *
     * @param spacing KARRAS or EXPONENTIAL
     */
    static double[] between(Spacing spacing, double sigmaMin, double sigmaMax, int n) {
        return switch (spacing) {
            case KARRAS -> karras(sigmaMin, sigmaMax, n);
            case EXPONENTIAL -> exponential(sigmaMin, sigmaMax, n);
            case INTERPOLATED -> throw new IllegalArgumentException("interpolated sigmas have no closed form");
        };
    }

    /**
     * The int64 timesteps the solvers (DPM-Solver, UniPC, DEIS) derive from a closed-form schedule: {@link #sigmaToT}
     * of each sigma, then {@code .round()} or only the truncating int64 cast.
     *
     * @param round whether to round (Karras; DPM-Solver also for Lu, not for the cosine schedule)
     */
    static long[] int64Timesteps(double[] sigmas, float[] logSigmas, boolean round) {
        long[] t = new long[sigmas.length];
        for (int i = 0; i < t.length; i++) {
            double v = sigmaToT(sigmas[i], logSigmas);
            t[i] = round ? TimestepSpacing.round(v) : (long) v;
        }
        return t;
    }

    /** @return the timesteps as float64 for {@link #interp} */
    static double[] asDoubles(long[] t) {
        double[] out = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = t[i];
        }
        return out;
    }

    /** @return float32 values widened to float64 */
    static double[] asDoubles(float[] t) {
        double[] out = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = t[i];
        }
        return out;
    }

    /**
     * Karras et al. (2022) noise levels, rho = 7, in float64: {@code (max^(1/rho) + ramp * (min^(1/rho) -
     * max^(1/rho)))^rho} with {@code ramp = np.linspace(0, 1, n)}.
     */
    static double[] karras(double sigmaMin, double sigmaMax, int n) {
        double rho = 7.0;
        double[] ramp = TimestepSpacing.linspace(0, 1, n);
        double minInvRho = Math.pow(sigmaMin, 1 / rho);
        double maxInvRho = Math.pow(sigmaMax, 1 / rho);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        }
        return out;
    }

    /** Exponential noise levels: {@code exp(linspace(log(max), log(min), n))} in float64. */
    static double[] exponential(double sigmaMin, double sigmaMax, int n) {
        double[] l = TimestepSpacing.linspace(Math.log(sigmaMax), Math.log(sigmaMin), n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.exp(l[i]);
        }
        return out;
    }

    /**
     * DPM-Solver's uniform-logSNR schedule ({@code _convert_to_lu}, rho = 1): a float64 linspace between the largest
     * and smallest log-sigma, exponentiated.
     */
    static double[] lu(float logSigmaMin, float logSigmaMax, int n) {
        double[] ramp = TimestepSpacing.linspace(0, 1, n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.exp((double) logSigmaMax + ramp[i] * ((double) logSigmaMin - logSigmaMax));
        }
        return out;
    }

    /**
     * diffusers' {@code _sigma_to_t}: the fractional training timestep of {@code sigma}, interpolating linearly in
     * log-sigma between the two training sigmas around it (float64, with the float32 log-sigma table as numpy has
     * it).
     *
     * @param sigma     a noise level
     * @param logSigmas {@code np.log} of the float32 training sigmas, ascending in t
     * @return the timestep, float64
     */
    static double sigmaToT(double sigma, float[] logSigmas) {
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        int n = logSigmas.length;
        // cumsum(dists >= 0).argmax(): the last index whose log-sigma is <= logSigma (0 when none)
        int lowIdx = 0;
        for (int i = 0; i < n; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                lowIdx = i;
            }
        }
        lowIdx = Math.min(lowIdx, n - 2);
        int highIdx = lowIdx + 1;
        float low = logSigmas[lowIdx];
        float high = logSigmas[highIdx];
        double w = (low - logSigma) / (double) (low - high);
        w = Math.min(Math.max(w, 0), 1);
        return (1 - w) * lowIdx + w * highIdx;
    }

    /** @return {@link #sigmaToT} for each sigma */
    static double[] sigmasToT(double[] sigmas, float[] logSigmas) {
        double[] t = new double[sigmas.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = sigmaToT(sigmas[i], logSigmas);
        }
        return t;
    }

    /** @return {@code sigmas} followed by {@code last}, rounded to float32 ({@code np.concatenate(...).astype(float32)}) */
    static float[] withFinal(double[] sigmas, double last) {
        float[] out = new float[sigmas.length + 1];
        for (int i = 0; i < sigmas.length; i++) {
            out[i] = (float) sigmas[i];
        }
        out[sigmas.length] = (float) last;
        return out;
    }

    /** @return {@code a} reversed, a new array */
    static float[] flip(float[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[a.length - 1 - i];
        }
        return out;
    }

    /**
     * The Euler family's {@code add_noise}: {@code original + noise * sigma} in float32.
     */
    static FloatTensor addNoise(FloatTensor original, FloatTensor noise, float sigma) {
        return FloatTensor.of(addNoise(original, noise, sigma, new float[original.size()]), original.shape());
    }

    /** {@link #addNoise(FloatTensor, FloatTensor, float)} written into {@code out}, which it returns. */
    static float[] addNoise(FloatTensor original, FloatTensor noise, float sigma, float[] out) {
        NoiseSchedule.requireSameShape(original, noise);
        float[] o = original.array();
        float[] z = noise.array();
        for (int i = 0; i < out.length; i++) {
            out[i] = o[i] + z[i] * sigma;
        }
        return out;
    }

    /**
     * The variance-preserving signal scale of a sigma, {@code alpha_t = 1 / sqrt(sigma^2 + 1)}, in float32 as
     * diffusers' {@code _sigma_to_alpha_sigma_t}; the matching noise scale is {@code sigma * alpha_t}.
     */
    static float vpAlpha(float sigma) {
        return 1f / Float32.sqrt(sigma * sigma + 1f);
    }

    /** The half log-SNR {@code lambda = log(alpha_t) - log(sigma_t)} in float32. */
    static float lambda(float alphaT, float sigmaT) {
        return Float32.log(alphaT) - Float32.log(sigmaT);
    }

    /** The DPM-Solver family's {@code add_noise}: {@code alpha_t * original + sigma_t * noise} at {@code sigma}. */
    static FloatTensor addNoiseVp(FloatTensor original, FloatTensor noise, float sigma) {
        AlphaSigma vp = AlphaSigma.of(sigma);
        return NoiseSchedule.noised(original, noise, vp.alpha(), vp.sigma());
    }

    /** {@link #addNoiseVp(FloatTensor, FloatTensor, float)} written into {@code out}, which it returns. */
    static float[] addNoiseVp(FloatTensor original, FloatTensor noise, float sigma, float[] out) {
        NoiseSchedule.requireSameShape(original, noise);
        AlphaSigma vp = AlphaSigma.of(sigma);
        return NoiseSchedule.noised(original.array(), noise.array(), vp.alpha(), vp.sigma(), out);
    }

    /**
     * How many of the smallest-lambda training timesteps DPM-Solver clips:
     * {@code torch.searchsorted(torch.flip(lambda_t), lambda_min_clipped)}.
     */
    static int clippedCount(float[] alphasCumprod, double lambdaMinClipped) {
        int count = 0;
        for (int i = alphasCumprod.length - 1; i >= 0; i--) {
            float l = lambda(Float32.sqrt(alphasCumprod[i]), Float32.sqrt(1f - alphasCumprod[i]));
            if (!(l < lambdaMinClipped)) {
                break;
            }
            count++;
        }
        return count;
    }

    /** @return the largest element ({@code sigmas.max()}) */
    static float max(float[] a) {
        float m = Float.NEGATIVE_INFINITY;
        for (float v : a) {
            m = Math.max(m, v);
        }
        return m;
    }
}
