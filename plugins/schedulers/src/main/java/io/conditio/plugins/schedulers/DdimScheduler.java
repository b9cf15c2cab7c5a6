package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;

/**
 * DDIM (Song et al., arXiv 2010.02502): a port of diffusers' {@code DDIMScheduler}. Deterministic for
 * {@code eta = 0}; with {@code eta > 0} it draws {@code randn(model_output.shape)} in every step, as diffusers does.
 *
 * <p>Config keys: {@code num_train_timesteps}, {@code beta_start}, {@code beta_end}, {@code beta_schedule},
 * {@code trained_betas}, {@code clip_sample}, {@code clip_sample_range}, {@code set_alpha_to_one},
 * {@code steps_offset}, {@code prediction_type}, {@code thresholding}, {@code dynamic_thresholding_ratio},
 * {@code sample_max_value}, {@code timestep_spacing}, {@code rescale_betas_zero_snr}, and the step arguments
 * {@code eta} and {@code use_clipped_model_output}.
 */
public final class DdimScheduler extends TimestepScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "DDIMScheduler";

    private final NoiseSchedule schedule;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;
    private final String predictionType;
    private final boolean clipSample;
    private final float clipSampleRange;
    private final DynamicThresholding thresholding;
    private final String timestepSpacing;
    private final int stepsOffset;
    private final float eta;
    private final boolean useClippedModelOutput;

    private int numInferenceSteps;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public DdimScheduler(SchedulerConfig config) {
        super(false);
        ConfigReader r = new ConfigReader(config, CLASS_NAME);
        predictionType = r.getChoice("prediction_type", "epsilon", "epsilon", "sample", "v_prediction");
        schedule = NoiseSchedule.fromConfig(r, 0.0001, 0.02, "linear", true, predictionType);
        alphasCumprod = schedule.alphasCumprod();
        boolean setAlphaToOne = r.getBoolean("set_alpha_to_one", true);
        finalAlphaCumprod = setAlphaToOne ? 1f : alphasCumprod[0];
        clipSample = r.getBoolean("clip_sample", true);
        clipSampleRange = (float) r.getDouble("clip_sample_range", 1.0);
        thresholding = DynamicThresholding.fromConfig(r);
        timestepSpacing = r.getChoice("timestep_spacing", "leading", TimestepSpacing.SPACINGS);
        stepsOffset = r.getInt("steps_offset", 0);
        eta = (float) r.getDouble("eta", 0.0);
        if (eta < 0) {
            throw r.invalid("eta must be >= 0, got " + eta);
        }
        useClippedModelOutput = r.getBoolean("use_clipped_model_output", false);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        int n = schedule.length();
        TimestepSpacing.requireSteps("DDIM", numInferenceSteps, n);
        this.numInferenceSteps = numInferenceSteps;
        timesteps = TimestepSpacing.toFloats(
                TimestepSpacing.discrete(timestepSpacing, n, numInferenceSteps, stepsOffset));
        NoiseSchedule.requireNoTerminalEpsilonStep(CLASS_NAME, predictionType, alphasCumprod, timesteps);
    }

    @Override
    public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
        requireTimesteps();
        // DDIM formulas (12) and (16): x0 from the prediction, then x_{t-1} = sqrt(a_prev) x0 + direction + noise
        int t = TimestepSpacing.integral(timestep);
        int prevT = t - schedule.length() / numInferenceSteps;
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
        float betaProdT = 1f - alphaProdT;
        float sqrtAlpha = Float32.sqrt(alphaProdT);
        float sqrtBeta = Float32.sqrt(betaProdT);

        float[] m = modelOutput.array();
        float[] x = sample.array();
        int n = x.length;
        float[] x0 = PredictionConversion.dataFromAlphaBar(predictionType, x, m, sqrtAlpha, sqrtBeta);
        float[] eps = PredictionConversion.noiseFromAlphaBar(predictionType, x, m, sqrtAlpha, sqrtBeta);
        x0 = DynamicThresholding.applyOrClip(thresholding, clipSample, clipSampleRange, x0, sample.shape());

        float betaProdTPrev = 1f - alphaProdTPrev;
        float variance = (betaProdTPrev / betaProdT) * (1f - alphaProdT / alphaProdTPrev);
        float stdDevT = eta * Float32.sqrt(variance);

        if (useClippedModelOutput) {
            for (int i = 0; i < n; i++) {
                eps[i] = (x[i] - sqrtAlpha * x0[i]) / sqrtBeta;
            }
        }

        float directionCoeff = Float32.sqrt(1f - alphaProdTPrev - stdDevT * stdDevT);
        float sqrtAlphaPrev = Float32.sqrt(alphaProdTPrev);
        float[] prev = new float[n];
        for (int i = 0; i < n; i++) {
            prev[i] = sqrtAlphaPrev * x0[i] + directionCoeff * eps[i];
        }

        if (eta > 0) {
            float[] noise = random.randn(modelOutput.shape()).array();
            for (int i = 0; i < n; i++) {
                prev[i] = prev[i] + stdDevT * noise[i];
            }
        }
        return FloatTensor.of(prev, sample.shape());
    }

    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        return NoiseSchedule.addNoise(alphasCumprod, original, noise, TimestepSpacing.integral(timestep));
    }
}
