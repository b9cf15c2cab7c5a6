package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Latent consistency model sampling (Luo et al., arXiv 2310.04378): a port of diffusers' {@code LCMScheduler}.
 * Each step maps the sample to the consistency function's output (the denoised estimate under the boundary-condition
 * scalings) and, except in the last step, re-noises it to the next timestep with {@code randn(model_output.shape)},
 * as diffusers does. One step draws nothing.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class LcmScheduler extends DiscreteTimeScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "LCMScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    /** The noise schedule keys with the latent consistency models' defaults (TCD shares them). */
    static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withBetaStart(0.00085).withBetaEnd(0.012)
            .withBetaSchedule("scaled_linear").withZeroSnr();
    /** {@code original_inference_steps} (TCD shares it). */
    static final ConfigKey<Integer> ORIGINAL_INFERENCE_STEPS = ConfigKey.integer("original_inference_steps", 50,
            "the step count of the distillation schedule the timesteps are drawn from");
    private static final ConfigKey<Boolean> CLIP_SAMPLE = DynamicThresholding.CLIP_SAMPLE.withDefault(false);
    private static final ConfigKey<Double> TIMESTEP_SCALING = ConfigKey.number("timestep_scaling", 10.0,
            "the timestep scale of the consistency boundary conditions");
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), ORIGINAL_INFERENCE_STEPS,
            CLIP_SAMPLE, DynamicThresholding.CLIP_SAMPLE_RANGE, NoiseSchedule.SET_ALPHA_TO_ONE,
            DynamicThresholding.KEYS, TIMESTEP_SCALING);

    private static final float SIGMA_DATA = 0.5f;

    private final int originalInferenceSteps;
    private final DynamicThresholding.X0Clipping clipping;
    private final float timestepScaling;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public LcmScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private LcmScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        originalInferenceSteps = r.get(ORIGINAL_INFERENCE_STEPS);
        boolean clipSample = r.get(CLIP_SAMPLE);
        float clipSampleRange = r.get(DynamicThresholding.CLIP_SAMPLE_RANGE).floatValue();
        readSetAlphaToOne(r, NoiseSchedule.SET_ALPHA_TO_ONE);
        clipping = new DynamicThresholding.X0Clipping(DynamicThresholding.fromConfig(r), clipSample, clipSampleRange);
        timestepScaling = r.get(TIMESTEP_SCALING).floatValue();
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        setIntegerTimesteps(TimestepSpacing.consistency("LCM", schedule.length(), originalInferenceSteps,
                numInferenceSteps));
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers work) {
        int i = stepIndex(timestep);
        int t = TimestepSpacing.integral(timestep);

        // 1. the next timestep (the last step re-uses its own)
        int prevT = i + 1 < timesteps.length ? (int) timesteps[i + 1] : t;

        // 2. alphas and betas of the next timestep (x0 below reads those of this one)
        float alphaProdTPrev = previousAlphaCumprod(prevT);
        float betaProdTPrev = 1f - alphaProdTPrev;

        // 3. boundary-condition scalings: c_skip -> 1 and c_out -> 0 as t -> 0
        float scaled = (float) t * timestepScaling;
        float cSkip = SIGMA_DATA * SIGMA_DATA / (scaled * scaled + SIGMA_DATA * SIGMA_DATA);
        float cOut = scaled / Float32.sqrt(scaled * scaled + SIGMA_DATA * SIGMA_DATA);

        // 4. predicted x0
        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        float[] x0 = predictedData(t, x, m, work.scratch(0, n));

        // 5. clip or threshold x0
        x0 = clipping.apply(x0, sample.shape());

        // 6. the consistency function's output
        float[] denoised = work.result(n);
        for (int k = 0; k < n; k++) {
            denoised[k] = cOut * x0[k] + cSkip * x[k];
        }

        // 7. re-noise to the next timestep, except in the last step
        float[] prev = denoised;
        if (i != timesteps.length - 1) {
            float[] noise = work.randn(random, modelOutput.shape());
            float a = Float32.sqrt(alphaProdTPrev);
            float b = Float32.sqrt(betaProdTPrev);
            prev = NoiseSchedule.noised(denoised, noise, a, b, denoised);
        }
        index.advance();
        return prev;
    }
}
