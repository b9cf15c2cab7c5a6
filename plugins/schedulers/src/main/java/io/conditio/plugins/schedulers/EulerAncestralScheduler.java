package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Ancestral sampling with Euler steps (k-diffusion's {@code sample_euler_ancestral}): a port of diffusers'
 * {@code EulerAncestralDiscreteScheduler}. Each step takes a deterministic Euler step down to {@code sigma_down}
 * and adds fresh noise of size {@code sigma_up}, drawing {@code randn(model_output.shape)} once per step, as
 * diffusers does.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class EulerAncestralScheduler extends KDiffusionScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "EulerAncestralDiscreteScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.configKey(PredictionType.EPSILON,
            PredictionType.V_PREDICTION);
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withZeroSnr();
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), TimestepSpacing.SPACING_KEY,
            TimestepSpacing.STEPS_OFFSET);

    private final SigmaGrid grid;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public EulerAncestralScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private EulerAncestralScheduler(ConfigReader r) {
        // diffusers raises NotImplementedError for "sample"
        super(r, PREDICTION_TYPE, SCHEDULE);
        grid = SigmaGrid.read(r, schedule.alphasCumprodForSigmas(), Sigmas.Spacing.INTERPOLATED);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        Sigmas.Schedule s = grid.spaced("Euler ancestral", numInferenceSteps, false);
        setSchedule(s.timesteps(), s.sigmas(), grid.timestepSpacing());
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers b) {
        int i = stepIndex(timestep);
        float sigma = sigmas[i];
        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;

        // 1. predicted x0 from the sigma-scaled prediction
        float[] x0 = PredictionConversion.dataFromSigma(predictionType, x, m, sigma, b.scratch(0, n));

        // 2. split the move to sigma_to into a deterministic part (to sigma_down) and fresh noise (sigma_up)
        float sigmaFrom = sigmas[i];
        float sigmaTo = sigmas[i + 1];
        float fromSq = sigmaFrom * sigmaFrom;
        float toSq = sigmaTo * sigmaTo;
        float sigmaUp = Float32.sqrt(toSq * (fromSq - toSq) / fromSq);
        // sigma_up <= sigma_to in exact arithmetic; with squaredcos_cap_v2's huge sigma range float32 rounding can
        // push the radicand below 0 (diffusers issue 14213), which would be NaN
        float sigmaDown = Float32.sqrt(Math.max(toSq - sigmaUp * sigmaUp, 0f));
        float dt = sigmaDown - sigma;

        float[] prev = eulerStep(x, x, x0, sigma, dt, b.result(n));
        float[] noise = b.randn(random, modelOutput.shape());
        for (int k = 0; k < n; k++) {
            prev[k] = prev[k] + noise[k] * sigmaUp;
        }
        index.advance();
        return prev;
    }
}
