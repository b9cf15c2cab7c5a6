package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Multistep DPM-Solver (Lu et al., arXiv 2206.00927) and DPM-Solver++ (arXiv 2211.01095): a port of diffusers'
 * {@code DPMSolverMultistepScheduler}, orders 1 to 3, with the ODE ({@code dpmsolver++}, {@code dpmsolver}) and SDE
 * ({@code sde-dpmsolver++}, {@code sde-dpmsolver}) variants. The SDE variants draw {@code randn(model_output.shape)}
 * in every step, as diffusers does.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class DpmSolverMultistepScheduler extends SolverScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "DPMSolverMultistepScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withZeroSnr();
    private static final ConfigKey<Integer> SOLVER_ORDER = ConfigKey.integer("solver_order", 2,
            "the order of the multistep solver (2 for guided sampling)").oneOf(1, 2, 3);
    private static final ConfigKey<String> ALGORITHM_TYPE = ConfigKey.choice("algorithm_type", "dpmsolver++",
            "DPM-Solver++ or DPM-Solver, as an ODE or SDE (sde-) solver; deis runs as dpmsolver++", "dpmsolver++",
            "sde-dpmsolver++", "dpmsolver", "sde-dpmsolver", "deis");
    /** {@code solver_type} (the single-step solver shares it). */
    static final ConfigKey<String> SOLVER_TYPE = ConfigKey.choice("solver_type", "midpoint",
            "the second-order update; the UniPC and DEIS types run as midpoint", "midpoint", "heun", "logrho", "bh1",
            "bh2");
    private static final ConfigKey<Boolean> LOWER_ORDER_FINAL = ConfigKey.flag("lower_order_final", true,
            "lower orders in the last steps (steadier below 15 steps)");
    private static final ConfigKey<Boolean> EULER_AT_FINAL = ConfigKey.flag("euler_at_final", false,
            "a first-order last step");
    private static final ConfigKey<Boolean> USE_LU_LAMBDAS = ConfigKey.flag("use_lu_lambdas", false,
            "steps uniform in lambda (Lu et al.)");
    /** {@code lambda_min_clipped} (the single-step solver shares it). */
    static final ConfigKey<Double> LAMBDA_MIN_CLIPPED = ConfigKey.number("lambda_min_clipped",
            Double.NEGATIVE_INFINITY,
            "clips the smallest lambda(t) for numerical stability (-5.1 for the cosine schedule)");
    /** {@code variance_type} (the single-step solver shares it). */
    static final ConfigKey<String> VARIANCE_TYPE = ConfigKey.choice("variance_type", null,
            "learned or learned_range: the model output also carries its variance, which is dropped", "learned",
            "learned_range");
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), SOLVER_ORDER,
            DynamicThresholding.KEYS, ALGORITHM_TYPE, SOLVER_TYPE, LOWER_ORDER_FINAL, EULER_AT_FINAL,
            Sigmas.SPACING_KEYS, USE_LU_LAMBDAS, Sigmas.USE_FLOW_SIGMAS, Sigmas.FINAL_SIGMAS_TYPE, LAMBDA_MIN_CLIPPED,
            VARIANCE_TYPE, TimestepSpacing.SPACING_KEY, TimestepSpacing.STEPS_OFFSET);

    private final float[] alphasCumprod;
    private final String algorithmType;
    private final String solverType;
    private final boolean lowerOrderFinal;
    private final boolean eulerAtFinal;
    private final Sigmas.Spacing sigmaSpacing;
    private final boolean useLuLambdas;
    private final boolean finalSigmaZero;
    private final double lambdaMinClipped;
    private final boolean learnedVariance;
    private final TimestepSpacing.Config timestepSpacing;
    private final boolean cosineSchedule;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public DpmSolverMultistepScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private DpmSolverMultistepScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE, SOLVER_ORDER);
        alphasCumprod = schedule.alphasCumprodForSigmas();
        cosineSchedule = "squaredcos_cap_v2".equals(schedule.betaSchedule());
        String algorithm = r.get(ALGORITHM_TYPE);
        // diffusers maps a DEIS config onto DPM-Solver++
        algorithmType = "deis".equals(algorithm) ? "dpmsolver++" : algorithm;
        String solver = r.get(SOLVER_TYPE);
        // diffusers maps the UniPC / DEIS solver types onto midpoint
        solverType = "heun".equals(solver) ? "heun" : "midpoint";
        lowerOrderFinal = r.get(LOWER_ORDER_FINAL);
        eulerAtFinal = r.get(EULER_AT_FINAL);
        sigmaSpacing = Sigmas.readSpacing(r);
        useLuLambdas = r.get(USE_LU_LAMBDAS);
        r.get(Sigmas.USE_FLOW_SIGMAS);
        if (useLuLambdas && sigmaSpacing != Sigmas.Spacing.INTERPOLATED) {
            throw r.invalid("use_lu_lambdas cannot be combined with use_karras_sigmas or use_exponential_sigmas");
        }
        finalSigmaZero = "zero".equals(r.get(Sigmas.FINAL_SIGMAS_TYPE));
        if (finalSigmaZero && !algorithmType.endsWith("dpmsolver++")) {
            throw r.invalid("final_sigmas_type 'zero' is not supported for algorithm_type '" + algorithmType
                    + "'; set final_sigmas_type to 'sigma_min' or use dpmsolver++ / sde-dpmsolver++");
        }
        if (solverOrder == 3 && "sde-dpmsolver".equals(algorithmType)) {
            throw r.invalid("solver_order 3 is not defined for algorithm_type 'sde-dpmsolver'; use solver_order 1 or 2,"
                    + " or sde-dpmsolver++");
        }
        lambdaMinClipped = r.get(LAMBDA_MIN_CLIPPED);
        learnedVariance = r.get(VARIANCE_TYPE) != null;
        timestepSpacing = TimestepSpacing.Config.read(r, TimestepSpacing.SPACING_KEY);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.requireSteps("DPM-Solver", numInferenceSteps);
        int n = numInferenceSteps;
        // clip the smallest lambda(t) for numerical stability (critical for the cosine schedule)
        int clippedIdx = Sigmas.clippedCount(alphasCumprod, lambdaMinClipped);
        long[] t = timestepSpacing.solver(schedule.length() - clippedIdx, schedule.length(), n);

        float[] trainSigmas = Sigmas.fromAlphasCumprod(alphasCumprod);
        float[] logSigmas = Sigmas.log(trainSigmas);
        double[] s;
        // .round() for Karras and Lu (not for the cosine schedule); otherwise the int64 cast truncates
        if (useLuLambdas) {
            s = Sigmas.lu(logSigmas[0], logSigmas[logSigmas.length - 1], n);
            t = Sigmas.int64Timesteps(s, logSigmas, !cosineSchedule);
        } else if (sigmaSpacing != Sigmas.Spacing.INTERPOLATED) {
            s = Sigmas.between(sigmaSpacing, trainSigmas[0], trainSigmas[trainSigmas.length - 1], n);
            t = Sigmas.int64Timesteps(s, logSigmas, sigmaSpacing == Sigmas.Spacing.KARRAS && !cosineSchedule);
        } else {
            s = Sigmas.interp(Sigmas.asDoubles(t), trainSigmas);
        }

        float sigmaLast = finalSigmaZero ? 0f : trainSigmas[0];
        setSchedule(t, Sigmas.withFinal(s, sigmaLast));
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers b) {
        int i = stepIndex(timestep);
        int steps = timesteps.length;
        int n = sample.size();

        // lower orders at the end improve stability for few steps
        boolean lowerOrderFinalStep = i == steps - 1
                && (eulerAtFinal || (lowerOrderFinal && steps < 15) || finalSigmaZero);
        boolean lowerOrderSecond = i == steps - 2 && lowerOrderFinal && steps < 15;

        // the data prediction x0 (DPM-Solver++) or the noise prediction epsilon (DPM-Solver)
        float[] converted = PredictionConversion.convert(algorithmType.endsWith("dpmsolver++"), predictionType,
                learnedVariance, modelOutput, sample, sigmas[i], thresholding,
                b.isKept() ? history.spare(n) : new float[n]);
        history.push(converted);

        float[] noise = algorithmType.startsWith("sde-") ? b.randn(random, sample.shape()) : null;

        float[] prev = b.result(n);
        switch (history.nextOrder(lowerOrderFinalStep, lowerOrderSecond)) {
            case 1 -> DpmSolverUpdates.firstOrder(algorithmType, converted, sample.array(), noise, sigmas[i],
                    sigmas[i + 1], prev);
            case 2 -> secondOrderUpdate(sample.array(), noise, i, prev);
            default -> thirdOrderUpdate(sample.array(), noise, i, prev);
        }
        history.stepTaken();
        index.advance();
        return prev;
    }

    /** One second-order multistep update from the last two model outputs, into {@code out}. */
    private void secondOrderUpdate(float[] x, float[] noise, int i, float[] out) {
        AlphaSigma t = AlphaSigma.of(sigmas[i + 1]);
        AlphaSigma s0 = AlphaSigma.of(sigmas[i]);
        AlphaSigma s1 = AlphaSigma.of(sigmas[i - 1]);
        float[] m0 = history.back(0);
        float[] m1 = history.back(1);
        int n = x.length;
        float h = t.lambda() - s0.lambda();
        float h0 = s0.lambda() - s1.lambda();
        if (h == 0f) {
            // the Karras schedule with final sigma_min ends on a zero-length step; diffusers returns x unchanged
            System.arraycopy(x, 0, out, 0, x.length);
            return;
        }
        float r0 = h0 / h;
        float invR0 = 1f / r0;
        boolean midpoint = "midpoint".equals(solverType);
        DpmSolverUpdates.Coefficients k2 = DpmSolverUpdates.secondOrder(algorithmType, t, s0, h, midpoint);
        for (int k = 0; k < n; k++) {
            float d1 = invR0 * (m0[k] - m1[k]);
            out[k] = k2.second(algorithmType, midpoint, x[k], m0[k], d1, DpmSolverUpdates.noiseAt(noise, k));
        }
    }

    /** One third-order multistep update from the last three model outputs, into {@code out}. */
    private void thirdOrderUpdate(float[] x, float[] noise, int i, float[] out) {
        AlphaSigma t = AlphaSigma.of(sigmas[i + 1]);
        AlphaSigma s0 = AlphaSigma.of(sigmas[i]);
        AlphaSigma s1 = AlphaSigma.of(sigmas[i - 1]);
        AlphaSigma s2 = AlphaSigma.of(sigmas[i - 2]);
        float[] m0 = history.back(0);
        float[] m1 = history.back(1);
        float[] m2 = history.back(2);
        float h = t.lambda() - s0.lambda();
        float h0 = s0.lambda() - s1.lambda();
        float h1 = s1.lambda() - s2.lambda();
        if (h == 0f) {
            System.arraycopy(x, 0, out, 0, x.length);
            return;
        }
        float r0 = h0 / h;
        float r1 = h1 / h;
        float invR0 = 1f / r0;
        float invR1 = 1f / r1;
        float w = r0 / (r0 + r1);
        float invR01 = 1f / (r0 + r1);
        int n = x.length;
        DpmSolverUpdates.Coefficients k3 = DpmSolverUpdates.thirdOrder(algorithmType, t, s0, h);
        for (int k = 0; k < n; k++) {
            float d10 = invR0 * (m0[k] - m1[k]);
            float d11 = invR1 * (m1[k] - m2[k]);
            float d1 = d10 + w * (d10 - d11);
            float d2 = invR01 * (d10 - d11);
            out[k] = k3.third(algorithmType, x[k], m0[k], d1, d2, DpmSolverUpdates.noiseAt(noise, k));
        }
    }
}
