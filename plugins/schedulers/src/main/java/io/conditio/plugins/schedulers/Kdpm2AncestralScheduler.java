package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Ancestral DPM-Solver-2 as k-diffusion's {@code sample_dpm_2_ancestral}: a port of diffusers'
 * {@code KDPM2AncestralDiscreteScheduler}. Order 2 like {@link Kdpm2Scheduler}; each corrector step lands on
 * {@code sigma_down} and adds fresh noise of size {@code sigma_up}, drawing {@code randn(model_output.shape)} once
 * per step (in the second model call), as diffusers does.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class Kdpm2AncestralScheduler extends KDiffusionScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "KDPM2AncestralDiscreteScheduler";

    /** The config keys this class reads: diffusers' KDPM2DiscreteScheduler's, with the same defaults. */
    static final List<ConfigKey<?>> KEYS = Kdpm2Scheduler.KEYS;

    private final SigmaGrid grid;

    private float[] sigmasInterpol;
    private float[] sigmasUp;
    private float[] sigmasDown;
    private float[] firstOrderSample;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public Kdpm2AncestralScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private Kdpm2AncestralScheduler(ConfigReader r) {
        super(r, Kdpm2Scheduler.PREDICTION_TYPE, Kdpm2Scheduler.SCHEDULE);
        grid = SigmaGrid.read(r, schedule.alphasCumprod(), Sigmas.readSpacing(r));
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        Sigmas.Schedule spaced = grid.spaced("KDPM2 ancestral", numInferenceSteps, true);
        float[] s = spaced.sigmas();
        float[] ts = spaced.timesteps();
        int n = ts.length;

        // up / down split of each move s_i -> s_{i+1}, and the geometric midpoint between s_i and down_i
        float[] up = new float[n + 1];
        float[] down = new float[n + 1];
        float[] interpol = new float[n + 1];
        for (int i = 0; i <= n; i++) {
            float next = i < n ? s[i + 1] : 0f;
            float sq = s[i] * s[i];
            float nextSq = next * next;
            // diffusers gets NaN for the final 0 -> 0 move (0/0); that entry is never used
            up[i] = sq == 0f ? 0f : Float32.sqrt(Math.max(nextSq * (sq - nextSq) / sq, 0f));
            down[i] = i < n ? Float32.sqrt(nextSq - up[i] * up[i]) : 0f;
            if (i < n && next > 0f && !(down[i] > 0f)) {
                // squaredcos_cap_v2's huge sigma range can round the radicand to <= 0 (diffusers issue 14213),
                // giving NaN or a zero that turns into NaN below; use the identical, stable sqrt(next^4 / s^2)
                down[i] = nextSq / s[i];
            }
        }
        for (int i = 0; i <= n; i++) {
            interpol[i] = i >= n - 1 ? 0f
                    : Float32.exp(DynamicThresholding.lerp(Float32.log(s[i]), Float32.log(down[i]), 0.5f));
        }
        sigmasInterpol = interleave(interpol);
        sigmasUp = interleave(up);
        sigmasDown = interleave(down);

        // timesteps: [t0, ti_0, t_1, ti_1, t_2, ..., ti_{n-2}, t_{n-1}]
        firstOrderSample = null;
        setMidpointSchedule(grid, ts, s, interpol, 1);
    }

    @Override
    public int order() {
        return 2;
    }

    /** The first call of a step sees sigma, the second the midpoint towards sigma_down. */
    @Override
    float inputSigma(int i) {
        return firstOrderSample == null ? sigmas[i] : sigmasInterpol[i - 1];
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers b) {
        int i = stepIndex(timestep);
        boolean firstOrder = firstOrderSample == null;
        int at = firstOrder ? i : i - 1;
        float sigma = sigmas[at];
        float sigmaInterpol = sigmasInterpol[at];
        float sigmaUp = sigmasUp[at];
        float sigmaDown = sigmasDown[i - 1 < 0 ? sigmasDown.length - 1 : i - 1];
        float sigmaHat = sigma; // gamma = 0
        float sigmaInput = firstOrder ? sigmaHat : sigmaInterpol;

        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        float[] x0 = PredictionConversion.dataFromSigma(predictionType, x, m, sigmaInput, b.scratch(0, n));

        // 2. an Euler half step to the midpoint sigma, or DPM-Solver-2 to sigma_down from the stored sample, then
        // fresh noise of size sigma_up
        float[] prev = dpmSolver2(x, x0, firstOrderSample, sigmaHat, sigmaInterpol, sigmaDown, b.result(n));
        firstOrderSample = firstOrder ? stored(x, b, 1) : null;
        if (!firstOrder) {
            float[] noise = b.randn(random, modelOutput.shape());
            for (int k = 0; k < n; k++) {
                prev[k] = prev[k] + noise[k] * sigmaUp;
            }
        }
        index.advance();
        return prev;
    }
}
