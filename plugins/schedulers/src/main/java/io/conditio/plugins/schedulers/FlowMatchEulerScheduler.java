package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Euler steps along a rectified-flow / flow-matching ODE (Stable Diffusion 3, Flux, ...): a port of diffusers'
 * {@code FlowMatchEulerDiscreteScheduler}. The model predicts the velocity {@code noise - x0}; a step is
 * {@code x + (sigma_next - sigma) * v}, with {@code x_sigma = sigma * noise + (1 - sigma) * x0}. Deterministic
 * unless {@code stochastic_sampling} is on, which draws {@code randn(sample.shape)} per step from the generation's
 * generator (diffusers uses {@code torch.randn_like}, i.e. torch's global generator, there).
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class FlowMatchEulerScheduler extends TimestepScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "FlowMatchEulerDiscreteScheduler";

    private static final ConfigKey<Integer> NUM_TRAIN_TIMESTEPS = NoiseSchedule.KEYS.numTrainTimesteps().atLeast(1);
    private static final ConfigKey<Double> SHIFT = ConfigKey.number("shift", 1.0,
            "the timestep shift of the schedule (SD3: 3.0)");
    private static final ConfigKey<Boolean> USE_DYNAMIC_SHIFTING = ConfigKey.flag("use_dynamic_shifting", false,
            "shift by mu, which depends on the image size, instead of shift");
    private static final ConfigKey<Double> MU = ConfigKey.optionalNumber("mu",
            "the dynamic shift; needed with use_dynamic_shifting");
    private static final ConfigKey<Double> BASE_SHIFT = ConfigKey.optionalNumber("base_shift",
            "kept for the pipelines that derive mu; the scheduler does not use it");
    private static final ConfigKey<Double> MAX_SHIFT = ConfigKey.optionalNumber("max_shift",
            "kept for the pipelines that derive mu; the scheduler does not use it");
    private static final ConfigKey<String> TIME_SHIFT_TYPE = ConfigKey.choice("time_shift_type", "exponential",
            "how mu shifts the time", "exponential", "linear");
    private static final ConfigKey<Boolean> INVERT_SIGMAS = ConfigKey.flag("invert_sigmas", false, "use 1 - sigma");
    private static final ConfigKey<Double> SHIFT_TERMINAL = ConfigKey.optionalNumber("shift_terminal",
            "stretches the shifted sigmas so that the last is this value");
    private static final ConfigKey<Boolean> STOCHASTIC_SAMPLING = ConfigKey.flag("stochastic_sampling", false,
            "re-noise with fresh noise each step instead of the Euler update");
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(NUM_TRAIN_TIMESTEPS, SHIFT, USE_DYNAMIC_SHIFTING, MU,
            BASE_SHIFT, MAX_SHIFT, TIME_SHIFT_TYPE, INVERT_SIGMAS, SHIFT_TERMINAL, Sigmas.SPACING_KEYS,
            STOCHASTIC_SAMPLING);

    private final int numTrainTimesteps;
    private final double shift;
    private final Double mu;
    private final boolean exponentialTimeShift;
    private final boolean invertSigmas;
    private final Double shiftTerminal;
    private final Sigmas.Spacing sigmaSpacing;
    private final boolean stochasticSampling;
    private final double sigmaMin;
    private final double sigmaMax;

    private float[] sigmas;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public FlowMatchEulerScheduler(SchedulerConfig config) {
        super(false);
        ConfigReader r = new ConfigReader(config, CLASS_NAME, KEYS);
        numTrainTimesteps = r.get(NUM_TRAIN_TIMESTEPS);
        shift = r.get(SHIFT);
        boolean dynamicShifting = r.get(USE_DYNAMIC_SHIFTING);
        mu = r.get(MU);
        if (dynamicShifting && mu == null) {
            throw r.invalid("use_dynamic_shifting=true needs 'mu', the resolution-dependent shift diffusers' pipelines "
                    + "pass to set_timesteps (e.g. Flux: interpolated between base_shift and max_shift by the image "
                    + "sequence length); set 'mu' in the scheduler config, or use_dynamic_shifting=false with 'shift'");
        }
        r.get(BASE_SHIFT);
        r.get(MAX_SHIFT);
        exponentialTimeShift = "exponential".equals(r.get(TIME_SHIFT_TYPE));
        invertSigmas = r.get(INVERT_SIGMAS);
        shiftTerminal = r.get(SHIFT_TERMINAL);
        sigmaSpacing = Sigmas.readSpacing(r);
        stochasticSampling = r.get(STOCHASTIC_SAMPLING);
        this.config = r.effective();

        // the training sigmas: linspace(1, N, N) / N, shifted unless the shift is dynamic
        float first = 1f;
        float last = 1f / (float) numTrainTimesteps;
        if (!dynamicShifting) {
            first = shiftFloat32(first);
            last = shiftFloat32(last);
        }
        sigmaMax = first;
        sigmaMin = last;
    }

    private float shiftFloat32(float s) {
        return (float) shift * s / (1f + (float) (shift - 1) * s);
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.requireSteps("FlowMatch Euler", numInferenceSteps);
        int n = numInferenceSteps;
        double[] t = TimestepSpacing.linspace(sigmaMax * numTrainTimesteps, sigmaMin * numTrainTimesteps, n);
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            double sigma = t[i] / numTrainTimesteps;
            if (mu != null) {
                // resolution-dependent shift (sigma parameter 1.0 of diffusers' time_shift)
                s[i] = exponentialTimeShift ? Math.exp(mu) / (Math.exp(mu) + (1 / sigma - 1))
                        : mu / (mu + (1 / sigma - 1));
            } else {
                s[i] = shift * sigma / (1 + (shift - 1) * sigma);
            }
        }
        if (shiftTerminal != null && shiftTerminal != 0) {
            // stretch so the schedule ends exactly at shift_terminal
            double scale = (1 - s[n - 1]) / (1 - shiftTerminal);
            for (int i = 0; i < n; i++) {
                s[i] = 1 - (1 - s[i]) / scale;
            }
        }
        if (sigmaSpacing != Sigmas.Spacing.INTERPOLATED) {
            s = Sigmas.between(sigmaSpacing, s[n - 1], s[0], n);
        }

        sigmas = new float[n + 1];
        timesteps = new float[n];
        for (int i = 0; i < n; i++) {
            float sigma = (float) s[i];
            if (invertSigmas) {
                sigma = 1f - sigma;
            }
            sigmas[i] = sigma;
            timesteps[i] = sigma * (float) numTrainTimesteps;
        }
        sigmas[n] = invertSigmas ? 1f : 0f;
        index.reset();
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers work) {
        int i = stepIndex(timestep);
        float sigma = sigmas[i];
        float sigmaNext = sigmas[i + 1];
        float dt = sigmaNext - sigma;
        float[] x = sample.array();
        float[] v = modelOutput.array();
        int n = x.length;
        float[] prev = work.result(n);
        if (stochasticSampling) {
            // jump to the x0 estimate and re-noise it to the next sigma
            float[] noise = work.randn(random, sample.shape());
            for (int k = 0; k < n; k++) {
                float x0 = x[k] - sigma * v[k];
                prev[k] = (1f - sigmaNext) * x0 + sigmaNext * noise[k];
            }
        } else {
            for (int k = 0; k < n; k++) {
                prev[k] = x[k] + dt * v[k];
            }
        }
        index.advance();
        return prev;
    }

    /** diffusers' {@code scale_noise}, the flow-matching forward process: {@code sigma * noise + (1 - sigma) * x}. */
    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        NoiseSchedule.requireSameShape(original, noise);
        float sigma = sigmas[index.forAddNoise(timestep, requireTimesteps())];
        float[] o = original.array();
        float[] z = noise.array();
        return FloatTensor.of(scaleNoise(o, z, sigma, new float[o.length]), original.shape());
    }

    @Override
    public FloatTensor addNoiseInto(FloatTensor original, FloatTensor noise, float timestep, FloatTensor into) {
        NoiseSchedule.requireSameShape(original, noise);
        float sigma = sigmas[index.forAddNoise(timestep, requireTimesteps())];
        scaleNoise(original.array(), noise.array(), sigma, into.array());
        return into;
    }

    private static float[] scaleNoise(float[] o, float[] z, float sigma, float[] out) {
        for (int k = 0; k < out.length; k++) {
            out[k] = sigma * z[k] + (1f - sigma) * o[k];
        }
        return out;
    }
}
