package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;

/**
 * Euler steps along a rectified-flow / flow-matching ODE (Stable Diffusion 3, Flux, ...): a port of diffusers'
 * {@code FlowMatchEulerDiscreteScheduler}. The model predicts the velocity {@code noise - x0}; a step is
 * {@code x + (sigma_next - sigma) * v}, with {@code x_sigma = sigma * noise + (1 - sigma) * x0}. Deterministic
 * unless {@code stochastic_sampling} is on, which draws {@code randn(sample.shape)} per step from the generation's
 * generator (diffusers uses {@code torch.randn_like}, i.e. torch's global generator, there).
 *
 * <p>Config keys: {@code num_train_timesteps}, {@code shift}, {@code use_dynamic_shifting} (with {@code mu},
 * which diffusers' pipelines compute from the image sequence length and pass to {@code set_timesteps}),
 * {@code time_shift_type}, {@code invert_sigmas}, {@code shift_terminal}, {@code use_karras_sigmas},
 * {@code use_exponential_sigmas}, {@code stochastic_sampling}.
 */
public final class FlowMatchEulerScheduler extends TimestepScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "FlowMatchEulerDiscreteScheduler";

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
        ConfigReader r = new ConfigReader(config, CLASS_NAME);
        numTrainTimesteps = r.getInt("num_train_timesteps", 1000);
        if (numTrainTimesteps < 1) {
            throw r.invalid("num_train_timesteps must be at least 1, got " + numTrainTimesteps);
        }
        shift = r.getDouble("shift", 1.0);
        boolean dynamicShifting = r.getBoolean("use_dynamic_shifting", false);
        mu = r.getOptionalDouble("mu");
        if (dynamicShifting && mu == null) {
            throw r.invalid("use_dynamic_shifting=true needs 'mu', the resolution-dependent shift diffusers' pipelines "
                    + "pass to set_timesteps (e.g. Flux: interpolated between base_shift and max_shift by the image "
                    + "sequence length); set 'mu' in the scheduler config, or use_dynamic_shifting=false with 'shift'");
        }
        r.getOptionalDouble("base_shift");
        r.getOptionalDouble("max_shift");
        exponentialTimeShift = "exponential".equals(
                r.getChoice("time_shift_type", "exponential", "exponential", "linear"));
        invertSigmas = r.getBoolean("invert_sigmas", false);
        shiftTerminal = r.getOptionalDouble("shift_terminal");
        sigmaSpacing = Sigmas.readSpacing(r, true);
        stochasticSampling = r.getBoolean("stochastic_sampling", false);
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
    public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
        index.initIfUnset(timestep, requireTimesteps());
        int i = index.get();
        float sigma = sigmas[i];
        float sigmaNext = sigmas[i + 1];
        float dt = sigmaNext - sigma;
        float[] x = sample.array();
        float[] v = modelOutput.array();
        int n = x.length;
        float[] prev = new float[n];
        if (stochasticSampling) {
            // jump to the x0 estimate and re-noise it to the next sigma
            float[] noise = random.randn(sample.shape()).array();
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
        return FloatTensor.of(prev, sample.shape());
    }

    /** diffusers' {@code scale_noise}, the flow-matching forward process: {@code sigma * noise + (1 - sigma) * x}. */
    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        NoiseSchedule.requireSameShape(original, noise);
        float sigma = sigmas[index.forAddNoise(timestep, requireTimesteps())];
        float[] o = original.array();
        float[] z = noise.array();
        float[] out = new float[o.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = sigma * z[k] + (1f - sigma) * o[k];
        }
        return FloatTensor.of(out, original.shape());
    }
}
