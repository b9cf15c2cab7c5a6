package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Trajectory consistency distillation sampling (Zheng et al., arXiv 2402.19159): a port of diffusers'
 * {@code TCDScheduler}. Each step jumps to the intermediate timestep {@code s = floor((1 - eta) * t_prev)} along the
 * trajectory and, with {@code eta > 0} ("gamma" in the paper), re-noises to {@code t_prev} with
 * {@code randn(model_output.shape)} in every step but the last, as diffusers does. {@code eta = 0} is deterministic.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 * {@code eta} defaults to 0, as diffusers' pipelines pass it; the TCD paper suggests 0.3.
 */
public final class TcdScheduler extends DiscreteTimeScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "TCDScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    // diffusers' TCDScheduler has LCMScheduler's schedule defaults
    private static final NoiseSchedule.Keys SCHEDULE = LcmScheduler.SCHEDULE;
    private static final ConfigKey<Integer> ORIGINAL_INFERENCE_STEPS = LcmScheduler.ORIGINAL_INFERENCE_STEPS;
    private static final ConfigKey<Double> ETA = ConfigKey.number("eta", 0.0,
            "gamma of the TCD paper: 0 deterministic, towards 1 more stochastic").between(0, 1);
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), ORIGINAL_INFERENCE_STEPS,
            NoiseSchedule.SET_ALPHA_TO_ONE, ETA);

    private final int originalInferenceSteps;
    private final float eta;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public TcdScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private TcdScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        originalInferenceSteps = r.get(ORIGINAL_INFERENCE_STEPS);
        readSetAlphaToOne(r, NoiseSchedule.SET_ALPHA_TO_ONE);
        eta = r.get(ETA).floatValue();
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        setIntegerTimesteps(TimestepSpacing.consistency("TCD", schedule.length(), originalInferenceSteps,
                numInferenceSteps));
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers work) {
        int i = stepIndex(timestep);
        int t = TimestepSpacing.integral(timestep);

        // 1. the next timestep and the intermediate one along the trajectory
        int prevT = i + 1 < timesteps.length ? (int) timesteps[i + 1] : 0;
        int s = (int) Math.floor((1f - eta) * (float) prevT);

        // 2. alphas and betas
        float alphaProdTPrev = previousAlphaCumprod(prevT);
        float alphaProdS = alphasCumprod[s];
        float betaProdS = 1f - alphaProdS;

        // 3. x0 and epsilon from the prediction, then the noised sample at s
        float[] x = sample.array();
        float[] m = modelOutput.array();
        float sqrtAlphaS = Float32.sqrt(alphaProdS);
        float sqrtBetaS = Float32.sqrt(betaProdS);
        int n = x.length;
        float[] x0 = predictedData(t, x, m, work.scratch(0, n));
        float[] eps = predictedNoise(t, x, m, work.scratch(1, n));
        float[] noised = NoiseSchedule.noised(x0, eps, sqrtAlphaS, sqrtBetaS, work.result(n));

        // 4. with eta > 0, re-noise from s to t_prev (not in the last step)
        float[] prev = noised;
        if (eta > 0 && i != timesteps.length - 1) {
            float[] noise = work.randn(random, modelOutput.shape());
            float ratio = alphaProdTPrev / alphaProdS;
            float a = Float32.sqrt(ratio);
            float b = Float32.sqrt(1f - ratio);
            prev = NoiseSchedule.noised(noised, noise, a, b, noised);
        }
        index.advance();
        return prev;
    }
}
