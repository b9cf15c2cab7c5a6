package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * DEIS (Zhang and Chen, arXiv 2204.13902), the log-rho multistep exponential integrator: a port of diffusers'
 * {@code DEISMultistepScheduler}, orders 1 to 3. The noise prediction is re-derived from the (optionally
 * thresholded) data prediction and integrated with polynomial extrapolation in log(rho), rho = sigma / alpha.
 * Deterministic.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class DeisScheduler extends SolverScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "DEISMultistepScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS;
    private static final ConfigKey<Integer> SOLVER_ORDER = ConfigKey.integer("solver_order", 2,
            "the order of the multistep solver").oneOf(1, 2, 3);
    private static final ConfigKey<String> ALGORITHM_TYPE = ConfigKey.choice("algorithm_type", "deis",
            "the algorithm; DEIS has only 'deis', the others are mapped onto it", "deis", "dpmsolver", "dpmsolver++");
    private static final ConfigKey<String> SOLVER_TYPE = ConfigKey.choice("solver_type", "logrho",
            "the solver; DEIS has only 'logrho', the others are mapped onto it", "logrho", "midpoint", "heun", "bh1",
            "bh2");
    private static final ConfigKey<Boolean> LOWER_ORDER_FINAL = ConfigKey.flag("lower_order_final", true,
            "lower orders in the last steps (steadier below 15 steps)");
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), SOLVER_ORDER,
            DynamicThresholding.KEYS, ALGORITHM_TYPE, SOLVER_TYPE, LOWER_ORDER_FINAL, Sigmas.SPACING_KEYS,
            Sigmas.USE_FLOW_SIGMAS, TimestepSpacing.SPACING_KEY, TimestepSpacing.STEPS_OFFSET);

    private final float[] alphasCumprod;
    private final boolean lowerOrderFinal;
    private final Sigmas.Spacing sigmaSpacing;
    private final TimestepSpacing.Config timestepSpacing;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public DeisScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private DeisScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE, SOLVER_ORDER);
        alphasCumprod = schedule.alphasCumprod();
        // diffusers maps DPM-Solver / UniPC configs onto DEIS's only variant
        r.get(ALGORITHM_TYPE);
        r.get(SOLVER_TYPE);
        lowerOrderFinal = r.get(LOWER_ORDER_FINAL);
        sigmaSpacing = Sigmas.readSpacing(r);
        r.get(Sigmas.USE_FLOW_SIGMAS);
        timestepSpacing = TimestepSpacing.Config.read(r, TimestepSpacing.SPACING_KEY);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.requireSteps("DEIS", numInferenceSteps);
        int n = numInferenceSteps;
        long[] t = timestepSpacing.solver(schedule.length(), schedule.length(), n);

        float[] trainSigmas = Sigmas.fromAlphasCumprod(alphasCumprod);
        float[] withFinal;
        if (sigmaSpacing == Sigmas.Spacing.INTERPOLATED) {
            withFinal = Sigmas.withFinal(Sigmas.interp(Sigmas.asDoubles(t), trainSigmas), trainSigmas[0]);
        } else {
            double[] s = Sigmas.between(sigmaSpacing, trainSigmas[0], trainSigmas[trainSigmas.length - 1], n);
            // Karras timesteps are rounded, exponential ones truncated by the int64 cast
            t = Sigmas.int64Timesteps(s, Sigmas.log(trainSigmas), sigmaSpacing == Sigmas.Spacing.KARRAS);
            // diffusers repeats the last sigma: the final step has zero length
            withFinal = Sigmas.withFinal(s, s[n - 1]);
        }
        setSchedule(t, withFinal);
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers b) {
        int i = stepIndex(timestep);
        int steps = timesteps.length;
        int n = sample.size();
        boolean lowerOrderFinalStep = i == steps - 1 && lowerOrderFinal && steps < 15;
        boolean lowerOrderSecond = i == steps - 2 && lowerOrderFinal && steps < 15;

        // the noise prediction, always re-derived from the (thresholded) data prediction
        float[] eps = PredictionConversion.toNoiseThroughData(predictionType, modelOutput, sample, sigmas[i],
                thresholding, b.scratch(0, n), b.isKept() ? history.spare(n) : new float[n]);
        float[] x = sample.array();
        history.push(eps);

        int order = history.nextOrder(lowerOrderFinalStep, lowerOrderSecond);
        // DEIS's first order is DPM-Solver's (DDIM)
        float[] prev = b.result(n);
        if (order == 1) {
            DpmSolverUpdates.firstOrder("dpmsolver", eps, x, null, sigmas[i], sigmas[i + 1], prev);
        } else {
            higherOrderUpdate(x, i, order, prev);
        }
        history.stepTaken();
        index.advance();
        return prev;
    }

    /**
     * Second or third order: the noise predictions extrapolated linearly or quadratically in log(rho), integrated
     * exactly, {@code alpha_t * (x / alpha_s0 + sum_j coef_j * m_j)}.
     */
    private void higherOrderUpdate(float[] x, int i, int order, float[] out) {
        AlphaSigma t = AlphaSigma.of(sigmas[i + 1]);
        AlphaSigma s0 = AlphaSigma.of(sigmas[i]);
        float rhoT = t.rho();
        float rhoS0 = s0.rho();
        float rhoS1 = AlphaSigma.of(sigmas[i - 1]).rho();
        float[] coef;
        if (order == 2) {
            coef = new float[] {ind2(rhoT, rhoS0, rhoS1) - ind2(rhoS0, rhoS0, rhoS1),
                ind2(rhoT, rhoS1, rhoS0) - ind2(rhoS0, rhoS1, rhoS0)};
        } else {
            float rhoS2 = AlphaSigma.of(sigmas[i - 2]).rho();
            coef = new float[] {ind3(rhoT, rhoS0, rhoS1, rhoS2) - ind3(rhoS0, rhoS0, rhoS1, rhoS2),
                ind3(rhoT, rhoS1, rhoS2, rhoS0) - ind3(rhoS0, rhoS1, rhoS2, rhoS0),
                ind3(rhoT, rhoS2, rhoS0, rhoS1) - ind3(rhoS0, rhoS2, rhoS0, rhoS1)};
        }
        float[][] m = new float[order][];
        for (int j = 0; j < order; j++) {
            m[j] = history.back(j);
        }
        float alphaT = t.alpha();
        float alphaS0 = s0.alpha();
        for (int k = 0; k < out.length; k++) {
            float sum = x[k] / alphaS0;
            for (int j = 0; j < order; j++) {
                sum = sum + coef[j] * m[j][k];
            }
            out[k] = alphaT * sum;
        }
    }

    /** Antiderivative of the linear Lagrange basis in log(t): {@code t (log t - log c - 1) / (log b - log c)}. */
    private static float ind2(float t, float b, float c) {
        float lt = Float32.log(t);
        float lc = Float32.log(c);
        return t * (-lc + lt - 1f) / (Float32.log(b) - lc);
    }

    /** Antiderivative of the quadratic Lagrange basis in log(t), as diffusers writes it. */
    private static float ind3(float t, float b, float c, float d) {
        float lt = Float32.log(t);
        float lb = Float32.log(b);
        float lc = Float32.log(c);
        float ld = Float32.log(d);
        float numerator = t * (lc * (ld - lt + 1f) - ld * lt + ld + lt * lt - 2f * lt + 2f);
        float denominator = (lb - lc) * (lb - ld);
        return numerator / denominator;
    }
}
