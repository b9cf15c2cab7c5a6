package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * UniPC (Zhao et al., arXiv 2302.04867), a unified predictor-corrector: a port of diffusers'
 * {@code UniPCMultistepScheduler} with the B(h) variants {@code bh1} and {@code bh2}. Each step first corrects the
 * previous prediction with the new model output (UniC), then predicts the next sample (UniP). Deterministic.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class UniPcScheduler extends SolverScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "UniPCMultistepScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withZeroSnr();
    private static final ConfigKey<Integer> SOLVER_ORDER = ConfigKey.integer("solver_order", 2,
            "the order of the predictor (2 for guided, 3 for unconditional sampling)").between(1, 4);
    private static final ConfigKey<Boolean> PREDICT_X0 = ConfigKey.flag("predict_x0", true,
            "integrate the data prediction x0 instead of the noise");
    private static final ConfigKey<String> SOLVER_TYPE = ConfigKey.choice("solver_type", "bh2",
            "the B(h) of UniPC; the DPM-Solver and DEIS types run as bh2", "bh1", "bh2", "midpoint", "heun", "logrho");
    private static final ConfigKey<Boolean> LOWER_ORDER_FINAL = ConfigKey.flag("lower_order_final", true,
            "lower orders in the last steps (steadier below 15 steps)");
    private static final ConfigKey<double[]> DISABLE_CORRECTOR = ConfigKey.numbers("disable_corrector",
            "the step indices that skip the corrector");
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), SOLVER_ORDER,
            DynamicThresholding.KEYS, PREDICT_X0, SOLVER_TYPE, LOWER_ORDER_FINAL, DISABLE_CORRECTOR,
            Sigmas.SPACING_KEYS, Sigmas.SIGMA_MIN, Sigmas.SIGMA_MAX, Sigmas.USE_FLOW_SIGMAS,
            TimestepSpacing.SPACING_KEY, TimestepSpacing.STEPS_OFFSET, Sigmas.FINAL_SIGMAS_TYPE);

    private final float[] alphasCumprod;
    private final boolean predictX0;
    private final boolean bh1;
    private final boolean lowerOrderFinal;
    private final Set<Integer> disableCorrector = new HashSet<>();
    private final Sigmas.Spacing sigmaSpacing;
    private final Double sigmaMin;
    private final Double sigmaMax;
    private final TimestepSpacing.Config timestepSpacing;
    private final boolean finalSigmaZero;

    private int thisOrder;
    private float[] lastSample;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public UniPcScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private UniPcScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE, SOLVER_ORDER);
        alphasCumprod = schedule.alphasCumprodForSigmas();
        predictX0 = r.get(PREDICT_X0);
        // diffusers maps the DPM-Solver / DEIS solver types onto bh2
        bh1 = "bh1".equals(r.get(SOLVER_TYPE));
        lowerOrderFinal = r.get(LOWER_ORDER_FINAL);
        double[] disabled = r.get(DISABLE_CORRECTOR);
        if (disabled != null) {
            for (double d : disabled) {
                disableCorrector.add((int) d);
            }
        }
        sigmaSpacing = Sigmas.readSpacing(r);
        sigmaMin = r.get(Sigmas.SIGMA_MIN);
        sigmaMax = r.get(Sigmas.SIGMA_MAX);
        r.get(Sigmas.USE_FLOW_SIGMAS);
        timestepSpacing = TimestepSpacing.Config.read(r, TimestepSpacing.SPACING_KEY);
        finalSigmaZero = "zero".equals(r.get(Sigmas.FINAL_SIGMAS_TYPE));
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.requireSteps("UniPC", numInferenceSteps);
        int n = numInferenceSteps;
        long[] t = timestepSpacing.solver(schedule.length(), schedule.length(), n);

        float[] trainSigmas = Sigmas.fromAlphasCumprod(alphasCumprod);
        float[] withFinal;
        if (sigmaSpacing == Sigmas.Spacing.INTERPOLATED) {
            double[] s = Sigmas.interp(Sigmas.asDoubles(t), trainSigmas);
            withFinal = Sigmas.withFinal(s, finalSigmaZero ? 0f : trainSigmas[0]);
        } else {
            double lo = sigmaMin != null ? sigmaMin : trainSigmas[0];
            double hi = sigmaMax != null ? sigmaMax : trainSigmas[trainSigmas.length - 1];
            double[] s = Sigmas.between(sigmaSpacing, lo, hi, n);
            // Karras timesteps are rounded, exponential ones truncated by the int64 cast
            t = Sigmas.int64Timesteps(s, Sigmas.log(trainSigmas), sigmaSpacing == Sigmas.Spacing.KARRAS);
            // here "sigma_min" repeats the schedule's own last sigma: the final step has zero length
            withFinal = Sigmas.withFinal(s, finalSigmaZero ? 0.0 : s[n - 1]);
        }
        thisOrder = 0;
        lastSample = null;
        setSchedule(t, withFinal);
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers b) {
        int i = stepIndex(timestep);
        int n = sample.size();
        boolean useCorrector = i > 0 && !disableCorrector.contains(i - 1) && lastSample != null;

        float[] converted = PredictionConversion.convert(predictX0, predictionType, false, modelOutput, sample,
                sigmas[i], thresholding, b.isKept() ? history.spare(n) : new float[n]);
        float[] x = sample.array();
        if (useCorrector) {
            // UniC: correct the sample the last predictor produced, with the output the model just gave for it
            x = correct(converted, lastSample, x, i, thisOrder, b);
        }

        history.push(converted);

        int order = lowerOrderFinal ? Math.min(solverOrder, timesteps.length - i) : solverOrder;
        thisOrder = Math.min(order, history.lowerOrderNums() + 1); // warm-up for the multistep history
        if (b.isKept() && x == sample.array()) {
            // the host writes into its sample again: the next corrector's start is copied
            float[] kept = b.scratch(0, n);
            System.arraycopy(x, 0, kept, 0, n);
            x = kept;
        }
        lastSample = x;
        // UniP: predict the next sample
        float[] prev = predict(x, i, thisOrder, b);
        history.stepTaken();
        index.advance();
        return prev;
    }

    /** UniP-p with B(h): from sigma[i] to sigma[i+1] using the last {@code order} converted outputs. */
    private float[] predict(float[] x, int i, int order, StepBuffers b) {
        AlphaSigma t = AlphaSigma.of(sigmas[i + 1]);
        AlphaSigma s0 = AlphaSigma.of(sigmas[i]);
        float lambdaS0 = s0.lambda();
        float h = t.lambda() - lambdaS0;
        float[] m0 = history.back(0);
        int n = x.length;
        float[] out = b.result(n);
        if (h == 0f) {
            System.arraycopy(x, 0, out, 0, n); // zero-length final step (Karras with sigma_min): x unchanged
            return out;
        }

        float[] rks = new float[order];
        float[][] d1s = differences(i, order, lambdaS0, h, m0, rks, b);
        BhTerms bh = new BhTerms(predictX0 ? -h : h, bh1, rks, order);

        float[] rhos = null;
        if (order == 2) {
            rhos = new float[] {0.5f};
        } else if (order > 2) {
            rhos = LuSolver.solve(bh.leadingR(order - 1), java.util.Arrays.copyOf(bh.b, order - 1));
        }

        float a = predictX0 ? t.sigma() / s0.sigma() : t.alpha() / s0.alpha();
        float scale = predictX0 ? t.alpha() : t.sigma();
        float c0 = scale * bh.hPhi1;
        float cRes = scale * bh.bH;
        for (int e = 0; e < n; e++) {
            float xt = a * x[e] - c0 * m0[e];
            if (rhos != null) {
                float predRes = rhos[0] * d1s[0][e];
                for (int k = 1; k < rhos.length; k++) {
                    predRes = predRes + rhos[k] * d1s[k][e];
                }
                xt = xt - cRes * predRes;
            }
            out[e] = xt;
        }
        return out;
    }

    /**
     * The older outputs as UniP and UniC weigh them: for k = 1 .. order - 1, {@code r_k = (lambda(sigma[from - k]) -
     * lambda_s0) / h} into {@code rks[k - 1]} and the difference {@code (m_k - m0) / r_k}; {@code rks[order - 1] = 1}.
     *
     * @param from the step index of the newest output in the history
     * @param b    where the differences go: scratch slots 1 to {@code order - 1}
     * @return the differences, one array per k
     */
    private float[][] differences(int from, int order, float lambdaS0, float h, float[] m0, float[] rks,
            StepBuffers b) {
        int n = m0.length;
        float[][] d1s = new float[order - 1][];
        for (int k = 1; k < order; k++) {
            float[] mi = history.back(k);
            float rk = (AlphaSigma.of(sigmas[from - k]).lambda() - lambdaS0) / h;
            rks[k - 1] = rk;
            float[] d = b.scratch(k, n);
            for (int e = 0; e < n; e++) {
                d[e] = (mi[e] - m0[e]) / rk;
            }
            d1s[k - 1] = d;
        }
        rks[order - 1] = 1f;
        return d1s;
    }

    /**
     * UniC-p with B(h): corrects the sample at sigma[i] predicted from sigma[i-1], using the new output.
     *
     * @param b where the corrected sample goes: scratch slot 0, which may be {@code last} itself (each value is
     *          read before it is written)
     * @return the corrected sample, or {@code thisSample} for a zero-length step
     */
    private float[] correct(float[] modelT, float[] last, float[] thisSample, int i, int order, StepBuffers b) {
        AlphaSigma t = AlphaSigma.of(sigmas[i]);
        AlphaSigma s0 = AlphaSigma.of(sigmas[i - 1]);
        float lambdaS0 = s0.lambda();
        float h = t.lambda() - lambdaS0;
        float[] m0 = history.back(0);
        int n = last.length;
        if (h == 0f) {
            return thisSample;
        }

        float[] rks = new float[order];
        float[][] d1s = differences(i - 1, order, lambdaS0, h, m0, rks, b);
        BhTerms bh = new BhTerms(predictX0 ? -h : h, bh1, rks, order);
        float[] rhos = order == 1 ? new float[] {0.5f} : LuSolver.solve(bh.leadingR(order), bh.b);

        float a = predictX0 ? t.sigma() / s0.sigma() : t.alpha() / s0.alpha();
        float scale = predictX0 ? t.alpha() : t.sigma();
        float c0 = scale * bh.hPhi1;
        float cRes = scale * bh.bH;
        float rhoLast = rhos[rhos.length - 1];
        float[] out = b.scratch(0, n);
        for (int e = 0; e < n; e++) {
            float xt = a * last[e] - c0 * m0[e];
            float d1t = modelT[e] - m0[e];
            float corrRes;
            if (order > 1) {
                corrRes = rhos[0] * d1s[0][e];
                for (int k = 1; k < order - 1; k++) {
                    corrRes = corrRes + rhos[k] * d1s[k][e];
                }
                corrRes = corrRes + rhoLast * d1t;
            } else {
                corrRes = rhoLast * d1t;
            }
            out[e] = xt - cRes * corrRes;
        }
        return out;
    }

    /**
     * The B(h) quantities shared by UniP and UniC: {@code h phi_1(h) = expm1(hh)}, {@code B(h)} ({@code hh} for bh1,
     * {@code expm1(hh)} for bh2), the right-hand side {@code b} and the power matrix {@code R[p][k] = rks[k]^p}.
     */
    private static final class BhTerms {
        final float hPhi1;
        final float bH;
        final float[] b;
        final float[] rks;

        BhTerms(float hh, boolean bh1, float[] rks, int order) {
            this.rks = rks;
            hPhi1 = Float32.expm1(hh);
            float hPhiK = hPhi1 / hh - 1f;
            bH = bh1 ? hh : Float32.expm1(hh);
            b = new float[order];
            long factorial = 1;
            for (int p = 1; p <= order; p++) {
                b[p - 1] = hPhiK * (float) factorial / bH;
                factorial *= p + 1;
                hPhiK = hPhiK / hh - (float) (1.0 / factorial);
            }
        }

        /** The top-left {@code size x size} block of R. */
        float[][] leadingR(int size) {
            float[][] r = new float[size][size];
            for (int p = 0; p < size; p++) {
                for (int k = 0; k < size; k++) {
                    r[p][k] = pow(rks[k], p);
                }
            }
            return r;
        }

        /** {@code torch.pow(x, p)} for small integer p: 1, x, x*x, x*x*x as torch computes them. */
        private static float pow(float x, int p) {
            return switch (p) {
                case 0 -> 1f;
                case 1 -> x;
                case 2 -> x * x;
                case 3 -> x * x * x;
                default -> (float) Math.pow(x, p);
            };
        }
    }
}
