package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * DDPM ancestral sampling (Ho et al., arXiv 2006.11239): a port of diffusers' {@code DDPMScheduler}. Every step but
 * the one at t = 0 draws {@code randn(model_output.shape)} for the posterior variance, as diffusers does.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 * {@code variance_type} {@code learned} / {@code learned_range} expect a model output with twice the sample's
 * channels (mean, then variance), as diffusers splits it.
 */
public final class DdpmScheduler extends DiscreteTimeScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "DDPMScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withBetaSchedules("linear", "scaled_linear",
            "squaredcos_cap_v2", "sigmoid", "laplace").withZeroSnr();
    private static final ConfigKey<String> VARIANCE_TYPE = ConfigKey.choice("variance_type", "fixed_small",
            "the posterior variance of each step; learned and learned_range read it from the model output",
            "fixed_small", "fixed_small_log", "fixed_large", "learned", "learned_range", "fixed_large_log");
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), VARIANCE_TYPE,
            DynamicThresholding.CLIP_SAMPLE, DynamicThresholding.CLIP_SAMPLE_RANGE, DynamicThresholding.KEYS,
            TimestepSpacing.LEADING_SPACING_KEY, TimestepSpacing.STEPS_OFFSET);

    private final String varianceType;
    private final DynamicThresholding.X0Clipping clipping;
    private final TimestepSpacing.Config timestepSpacing;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public DdpmScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private DdpmScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        varianceType = r.get(VARIANCE_TYPE);
        if ("fixed_large_log".equals(varianceType)) {
            throw r.invalid("variance_type 'fixed_large_log' cannot work: diffusers' DDPMScheduler.step scales the "
                    + "noise by sqrt(log(beta_t)), the square root of a negative number (NaN). Use 'fixed_large' for "
                    + "the same (large) variance or 'fixed_small'.");
        }
        clipping = DynamicThresholding.X0Clipping.read(r, DynamicThresholding.CLIP_SAMPLE);
        timestepSpacing = TimestepSpacing.Config.read(r, TimestepSpacing.LEADING_SPACING_KEY);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        setIntegerTimesteps(timestepSpacing.boundedDiscrete("DDPM", schedule.length(), numInferenceSteps));
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers work) {
        requireTimesteps();
        int t = TimestepSpacing.integral(timestep);
        int prevT = previousTimestep(timestep);

        float[] predictedVariance = null;
        FloatTensor output = modelOutput;
        boolean learned = "learned".equals(varianceType) || "learned_range".equals(varianceType);
        if (learned) {
            if (modelOutput.rank() < 2 || modelOutput.dim(1) != 2 * sample.dim(1)) {
                throw new IllegalArgumentException("DDPM with variance_type '" + varianceType + "' needs a model "
                        + "output with twice the sample's channels (mean, variance); got " + modelOutput.shapeString()
                        + " for a sample of " + sample.shapeString());
            }
            int half = modelOutput.size() / 2;
            FloatTensor[] halves = splitChannels(modelOutput, sample.dim(1), work.scratch(1, half),
                    work.scratch(2, half));
            output = halves[0];
            predictedVariance = halves[1].array();
        }

        // 1. alphas and betas of this step
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = previousAlphaCumprod(prevT);
        float betaProdT = 1f - alphaProdT;
        float betaProdTPrev = 1f - alphaProdTPrev;
        float currentAlphaT = alphaProdT / alphaProdTPrev;
        float currentBetaT = 1f - currentAlphaT;

        // 2. predicted x0, formula (15)
        float[] x = sample.array();
        float[] m = output.array();
        int n = x.length;
        float[] x0 = predictedData(t, x, m, work.scratch(0, n));

        // 3. clip or threshold x0
        x0 = clipping.apply(x0, sample.shape());

        // 4.-5. the posterior mean, formula (7)
        float x0Coeff = (Float32.sqrt(alphaProdTPrev) * currentBetaT) / betaProdT;
        float sampleCoeff = Float32.sqrt(currentAlphaT) * betaProdTPrev / betaProdT;
        float[] prev = work.result(n);
        for (int k = 0; k < n; k++) {
            prev[k] = x0Coeff * x0[k] + sampleCoeff * x[k];
        }

        // 6. add the posterior noise, except at t = 0
        if (t > 0) {
            float[] noise = work.randn(random, output.shape());
            float variance = variance(alphaProdT, alphaProdTPrev, currentBetaT);
            for (int k = 0; k < n; k++) {
                float scaled = switch (varianceType) {
                    case "fixed_small_log" -> variance * noise[k];
                    case "learned" -> Float32.sqrt(predictedVariance[k]) * noise[k];
                    case "learned_range" -> {
                        // interpolate between the log of the small and the large variance
                        float minLog = Float32.log(variance);
                        float maxLog = Float32.log(currentBetaT);
                        float frac = (predictedVariance[k] + 1f) / 2f;
                        float v = frac * maxLog + (1f - frac) * minLog;
                        yield Float32.exp(0.5f * v) * noise[k];
                    }
                    default -> Float32.sqrt(variance) * noise[k];
                };
                prev[k] = prev[k] + scaled;
            }
        }
        return prev;
    }

    /** {@code _get_variance} for the fixed variance types (the learned ones are handled per element). */
    private float variance(float alphaProdT, float alphaProdTPrev, float currentBetaT) {
        float variance = (1f - alphaProdTPrev) / (1f - alphaProdT) * currentBetaT;
        // the log is taken in some variants, so it is kept away from 0
        variance = Math.max(variance, 1e-20f);
        return switch (varianceType) {
            case "fixed_small_log" -> Float32.exp(0.5f * Float32.log(variance));
            case "fixed_large" -> currentBetaT;
            default -> variance;
        };
    }

    /** The posterior variance at {@code timestep} ({@code _get_variance} for the configured fixed type). */
    float varianceAt(float timestep) {
        int t = TimestepSpacing.integral(timestep);
        int prevT = previousTimestep(timestep);
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = previousAlphaCumprod(prevT);
        return variance(alphaProdT, alphaProdTPrev, 1f - alphaProdT / alphaProdTPrev);
    }

    /** diffusers' {@code previous_timestep}: the entry after the (first) match in the schedule, or -1 after the last. */
    private int previousTimestep(float timestep) {
        for (int k = 0; k < timesteps.length; k++) {
            if (timesteps[k] == timestep) {
                return k == timesteps.length - 1 ? -1 : (int) timesteps[k + 1];
            }
        }
        throw new IllegalArgumentException("timestep " + timestep + " is not one of this scheduler's timesteps; pass "
                + "the values timesteps() returned");
    }

    /** The mean and the variance channels of {@code t}, copied into {@code a} and {@code b}. */
    private static FloatTensor[] splitChannels(FloatTensor t, int channels, float[] a, float[] b) {
        int batch = t.dim(0);
        int plane = t.size() / (batch * t.dim(1));
        int[] shape = t.shape();
        shape[1] = channels;
        float[] src = t.array();
        for (int n = 0; n < batch; n++) {
            System.arraycopy(src, (n * 2 * channels) * plane, a, n * channels * plane, channels * plane);
            System.arraycopy(src, (n * 2 * channels + channels) * plane, b, n * channels * plane, channels * plane);
        }
        return new FloatTensor[] {FloatTensor.of(a, shape), FloatTensor.of(b, shape)};
    }
}
