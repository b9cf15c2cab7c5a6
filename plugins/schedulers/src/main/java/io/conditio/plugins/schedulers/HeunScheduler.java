package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Heun's second-order method (Karras et al., arXiv 2206.00364, Algorithm 1): a port of diffusers'
 * {@code HeunDiscreteScheduler}. Order 2: every interior timestep appears twice in {@link #timesteps()}, once for
 * the Euler predictor and once for the trapezoidal corrector; the last step is a plain Euler step to sigma 0.
 * Deterministic.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class HeunScheduler extends KDiffusionScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "HeunDiscreteScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withBetaStart(0.00085).withBetaEnd(0.012);
    private static final ConfigKey<Boolean> CLIP_SAMPLE = DynamicThresholding.CLIP_SAMPLE.withDefault(false);
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), Sigmas.SPACING_KEYS,
            CLIP_SAMPLE, DynamicThresholding.CLIP_SAMPLE_RANGE, TimestepSpacing.SPACING_KEY,
            TimestepSpacing.STEPS_OFFSET);

    private final SigmaGrid grid;
    /** {@code clip_sample} of the predicted x0; Heun has no dynamic thresholding. */
    private final DynamicThresholding.X0Clipping clipping;

    // the first-order half of the current step; null in "first order" state
    private float[] prevDerivative;
    private float dt;
    private float[] firstOrderSample;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public HeunScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private HeunScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        Sigmas.Spacing sigmaSpacing = Sigmas.readSpacing(r);
        boolean clipSample = r.get(CLIP_SAMPLE);
        clipping = new DynamicThresholding.X0Clipping(null, clipSample,
                r.get(DynamicThresholding.CLIP_SAMPLE_RANGE).floatValue());
        grid = SigmaGrid.read(r, schedule.alphasCumprod(), sigmaSpacing);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        Sigmas.Schedule spaced = grid.spaced("Heun", numInferenceSteps, false);
        float[] s = spaced.sigmas();
        float[] ts = spaced.timesteps();
        int n = ts.length;
        // sigmas: [s0, s1, s1, ..., s_{n-1}, s_{n-1}, 0]; timesteps: [t0, t1, t1, ..., t_{n-1}, t_{n-1}]
        float[] doubledSigmas = new float[2 * n];
        doubledSigmas[0] = s[0];
        for (int i = 1; i < n; i++) {
            doubledSigmas[2 * i - 1] = s[i];
            doubledSigmas[2 * i] = s[i];
        }
        doubledSigmas[2 * n - 1] = s[n];
        float[] doubledTimesteps = new float[2 * n - 1];
        doubledTimesteps[0] = ts[0];
        for (int i = 1; i < n; i++) {
            doubledTimesteps[2 * i - 1] = ts[i];
            doubledTimesteps[2 * i] = ts[i];
        }
        prevDerivative = null;
        firstOrderSample = null;
        setSchedule(doubledTimesteps, doubledSigmas, grid.timestepSpacing());
    }

    @Override
    public int order() {
        return 2;
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers b) {
        int i = stepIndex(timestep);
        boolean firstOrder = prevDerivative == null;
        float sigma = firstOrder ? sigmas[i] : sigmas[i - 1];
        float sigmaNext = firstOrder ? sigmas[i + 1] : sigmas[i];
        float sigmaHat = sigma; // gamma = 0: diffusers supports no churn here
        float sigmaInput = firstOrder ? sigmaHat : sigmaNext;

        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;

        // 1. predicted x0 (at the predictor's or the corrector's sigma)
        float[] x0 = PredictionConversion.dataFromSigma(predictionType, x, m, sigmaInput, b.scratch(0, n));
        x0 = clipping.apply(x0, sample.shape());

        float[] prev = b.result(n);
        if (firstOrder) {
            // 2. Euler predictor: derivative at sigma, step to sigma_next; remembered for the corrector
            float[] derivative = derivative(x, x0, sigmaHat, b.scratch(1, n));
            dt = sigmaNext - sigmaHat;
            for (int k = 0; k < n; k++) {
                prev[k] = x[k] + derivative[k] * dt;
            }
            prevDerivative = derivative;
            firstOrderSample = stored(x, b, 2);
        } else {
            // 2. Heun corrector: average the two derivatives and redo the step from the stored sample
            float[] base = firstOrderSample;
            for (int k = 0; k < n; k++) {
                float derivative = (x[k] - x0[k]) / sigmaNext;
                derivative = (prevDerivative[k] + derivative) / 2f;
                prev[k] = base[k] + derivative * dt;
            }
            prevDerivative = null;
            firstOrderSample = null;
        }
        index.advance();
        return prev;
    }
}
