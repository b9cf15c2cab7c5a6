package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Single-step DPM-Solver / DPM-Solver++ (Lu et al., arXiv 2206.00927 and 2211.01095): a port of diffusers'
 * {@code DPMSolverSinglestepScheduler}. Steps are grouped in blocks of {@code solver_order} model calls; a block
 * starts from the sample at its first timestep and each call of the block extends the solution from there, so the
 * {@code order_list} decides the order per call. {@code sde-dpmsolver++} draws {@code randn(model_output.shape)}
 * in every step, as diffusers does.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class DpmSolverSinglestepScheduler extends SolverScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "DPMSolverSinglestepScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS;
    private static final ConfigKey<Integer> SOLVER_ORDER = ConfigKey.integer("solver_order", 2,
            "the order of each single step (2 for guided sampling)").oneOf(1, 2, 3);
    private static final ConfigKey<String> ALGORITHM_TYPE = ConfigKey.choice("algorithm_type", "dpmsolver++",
            "DPM-Solver++ or DPM-Solver; deis runs as dpmsolver++", "dpmsolver++", "sde-dpmsolver++", "dpmsolver",
            "deis");
    // diffusers' single-step solver has the multistep solver's solver_type, lambda_min_clipped and variance_type
    private static final ConfigKey<String> SOLVER_TYPE = DpmSolverMultistepScheduler.SOLVER_TYPE;
    private static final ConfigKey<Boolean> LOWER_ORDER_FINAL = ConfigKey.flag("lower_order_final", false,
            "lower orders in the last steps");
    private static final ConfigKey<Double> LAMBDA_MIN_CLIPPED = DpmSolverMultistepScheduler.LAMBDA_MIN_CLIPPED;
    private static final ConfigKey<String> VARIANCE_TYPE = DpmSolverMultistepScheduler.VARIANCE_TYPE;
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), SOLVER_ORDER,
            DynamicThresholding.KEYS, ALGORITHM_TYPE, SOLVER_TYPE, LOWER_ORDER_FINAL, Sigmas.SPACING_KEYS,
            Sigmas.USE_FLOW_SIGMAS, Sigmas.FINAL_SIGMAS_TYPE, LAMBDA_MIN_CLIPPED, VARIANCE_TYPE);

    private final float[] alphasCumprod;
    private final String algorithmType;
    private final boolean midpoint;
    private final Sigmas.Spacing sigmaSpacing;
    private final boolean finalSigmaZero;
    private final double lambdaMinClipped;
    private final boolean learnedVariance;
    /** diffusers turns this on for good (register_to_config) when the steps do not fit the order. */
    private boolean lowerOrderFinal;

    private int[] orderList;
    private float[] blockSample;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public DpmSolverSinglestepScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private DpmSolverSinglestepScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE, SOLVER_ORDER);
        alphasCumprod = schedule.alphasCumprod();
        String algorithm = r.get(ALGORITHM_TYPE);
        algorithmType = "deis".equals(algorithm) ? "dpmsolver++" : algorithm;
        String solver = r.get(SOLVER_TYPE);
        midpoint = !"heun".equals(solver);
        lowerOrderFinal = r.get(LOWER_ORDER_FINAL);
        sigmaSpacing = Sigmas.readSpacing(r);
        r.get(Sigmas.USE_FLOW_SIGMAS);
        finalSigmaZero = "zero".equals(r.get(Sigmas.FINAL_SIGMAS_TYPE));
        if (finalSigmaZero && "dpmsolver".equals(algorithmType)) {
            throw r.invalid("final_sigmas_type 'zero' is not supported for algorithm_type 'dpmsolver'; set "
                    + "final_sigmas_type to 'sigma_min' or use dpmsolver++ / sde-dpmsolver++");
        }
        lambdaMinClipped = r.get(LAMBDA_MIN_CLIPPED);
        learnedVariance = r.get(VARIANCE_TYPE) != null;
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.requireSteps("DPM-Solver single-step", numInferenceSteps);
        int n = numInferenceSteps;
        int clippedIdx = Sigmas.clippedCount(alphasCumprod, lambdaMinClipped);
        long[] t = TimestepSpacing.solverLinspace(schedule.length() - clippedIdx, n);

        float[] trainSigmas = Sigmas.fromAlphasCumprod(alphasCumprod);
        double[] s;
        if (sigmaSpacing == Sigmas.Spacing.INTERPOLATED) {
            s = Sigmas.interp(Sigmas.asDoubles(t), trainSigmas);
        } else {
            s = Sigmas.between(sigmaSpacing, trainSigmas[0], trainSigmas[trainSigmas.length - 1], n);
            // Karras timesteps are rounded, exponential ones truncated by the int64 cast
            t = Sigmas.int64Timesteps(s, Sigmas.log(trainSigmas), sigmaSpacing == Sigmas.Spacing.KARRAS);
        }
        blockSample = null;
        if (!lowerOrderFinal && (n % solverOrder != 0 || finalSigmaZero)) {
            // diffusers: uneven steps, or a zero final sigma, need the lower-order ending
            lowerOrderFinal = true;
        }
        orderList = orderList(n);
        setSchedule(t, Sigmas.withFinal(s, finalSigmaZero ? 0f : trainSigmas[0]));
    }

    /** diffusers' {@code get_order_list}: the solver order of each call. */
    private int[] orderList(int steps) {
        int[] pattern;
        int[] tail;
        if (lowerOrderFinal) {
            if (solverOrder == 3) {
                pattern = new int[] {1, 2, 3};
                tail = switch (steps % 3) {
                    case 0 -> new int[] {1, 2, 1};
                    case 1 -> new int[] {1};
                    default -> new int[] {1, 2};
                };
                if (steps % 3 == 0) {
                    return concat(pattern, steps / 3 - 1, tail, steps);
                }
                return concat(pattern, steps / 3, tail, steps);
            } else if (solverOrder == 2) {
                pattern = new int[] {1, 2};
                if (steps % 2 == 0) {
                    return concat(pattern, steps / 2 - 1, new int[] {1, 1}, steps);
                }
                return concat(pattern, steps / 2, new int[] {1}, steps);
            }
            return concat(new int[] {1}, steps, new int[0], steps);
        }
        pattern = solverOrder == 3 ? new int[] {1, 2, 3} : solverOrder == 2 ? new int[] {1, 2} : new int[] {1};
        return concat(pattern, steps / pattern.length, new int[0], steps);
    }

    private int[] concat(int[] pattern, int repeats, int[] tail, int steps) {
        int[] out = new int[Math.max(repeats, 0) * pattern.length + tail.length];
        int k = 0;
        for (int r = 0; r < repeats; r++) {
            for (int p : pattern) {
                out[k++] = p;
            }
        }
        for (int p : tail) {
            out[k++] = p;
        }
        if (out.length != steps) {
            throw new IllegalStateException("order list of length " + out.length + " for " + steps + " steps");
        }
        if (finalSigmaZero && out.length > 0) {
            out[out.length - 1] = 1;
        }
        return out;
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers b) {
        int i = stepIndex(timestep);
        int n = sample.size();

        float[] converted = PredictionConversion.convert(!"dpmsolver".equals(algorithmType), predictionType,
                learnedVariance, modelOutput, sample, sigmas[i], thresholding,
                b.isKept() ? history.spare(n) : new float[n]);
        history.push(converted);

        float[] noise = "sde-dpmsolver++".equals(algorithmType) ? b.randn(random, sample.shape()) : null;

        int order = orderList[i];
        // a run started mid-schedule (img2img) cannot begin with a higher order
        while (!history.has(order - 1)) {
            order--;
        }
        if (order == 1) {
            if (b.isKept()) {
                // the host writes into its sample again: the block's start is copied
                float[] kept = b.scratch(0, n);
                System.arraycopy(sample.array(), 0, kept, 0, n);
                blockSample = kept;
            } else {
                blockSample = sample.array();
            }
        }
        float[] prev = b.result(n);
        switch (order) {
            case 1 -> DpmSolverUpdates.firstOrder(algorithmType, converted, blockSample, noise, sigmas[i],
                    sigmas[i + 1], prev);
            case 2 -> secondOrderUpdate(blockSample, noise, i, prev);
            default -> thirdOrderUpdate(blockSample, noise, i, prev);
        }
        index.advance();
        return prev;
    }

    /** The second call of a block: from the block's start sigma[i-1] to sigma[i+1], using the outputs at i-1 and i. */
    private void secondOrderUpdate(float[] x, float[] noise, int i, float[] out) {
        AlphaSigma t = AlphaSigma.of(sigmas[i + 1]);
        AlphaSigma s0 = AlphaSigma.of(sigmas[i]);
        AlphaSigma s1 = AlphaSigma.of(sigmas[i - 1]);
        float[] m0 = history.back(0);
        float[] m1 = history.back(1);
        float h = t.lambda() - s1.lambda();
        float h0 = s0.lambda() - s1.lambda();
        if (h == 0f) {
            System.arraycopy(x, 0, out, 0, x.length); // a zero-length step leaves x unchanged (0/0 would be NaN)
            return;
        }
        float r0 = h0 / h;
        float invR0 = 1f / r0;
        int n = x.length;
        DpmSolverUpdates.Coefficients k2 = DpmSolverUpdates.secondOrder(algorithmType, t, s1, h, midpoint);
        for (int k = 0; k < n; k++) {
            float d1 = invR0 * (m0[k] - m1[k]);
            out[k] = k2.second(algorithmType, midpoint, x[k], m1[k], d1, DpmSolverUpdates.noiseAt(noise, k));
        }
    }

    /** The third call of a block: from sigma[i-2] to sigma[i+1], using the outputs at i-2, i-1 and i. */
    private void thirdOrderUpdate(float[] x, float[] noise, int i, float[] out) {
        AlphaSigma t = AlphaSigma.of(sigmas[i + 1]);
        AlphaSigma s0 = AlphaSigma.of(sigmas[i]);
        AlphaSigma s1 = AlphaSigma.of(sigmas[i - 1]);
        AlphaSigma s2 = AlphaSigma.of(sigmas[i - 2]);
        float[] m0 = history.back(0);
        float[] m1 = history.back(1);
        float[] m2 = history.back(2);
        float h = t.lambda() - s2.lambda();
        float h0 = s0.lambda() - s2.lambda();
        float h1 = s1.lambda() - s2.lambda();
        if (h == 0f) {
            System.arraycopy(x, 0, out, 0, x.length);
            return;
        }
        float r0 = h0 / h;
        float r1 = h1 / h;
        float invR0 = 1f / r0;
        float invR1 = 1f / r1;
        float r0MinusR1 = r0 - r1;
        int n = x.length;
        DpmSolverUpdates.Coefficients k3 = DpmSolverUpdates.thirdOrder(algorithmType, t, s2, h);
        for (int k = 0; k < n; k++) {
            float d0 = m2[k];
            float d10 = invR1 * (m1[k] - m2[k]);
            float d11 = invR0 * (m0[k] - m2[k]);
            float z = DpmSolverUpdates.noiseAt(noise, k);
            if (midpoint) {
                // the midpoint variant only uses the first difference towards the newest output, combined as the
                // heun form of a second-order update
                out[k] = k3.second(algorithmType, false, x[k], d0, d11, z);
            } else {
                float d1 = (r0 * d10 - r1 * d11) / r0MinusR1;
                float d2 = 2f * (d11 - d10) / r0MinusR1;
                out[k] = k3.third(algorithmType, x[k], d0, d1, d2, z);
            }
        }
    }
}
