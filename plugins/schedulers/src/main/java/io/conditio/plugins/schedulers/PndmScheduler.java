package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * PNDM (Liu et al., arXiv 2202.09778): a port of diffusers' {@code PNDMScheduler}. With {@code skip_prk_steps=false}
 * (the default) it warms up with three pseudo Runge–Kutta steps (12 model calls, listed first in
 * {@link #timesteps()}) and continues with the 4th-order linear multistep method (PLMS); with
 * {@code skip_prk_steps=true} it is crowsonkb's PLMS sampler, which visits the second timestep twice.
 *
 * Deterministic.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class PndmScheduler extends DiscreteTimeScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "PNDMScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.configKey(PredictionType.EPSILON,
            PredictionType.V_PREDICTION);
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS;
    private static final ConfigKey<Boolean> SKIP_PRK_STEPS = ConfigKey.flag("skip_prk_steps", false,
            "skip the Runge-Kutta warm-up steps (PLMS, as Stable Diffusion runs it)");
    private static final ConfigKey<Boolean> SET_ALPHA_TO_ONE = NoiseSchedule.SET_ALPHA_TO_ONE.withDefault(false);
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), SKIP_PRK_STEPS,
            SET_ALPHA_TO_ONE, TimestepSpacing.LEADING_SPACING_KEY, TimestepSpacing.STEPS_OFFSET);

    private static final int PNDM_ORDER = 4;

    private final boolean skipPrkSteps;
    private final TimestepSpacing.Config timestepSpacing;

    private int numInferenceSteps;
    private long[] prkTimesteps;
    private long[] plmsTimesteps;

    // running values, as in diffusers
    private float[] curModelOutput;
    private int counter;
    private float[] curSample;
    private final List<float[]> ets = new ArrayList<>();
    /** An output dropped from {@code ets} by {@link #stepInto}, whose array the next kept output reuses. */
    private float[] droppedEt;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public PndmScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private PndmScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        skipPrkSteps = r.get(SKIP_PRK_STEPS);
        readSetAlphaToOne(r, SET_ALPHA_TO_ONE);
        timestepSpacing = TimestepSpacing.Config.read(r, TimestepSpacing.LEADING_SPACING_KEY);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        int minimum = skipPrkSteps ? 2 : PNDM_ORDER;
        if (numInferenceSteps < minimum || numInferenceSteps > schedule.length()) {
            throw new InvalidRequestException("PNDM" + (skipPrkSteps ? "" : " with Runge-Kutta warm-up")
                    + ": numInferenceSteps must be in [" + minimum + ", " + schedule.length() + "], got "
                    + numInferenceSteps);
        }
        this.numInferenceSteps = numInferenceSteps;
        int n = numInferenceSteps;
        // ascending, as diffusers' self._timesteps
        long[] ascending = TimestepSpacing.reversed(timestepSpacing.discrete(schedule.length(), n));

        if (skipPrkSteps) {
            // concatenate([t[:-1], t[-2:-1], t[-1:]])[::-1]: the second timestep is visited twice
            long[] plms = new long[n + 1];
            System.arraycopy(ascending, 0, plms, 0, n - 1);
            plms[n - 1] = ascending[n - 2];
            plms[n] = ascending[n - 1];
            prkTimesteps = new long[0];
            plmsTimesteps = TimestepSpacing.reversed(plms);
        } else {
            // the last pndm_order timesteps, each followed by its half-step point, as intermediate RK stages
            long half = schedule.length() / n / 2;
            long[] repeated = new long[2 * PNDM_ORDER];
            for (int i = 0; i < PNDM_ORDER; i++) {
                long t = ascending[n - PNDM_ORDER + i];
                repeated[2 * i] = t;
                repeated[2 * i + 1] = t + half;
            }
            // prk_timesteps[:-1].repeat(2)[1:-1], reversed
            int m = repeated.length - 1;
            long[] doubled = new long[2 * m];
            for (int i = 0; i < m; i++) {
                doubled[2 * i] = repeated[i];
                doubled[2 * i + 1] = repeated[i];
            }
            long[] prk = new long[doubled.length - 2];
            System.arraycopy(doubled, 1, prk, 0, prk.length);
            prkTimesteps = TimestepSpacing.reversed(prk);
            long[] plms = new long[n - 3];
            System.arraycopy(ascending, 0, plms, 0, n - 3);
            plmsTimesteps = TimestepSpacing.reversed(plms);
        }
        long[] all = new long[prkTimesteps.length + plmsTimesteps.length];
        System.arraycopy(prkTimesteps, 0, all, 0, prkTimesteps.length);
        System.arraycopy(plmsTimesteps, 0, all, prkTimesteps.length, plmsTimesteps.length);
        timesteps = TimestepSpacing.toFloats(all);

        ets.clear();
        counter = 0;
        curModelOutput = null;
        curSample = null;
        droppedEt = null;
    }

    /**
     * PNDM's warm-up makes four Runge-Kutta calls for each of its first three steps, then one call per step; PLMS
     * (skip_prk_steps) makes two calls for its first step, then one.
     */
    @Override
    public int stepOfCall(int call) {
        requireTimesteps();
        if (skipPrkSteps) {
            return call <= 1 ? 0 : call - 1;
        }
        int warmUp = prkTimesteps.length;
        return call < warmUp ? call / 4 : warmUp / 4 + (call - warmUp);
    }

    @Override
    public int subStepOfCall(int call) {
        requireTimesteps();
        if (skipPrkSteps) {
            return call == 1 ? 1 : 0;
        }
        return call < prkTimesteps.length ? call % 4 : 0;
    }

    @Override
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers work) {
        requireTimesteps();
        int t = TimestepSpacing.integral(timestep);
        if (counter < prkTimesteps.length && !skipPrkSteps) {
            return stepPrk(modelOutput.array(), t, sample.array(), work);
        }
        return stepPlms(modelOutput.array(), t, sample.array(), work);
    }

    /** One pseudo Runge–Kutta stage: four model calls per step, weighted 1/6, 1/3, 1/3, 1/6. */
    private float[] stepPrk(float[] modelOutput, int timestep, float[] sample, StepBuffers work) {
        int diffToPrev = counter % 2 != 0 ? 0 : schedule.length() / numInferenceSteps / 2;
        int prevTimestep = timestep - diffToPrev;
        int t = (int) prkTimesteps[counter / 4 * 4];
        int n = sample.length;

        float[] output = modelOutput;
        switch (counter % 4) {
            case 0 -> {
                curModelOutput = accumulate(curModelOutput, (float) (1.0 / 6), modelOutput, work.scratch(0, n));
                ets.add(kept(modelOutput, work));
                curSample = KDiffusionScheduler.stored(sample, work, 1);
            }
            case 1, 2 -> curModelOutput = accumulate(curModelOutput, (float) (1.0 / 3), modelOutput,
                    work.scratch(0, n));
            default -> {
                output = accumulate(curModelOutput, (float) (1.0 / 6), modelOutput, work.scratch(0, n));
                curModelOutput = null;
            }
        }
        float[] base = curSample != null ? curSample : sample;
        float[] prev = prevSample(base, t, prevTimestep, output, work);
        counter++;
        return prev;
    }

    /** One linear multistep (Adams–Bashforth) step on the stored model outputs. */
    private float[] stepPlms(float[] m, int timestep, float[] sample, StepBuffers work) {
        if (!skipPrkSteps && ets.size() < 3) {
            throw new IllegalStateException("PNDM: the linear multistep steps can only run after the 12 Runge-Kutta "
                    + "calls; step through timesteps() in order");
        }
        int stride = schedule.length() / numInferenceSteps;
        int prevTimestep = timestep - stride;
        int t = timestep;
        if (counter != 1) {
            while (ets.size() > 3) {
                droppedEt = ets.remove(0);
            }
            ets.add(kept(m, work));
        } else {
            prevTimestep = timestep;
            t = timestep + stride;
        }

        int n = m.length;
        float[] out = work.scratch(0, n);
        float[] x = sample;
        int k = ets.size();
        if (k == 1 && counter == 0) {
            System.arraycopy(m, 0, out, 0, n);
            curSample = KDiffusionScheduler.stored(sample, work, 1);
        } else if (k == 1 && counter == 1) {
            float[] e1 = ets.get(0);
            for (int i = 0; i < n; i++) {
                out[i] = (m[i] + e1[i]) / 2f;
            }
            x = curSample;
            curSample = null;
        } else if (k == 2) {
            float[] e1 = ets.get(1);
            float[] e2 = ets.get(0);
            for (int i = 0; i < n; i++) {
                out[i] = (3f * e1[i] - e2[i]) / 2f;
            }
        } else if (k == 3) {
            float[] e1 = ets.get(2);
            float[] e2 = ets.get(1);
            float[] e3 = ets.get(0);
            for (int i = 0; i < n; i++) {
                out[i] = (23f * e1[i] - 16f * e2[i] + 5f * e3[i]) / 12f;
            }
        } else {
            float[] e1 = ets.get(3);
            float[] e2 = ets.get(2);
            float[] e3 = ets.get(1);
            float[] e4 = ets.get(0);
            float c = (float) (1.0 / 24);
            for (int i = 0; i < n; i++) {
                out[i] = c * (55f * e1[i] - 59f * e2[i] + 37f * e3[i] - 9f * e4[i]);
            }
        }
        float[] prev = prevSample(x, t, prevTimestep, out, work);
        counter++;
        return prev;
    }

    /**
     * The model output as {@code ets} keeps it: a copy, so that every array in {@code ets} is the scheduler's own;
     * {@code stepInto} copies into the array of the output last dropped, once the history is full.
     */
    private float[] kept(float[] m, StepBuffers work) {
        boolean reuse = work.isKept() && droppedEt != null && droppedEt.length == m.length;
        float[] copy = reuse ? droppedEt : new float[m.length];
        droppedEt = null;
        System.arraycopy(m, 0, copy, 0, m.length);
        return copy;
    }

    /** Formula (9) of the PNDM paper: x_{t-delta} from x_t and the (combined) noise prediction. */
    private float[] prevSample(float[] x, int timestep, int prevTimestep, float[] m, StepBuffers work) {
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = previousAlphaCumprod(prevTimestep);
        float betaProdT = 1f - alphaProdT;
        float betaProdTPrev = 1f - alphaProdTPrev;
        int n = x.length;
        float[] eps = predictedNoise(timestep, x, m, work.scratch(2, n));
        // (a_prev - a_t) / (sqrt(a_t) (sqrt(a_prev) + sqrt(a_t))) + 1 = sqrt(a_prev / a_t)
        float sampleCoeff = Float32.sqrt(alphaProdTPrev / alphaProdT);
        float denom = alphaProdT * Float32.sqrt(betaProdTPrev)
                + Float32.sqrt(alphaProdT * betaProdT * alphaProdTPrev);
        float diff = alphaProdTPrev - alphaProdT;
        float[] prev = work.result(n);
        for (int i = 0; i < n; i++) {
            prev[i] = sampleCoeff * x[i] - diff * eps[i] / denom;
        }
        return prev;
    }

    /**
     * {@code acc + w * x} where a missing accumulator is Python's integer 0, written into {@code out}, which may be
     * {@code acc} itself (each value is read before it is written).
     */
    private static float[] accumulate(float[] acc, float w, float[] x, float[] out) {
        for (int i = 0; i < x.length; i++) {
            float term = w * x[i];
            out[i] = acc == null ? term : acc[i] + term;
        }
        return out;
    }
}
