package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * DPM-Solver-2 as k-diffusion's {@code sample_dpm_2}: a port of diffusers' {@code KDPM2DiscreteScheduler}. Order 2:
 * each step evaluates the model at sigma and at the geometric midpoint between sigma and the next sigma, so
 * {@link #timesteps()} interleaves the midpoint timesteps. Deterministic.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class Kdpm2Scheduler extends KDiffusionScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "KDPM2DiscreteScheduler";

    /** diffusers raises NotImplementedError for "sample" (KDPM2 ancestral too). */
    static final ConfigKey<String> PREDICTION_TYPE = PredictionType.configKey(PredictionType.EPSILON,
            PredictionType.V_PREDICTION);
    /** The schedule keys with the KDPM2 defaults (KDPM2 ancestral shares them). */
    static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withBetaStart(0.00085).withBetaEnd(0.012);
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), Sigmas.SPACING_KEYS,
            TimestepSpacing.SPACING_KEY, TimestepSpacing.STEPS_OFFSET);

    private final SigmaGrid grid;

    private float[] sigmasInterpol;
    // the sample at the start of the current step; null in "first order" state
    private float[] firstOrderSample;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public Kdpm2Scheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private Kdpm2Scheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        grid = SigmaGrid.read(r, schedule.alphasCumprod(), Sigmas.readSpacing(r));
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        Sigmas.Schedule spaced = grid.spaced("KDPM2", numInferenceSteps, true);
        float[] s = spaced.sigmas();
        float[] ts = spaced.timesteps();
        int n = ts.length;

        // geometric midpoints: exp(lerp(log s_i, log s_{i-1}, 0.5)); [0] is NaN in diffusers and never used
        float[] interpol = new float[n + 1];
        interpol[0] = Float.NaN;
        for (int i = 1; i <= n; i++) {
            float a = Float32.log(s[i]);
            float b = Float32.log(s[i - 1]);
            interpol[i] = Float32.exp(DynamicThresholding.lerp(a, b, 0.5f));
        }
        sigmasInterpol = interleave(interpol);

        // timesteps: [t0, ti_1, t_1, ti_2, t_2, ..., ti_{n-1}, t_{n-1}]
        firstOrderSample = null;
        setMidpointSchedule(grid, ts, s, interpol, 0);
    }

    @Override
    public int order() {
        return 2;
    }

    /** The first call of a step sees sigma, the second the midpoint. */
    @Override
    float inputSigma(int i) {
        return firstOrderSample == null ? sigmas[i] : sigmasInterpol[i];
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers b) {
        int i = stepIndex(timestep);
        boolean firstOrder = firstOrderSample == null;
        float sigma = firstOrder ? sigmas[i] : sigmas[i - 1];
        float sigmaInterpol = firstOrder ? sigmasInterpol[i + 1] : sigmasInterpol[i];
        float sigmaNext = firstOrder ? sigmas[i + 1] : sigmas[i];
        float sigmaHat = sigma; // gamma = 0
        float sigmaInput = firstOrder ? sigmaHat : sigmaInterpol;

        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        float[] x0 = PredictionConversion.dataFromSigma(predictionType, x, m, sigmaInput, b.scratch(0, n));

        // 2. an Euler half step to the midpoint sigma, or DPM-Solver-2: the midpoint derivative carries the full
        // step from the stored sample
        float[] prev = dpmSolver2(x, x0, firstOrderSample, sigmaHat, sigmaInterpol, sigmaNext, b.result(n));
        firstOrderSample = firstOrder ? stored(x, b, 1) : null;
        index.advance();
        return prev;
    }
}
