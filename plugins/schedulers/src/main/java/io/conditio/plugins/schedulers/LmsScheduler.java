package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RandomSource;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Linear multistep (k-diffusion's {@code sample_lms}): a port of diffusers' {@code LMSDiscreteScheduler}. The
 * derivative history (up to 4 entries) is combined with coefficients obtained by integrating the Lagrange basis
 * polynomials over [sigma_t, sigma_{t+1}] numerically, as diffusers does with
 * {@code scipy.integrate.quad(epsrel=1e-4)} over a float32 integrand. Deterministic.
 *
 * <p>Config keys: {@code num_train_timesteps}, {@code beta_start}, {@code beta_end}, {@code beta_schedule},
 * {@code trained_betas}, {@code use_karras_sigmas}, {@code use_exponential_sigmas}, {@code prediction_type},
 * {@code timestep_spacing}, {@code steps_offset}.
 */
public final class LmsScheduler implements Scheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "LMSDiscreteScheduler";

    /** diffusers' default {@code order} argument of {@code step}. */
    private static final int LMS_ORDER = 4;

    private final SchedulerConfig config;
    private final int numTrainTimesteps;
    private final float[] trainSigmas;
    private final Sigmas.Spacing sigmaSpacing;
    private final String predictionType;
    private final String timestepSpacing;
    private final int stepsOffset;

    private float[] timesteps;
    private float[] sigmas;
    private final List<float[]> derivatives = new ArrayList<>();
    private final StepIndex index = new StepIndex(false);

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public LmsScheduler(SchedulerConfig config) {
        ConfigReader r = new ConfigReader(config, CLASS_NAME);
        predictionType = r.getChoice("prediction_type", "epsilon", "epsilon", "sample", "v_prediction");
        NoiseSchedule schedule = NoiseSchedule.fromConfig(r, 0.0001, 0.02, "linear", false, predictionType);
        numTrainTimesteps = schedule.length();
        trainSigmas = Sigmas.fromAlphasCumprod(schedule.alphasCumprod());
        sigmaSpacing = Sigmas.readSpacing(r, true);
        timestepSpacing = r.getChoice("timestep_spacing", "linspace", TimestepSpacing.SPACINGS);
        stepsOffset = r.getInt("steps_offset", 0);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        if (numInferenceSteps < 1) {
            throw new InvalidRequestException("LMS: numInferenceSteps must be at least 1, got " + numInferenceSteps);
        }
        float[] t = TimestepSpacing.sigmaFamily(timestepSpacing, numTrainTimesteps, numInferenceSteps, stepsOffset);
        double[][] spaced = Sigmas.spaced(t, trainSigmas, sigmaSpacing, false);
        timesteps = TimestepSpacing.toFloats(spaced[0]);
        sigmas = Sigmas.withFinal(spaced[1], 0.0);
        derivatives.clear();
        index.reset();
    }

    @Override
    public float[] timesteps() {
        return requireTimesteps().clone();
    }

    @Override
    public float initNoiseSigma() {
        requireTimesteps();
        float max = Sigmas.max(sigmas);
        if ("linspace".equals(timestepSpacing) || "trailing".equals(timestepSpacing)) {
            return max;
        }
        return Float32.sqrt(max * max + 1f);
    }

    @Override
    public int order() {
        return 1;
    }

    @Override
    public void setBeginIndex(int beginIndex) {
        index.setBegin(beginIndex);
    }

    @Override
    public FloatTensor scaleModelInput(FloatTensor sample, float timestep) {
        index.initIfUnset(timestep, requireTimesteps());
        float sigma = sigmas[index.get()];
        return sample.div(Float32.sqrt(sigma * sigma + 1f));
    }

    @Override
    public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
        index.initIfUnset(timestep, requireTimesteps());
        int i = index.get();
        float sigma = sigmas[i];
        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;

        // 1. predicted x0 from the sigma-scaled prediction
        float[] x0 = new float[n];
        switch (predictionType) {
            case "epsilon" -> {
                for (int k = 0; k < n; k++) {
                    x0[k] = x[k] - sigma * m[k];
                }
            }
            case "sample" -> System.arraycopy(m, 0, x0, 0, n);
            default -> {
                float sigmaSqPlusOne = sigma * sigma + 1f;
                float cOut = -sigma / Float32.sqrt(sigmaSqPlusOne);
                for (int k = 0; k < n; k++) {
                    x0[k] = m[k] * cOut + x[k] / sigmaSqPlusOne;
                }
            }
        }

        // 2. the ODE derivative, kept for the multistep history
        float[] derivative = new float[n];
        for (int k = 0; k < n; k++) {
            derivative[k] = (x[k] - x0[k]) / sigma;
        }
        derivatives.add(derivative);
        if (derivatives.size() > LMS_ORDER) {
            derivatives.remove(0);
        }

        // 3. linear multistep coefficients, 4. x + sum(coeff_j * derivative_{newest - j}); like diffusers' zip, the
        // sum stops at the history actually kept (a run started mid-schedule has fewer derivatives than the order)
        int order = Math.min(i + 1, LMS_ORDER);
        float[] sum = null;
        for (int j = 0; j < Math.min(order, derivatives.size()); j++) {
            float coeff = (float) lmsCoefficient(order, i, j);
            float[] d = derivatives.get(derivatives.size() - 1 - j);
            float[] next = new float[n];
            for (int k = 0; k < n; k++) {
                float term = coeff * d[k];
                next[k] = sum == null ? term : sum[k] + term;
            }
            sum = next;
        }
        float[] prev = new float[n];
        for (int k = 0; k < n; k++) {
            prev[k] = x[k] + sum[k];
        }
        index.advance();
        return FloatTensor.of(prev, sample.shape());
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

    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        float sigma = sigmas[index.forAddNoise(timestep, requireTimesteps())];
        return Sigmas.addNoise(original, noise, sigma);
    }

    @Override
    public SchedulerConfig config() {
        return config;
    }

    private float[] requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps before using the scheduler");
        }
        return timesteps;
    }
}
