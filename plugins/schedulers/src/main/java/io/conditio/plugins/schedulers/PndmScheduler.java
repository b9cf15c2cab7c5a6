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
    private FloatTensor curModelOutput;
    private int counter;
    private FloatTensor curSample;
    private final List<FloatTensor> ets = new ArrayList<>();

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
    public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
        requireTimesteps();
        int t = TimestepSpacing.integral(timestep);
        if (counter < prkTimesteps.length && !skipPrkSteps) {
            return stepPrk(modelOutput, t, sample);
        }
        return stepPlms(modelOutput, t, sample);
    }

    /** One pseudo Runge–Kutta stage: four model calls per step, weighted 1/6, 1/3, 1/3, 1/6. */
    private FloatTensor stepPrk(FloatTensor modelOutput, int timestep, FloatTensor sample) {
        int diffToPrev = counter % 2 != 0 ? 0 : schedule.length() / numInferenceSteps / 2;
        int prevTimestep = timestep - diffToPrev;
        int t = (int) prkTimesteps[counter / 4 * 4];

        FloatTensor output = modelOutput;
        switch (counter % 4) {
            case 0 -> {
                curModelOutput = accumulate(curModelOutput, (float) (1.0 / 6), modelOutput);
                ets.add(modelOutput);
                curSample = sample;
            }
            case 1, 2 -> curModelOutput = accumulate(curModelOutput, (float) (1.0 / 3), modelOutput);
            default -> {
                output = accumulate(curModelOutput, (float) (1.0 / 6), modelOutput);
                curModelOutput = null;
            }
        }
        FloatTensor base = curSample != null ? curSample : sample;
        FloatTensor prev = prevSample(base, t, prevTimestep, output);
        counter++;
        return prev;
    }

    /** One linear multistep (Adams–Bashforth) step on the stored model outputs. */
    private FloatTensor stepPlms(FloatTensor modelOutput, int timestep, FloatTensor sample) {
        if (!skipPrkSteps && ets.size() < 3) {
            throw new IllegalStateException("PNDM: the linear multistep steps can only run after the 12 Runge-Kutta "
                    + "calls; step through timesteps() in order");
        }
        int stride = schedule.length() / numInferenceSteps;
        int prevTimestep = timestep - stride;
        int t = timestep;
        if (counter != 1) {
            while (ets.size() > 3) {
                ets.remove(0);
            }
            ets.add(modelOutput);
        } else {
            prevTimestep = timestep;
            t = timestep + stride;
        }

        float[] m = modelOutput.array();
        int n = m.length;
        float[] out = new float[n];
        FloatTensor x = sample;
        int k = ets.size();
        if (k == 1 && counter == 0) {
            System.arraycopy(m, 0, out, 0, n);
            curSample = sample;
        } else if (k == 1 && counter == 1) {
            float[] e1 = ets.get(0).array();
            for (int i = 0; i < n; i++) {
                out[i] = (m[i] + e1[i]) / 2f;
            }
            x = curSample;
            curSample = null;
        } else if (k == 2) {
            float[] e1 = ets.get(1).array();
            float[] e2 = ets.get(0).array();
            for (int i = 0; i < n; i++) {
                out[i] = (3f * e1[i] - e2[i]) / 2f;
            }
        } else if (k == 3) {
            float[] e1 = ets.get(2).array();
            float[] e2 = ets.get(1).array();
            float[] e3 = ets.get(0).array();
            for (int i = 0; i < n; i++) {
                out[i] = (23f * e1[i] - 16f * e2[i] + 5f * e3[i]) / 12f;
            }
        } else {
            float[] e1 = ets.get(3).array();
            float[] e2 = ets.get(2).array();
            float[] e3 = ets.get(1).array();
            float[] e4 = ets.get(0).array();
            float c = (float) (1.0 / 24);
            for (int i = 0; i < n; i++) {
                out[i] = c * (55f * e1[i] - 59f * e2[i] + 37f * e3[i] - 9f * e4[i]);
            }
        }
        FloatTensor prev = prevSample(x, t, prevTimestep, FloatTensor.of(out, modelOutput.shape()));
        counter++;
        return prev;
    }

    /** Formula (9) of the PNDM paper: x_{t-delta} from x_t and the (combined) noise prediction. */
    private FloatTensor prevSample(FloatTensor sample, int timestep, int prevTimestep, FloatTensor modelOutput) {
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = previousAlphaCumprod(prevTimestep);
        float betaProdT = 1f - alphaProdT;
        float betaProdTPrev = 1f - alphaProdTPrev;
        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        float[] eps = predictedNoise(timestep, x, m);
        // (a_prev - a_t) / (sqrt(a_t) (sqrt(a_prev) + sqrt(a_t))) + 1 = sqrt(a_prev / a_t)
        float sampleCoeff = Float32.sqrt(alphaProdTPrev / alphaProdT);
        float denom = alphaProdT * Float32.sqrt(betaProdTPrev)
                + Float32.sqrt(alphaProdT * betaProdT * alphaProdTPrev);
        float diff = alphaProdTPrev - alphaProdT;
        float[] prev = new float[n];
        for (int i = 0; i < n; i++) {
            prev[i] = sampleCoeff * x[i] - diff * eps[i] / denom;
        }
        return FloatTensor.of(prev, sample.shape());
    }

    /** {@code acc + w * x} where a missing accumulator is Python's integer 0. */
    private static FloatTensor accumulate(FloatTensor acc, float w, FloatTensor x) {
        float[] v = x.array();
        float[] out = new float[v.length];
        float[] a = acc == null ? null : acc.array();
        for (int i = 0; i < v.length; i++) {
            float term = w * v[i];
            out[i] = a == null ? term : a[i] + term;
        }
        return FloatTensor.of(out, x.shape());
    }
}
