package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Linear multistep (k-diffusion's {@code sample_lms}): a port of diffusers' {@code LMSDiscreteScheduler}. The
 * derivative history (up to 4 entries) is combined with coefficients obtained by integrating the Lagrange basis
 * polynomials over [sigma_t, sigma_{t+1}] numerically, as diffusers does with
 * {@code scipy.integrate.quad(epsrel=1e-4)} over a float32 integrand. Deterministic.
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class LmsScheduler extends KDiffusionScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "LMSDiscreteScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY;
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS;
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), Sigmas.SPACING_KEYS,
            TimestepSpacing.SPACING_KEY, TimestepSpacing.STEPS_OFFSET);

    /** diffusers' default {@code order} argument of {@code step}. */
    private static final int LMS_ORDER = 4;

    private final SigmaGrid grid;

    private final List<float[]> derivatives = new ArrayList<>();

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public LmsScheduler(SchedulerConfig config) {
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private LmsScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        grid = SigmaGrid.read(r, schedule.alphasCumprod(), Sigmas.readSpacing(r));
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        Sigmas.Schedule s = grid.spaced("LMS", numInferenceSteps, false);
        derivatives.clear();
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

        // 2. the ODE derivative, kept for the multistep history (the oldest goes once LMS_ORDER are kept)
        float[] dropped = null;
        if (derivatives.size() == LMS_ORDER) {
            dropped = derivatives.remove(0);
        }
        boolean reuse = b.isKept() && dropped != null && dropped.length == n;
        derivatives.add(derivative(x, x0, sigma, reuse ? dropped : new float[n]));

        // 3. linear multistep coefficients, 4. x + sum(coeff_j * derivative_{newest - j}); like diffusers' zip, the
        // sum stops at the history actually kept (a run started mid-schedule has fewer derivatives than the order)
        int order = Math.min(i + 1, LMS_ORDER);
        float[] sum = b.scratch(1, n);
        for (int j = 0; j < Math.min(order, derivatives.size()); j++) {
            float coeff = (float) lmsCoefficient(order, i, j);
            float[] d = derivatives.get(derivatives.size() - 1 - j);
            for (int k = 0; k < n; k++) {
                float term = coeff * d[k];
                sum[k] = j == 0 ? term : sum[k] + term;
            }
        }
        float[] prev = b.result(n);
        for (int k = 0; k < n; k++) {
            prev[k] = x[k] + sum[k];
        }
        index.advance();
        return prev;
    }

    /**
     * The integral over [sigma_t, sigma_{t+1}] of the Lagrange basis polynomial of {@code currentOrder}, evaluated in
     * float32 as diffusers' {@code lms_derivative} does on 0-d tensors.
     */
    private double lmsCoefficient(int order, int t, int currentOrder) {
        float[] s = sigmas;
        return GaussKronrodQuadrature.integrate(tau -> {
            if (order == 1) {
                return 1.0; // the loop never runs and diffusers' prod stays the Python float 1.0
            }
            float prod = 1f;
            for (int k = 0; k < order; k++) {
                if (currentOrder == k) {
                    continue;
                }
                prod *= ((float) tau - s[t - k]) / (s[t - currentOrder] - s[t - k]);
            }
            return prod;
        }, s[t], s[t + 1], GaussKronrodQuadrature.DEFAULT_EPSABS, 1e-4);
    }
}
