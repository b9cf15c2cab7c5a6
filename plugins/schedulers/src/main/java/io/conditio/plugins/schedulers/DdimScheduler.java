package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * DDIM (Song et al., arXiv 2010.02502): a port of diffusers' {@code DDIMScheduler}. Deterministic for
 * {@code eta = 0}; with {@code eta > 0} it draws {@code randn(model_output.shape)} in every step, as diffusers does.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class DdimScheduler extends DiscreteTimeScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "DDIMScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withZeroSnr();
    private static final ConfigKey<Double> ETA = ConfigKey.number("eta", 0.0,
            "the weight of the noise each step adds (0: deterministic DDIM)").atLeast(0);
    private static final ConfigKey<Boolean> USE_CLIPPED_MODEL_OUTPUT = ConfigKey.flag("use_clipped_model_output", false,
            "re-derive epsilon from the clipped x0");
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(),
            NoiseSchedule.SET_ALPHA_TO_ONE, DynamicThresholding.CLIP_SAMPLE, DynamicThresholding.CLIP_SAMPLE_RANGE,
            DynamicThresholding.KEYS, TimestepSpacing.LEADING_SPACING_KEY, TimestepSpacing.STEPS_OFFSET, ETA,
            USE_CLIPPED_MODEL_OUTPUT);

    private final DynamicThresholding.X0Clipping clipping;
    private final TimestepSpacing.Config timestepSpacing;
    private final float eta;
    private final boolean useClippedModelOutput;

    private int numInferenceSteps;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public DdimScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private DdimScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        readSetAlphaToOne(r, NoiseSchedule.SET_ALPHA_TO_ONE);
        clipping = DynamicThresholding.X0Clipping.read(r, DynamicThresholding.CLIP_SAMPLE);
        timestepSpacing = TimestepSpacing.Config.read(r, TimestepSpacing.LEADING_SPACING_KEY);
        eta = r.get(ETA).floatValue();
        useClippedModelOutput = r.get(USE_CLIPPED_MODEL_OUTPUT);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        long[] t = timestepSpacing.boundedDiscrete("DDIM", schedule.length(), numInferenceSteps);
        this.numInferenceSteps = numInferenceSteps;
        setIntegerTimesteps(t);
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers work) {
        requireTimesteps();
        // DDIM formulas (12) and (16): x0 from the prediction, then x_{t-1} = sqrt(a_prev) x0 + direction + noise
        int t = TimestepSpacing.integral(timestep);
        int prevT = t - schedule.length() / numInferenceSteps;
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = previousAlphaCumprod(prevT);
        float betaProdT = 1f - alphaProdT;
        float sqrtAlpha = Float32.sqrt(alphaProdT);
        float sqrtBeta = Float32.sqrt(betaProdT);

        float[] m = modelOutput.array();
        float[] x = sample.array();
        int n = x.length;
        float[] x0 = PredictionConversion.fromAlphaBar(true, predictionType, x, m, sqrtAlpha, sqrtBeta,
                work.scratch(0, n));
        float[] eps = PredictionConversion.fromAlphaBar(false, predictionType, x, m, sqrtAlpha, sqrtBeta,
                work.scratch(1, n));
        x0 = clipping.apply(x0, sample.shape());

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
        float[] prev = work.result(n);
        for (int i = 0; i < n; i++) {
            prev[i] = sqrtAlphaPrev * x0[i] + directionCoeff * eps[i];
        }

        if (eta > 0) {
            float[] noise = work.randn(random, modelOutput.shape());
            for (int i = 0; i < n; i++) {
                prev[i] = prev[i] + stdDevT * noise[i];
            }
        }
        return prev;
    }
}
