package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;

/**
 * The sigma-space ("k-diffusion") ports: Euler, Euler ancestral, Heun, LMS, KDPM2 and KDPM2 ancestral. They share
 * diffusers' bookkeeping around {@code step}: the schedule {@code set_timesteps} installs, {@code init_noise_sigma},
 * {@code scale_model_input} ({@code sample / sqrt(sigma^2 + 1)}), the step index looked up by
 * {@code index_for_timestep} (a timestep missing from the schedule is an error) and {@code add_noise} at the indexed
 * sigma; and the k-diffusion derivative and Euler step, the KDPM2 update and the interleaved tables of the
 * second-order samplers. The denoised prediction in sigma space is {@link PredictionConversion#dataFromSigma}. Each
 * subclass reads its own config, builds its schedule and keeps its {@code step} whole.
 */
abstract class KDiffusionScheduler extends TimestepScheduler {
    /**
     * Reads {@code prediction_type} and the noise schedule; the k-diffusion ports refuse a timestep missing from the
     * schedule.
     */
    KDiffusionScheduler(ConfigReader r, ConfigKey<String> predictionKey, NoiseSchedule.Keys scheduleKeys) {
        super(false, r, predictionKey, scheduleKeys);
    }

    /**
     * Where {@code set_timesteps} of a k-diffusion port starts: the training sigmas, the sigma spacing, and the
     * {@code timestep_spacing} and {@code steps_offset} keys.
     *
     * @param trainSigmas     the training sigmas, ascending in t
     * @param sigmaSpacing    interpolated, Karras or exponential
     * @param timestepSpacing {@code timestep_spacing} and {@code steps_offset}
     */
    record SigmaGrid(float[] trainSigmas, Sigmas.Spacing sigmaSpacing, TimestepSpacing.Config timestepSpacing) {
        /** Reads {@code timestep_spacing} and {@code steps_offset} (in that order, the last keys these ports read). */
        static SigmaGrid read(ConfigReader r, float[] alphasCumprod, Sigmas.Spacing sigmaSpacing) {
            return new SigmaGrid(Sigmas.fromAlphasCumprod(alphasCumprod), sigmaSpacing,
                    TimestepSpacing.Config.read(r, TimestepSpacing.SPACING_KEY));
        }

        /**
         * @param scheduler the scheduler's name for messages
         * @return the spaced float32 timesteps of {@code set_timesteps(numInferenceSteps)}
         */
        float[] timesteps(String scheduler, int numInferenceSteps) {
            TimestepSpacing.requireSteps(scheduler, numInferenceSteps);
            return timestepSpacing.sigmaFamily(trainSigmas.length, numInferenceSteps);
        }

        /**
         * @param roundKarras whether Karras timesteps are rounded (see {@link Sigmas#spaced})
         * @return the timesteps and sigmas of {@link Sigmas#spaced}
         */
        Sigmas.Schedule spaced(String scheduler, int numInferenceSteps, boolean roundKarras) {
            return Sigmas.spaced(timesteps(scheduler, numInferenceSteps), trainSigmas, sigmaSpacing, roundKarras);
        }
    }

    /** The sigmas the step index points into, ending with the final sigma; set by {@link #setSchedule}. */
    float[] sigmas;
    private float initNoiseSigma;

    /**
     * Installs the schedule {@code set_timesteps} built and forgets the step index.
     *
     * @param timesteps       the timesteps, one model call each
     * @param sigmas          the sigmas, ending with the final sigma
     * @param timestepSpacing the configured {@code timestep_spacing}: the initial noise is {@code max(sigmas)} for
     *                        "linspace" and "trailing", {@code sqrt(max(sigmas)^2 + 1)} for "leading"
     */
    final void setSchedule(float[] timesteps, float[] sigmas, TimestepSpacing.Config timestepSpacing) {
        this.timesteps = timesteps;
        this.sigmas = sigmas;
        float max = Sigmas.max(sigmas);
        initNoiseSigma = timestepSpacing.scalesInitNoise() ? Float32.sqrt(max * max + 1f) : max;
        index.reset();
    }

    /**
     * Installs the schedule of the KDPM2 samplers, whose second call of each step sees a midpoint sigma: the sigmas
     * interleaved, and the timesteps {@code [t0, tm_1, t_1, ..., tm_{n-1}, t_{n-1}]} with {@code tm_i} the timestep
     * of the midpoint before {@code t_i} ({@link Sigmas#sigmaToT}).
     *
     * @param ts        the spaced timesteps
     * @param s         their sigmas, ending with the final sigma
     * @param midpoints the midpoint sigmas; step {@code i >= 1} uses {@code midpoints[i - shift]}
     * @param shift     0 or 1, how the midpoints are numbered
     */
    final void setMidpointSchedule(SigmaGrid grid, float[] ts, float[] s, float[] midpoints, int shift) {
        int n = ts.length;
        float[] logSigmas = Sigmas.log(grid.trainSigmas());
        float[] withMidpoints = new float[2 * n - 1];
        withMidpoints[0] = ts[0];
        for (int i = 1; i < n; i++) {
            withMidpoints[2 * i - 1] = (float) Sigmas.sigmaToT(midpoints[i - shift], logSigmas);
            withMidpoints[2 * i] = ts[i];
        }
        setSchedule(withMidpoints, interleave(s), grid.timestepSpacing());
    }

    @Override
    public float initNoiseSigma() {
        requireTimesteps();
        return initNoiseSigma;
    }

    @Override
    public FloatTensor scaleModelInput(FloatTensor sample, float timestep) {
        float sigma = inputSigma(stepIndex(timestep));
        return sample.div(Float32.sqrt(sigma * sigma + 1f));
    }

    /** {@link #scaleModelInput} written into the host's tensor: the same division, element by element. */
    @Override
    public FloatTensor scaleModelInputInto(FloatTensor sample, float timestep, FloatTensor into) {
        float sigma = inputSigma(stepIndex(timestep));
        float divisor = Float32.sqrt(sigma * sigma + 1f);
        float[] x = sample.array();
        float[] out = into.array();
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] / divisor;
        }
        return into;
    }

    /**
     * @param i the step index
     * @return the sigma the model sees in the call at step {@code i}: {@code sigmas[i]}, unless a second-order
     *         sampler evaluates it elsewhere
     */
    float inputSigma(int i) {
        return sigmas[i];
    }

    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        float sigma = sigmas[index.forAddNoise(timestep, requireTimesteps())];
        return Sigmas.addNoise(original, noise, sigma);
    }

    @Override
    public FloatTensor addNoiseInto(FloatTensor original, FloatTensor noise, float timestep, FloatTensor into) {
        float sigma = sigmas[index.forAddNoise(timestep, requireTimesteps())];
        Sigmas.addNoise(original, noise, sigma, into.array());
        return into;
    }

    /**
     * One call of the KDPM2 samplers (DPM-Solver-2), in float32: the first call of a step moves {@code x} by an
     * Euler half step to the midpoint sigma; the second moves the sample stored at the first call to
     * {@code sigmaTo} with the derivative at the midpoint.
     *
     * @param x0            the predicted x0 of this call
     * @param start         the sample the first call stored; null in the first call
     * @param sigmaHat      the step's start sigma
     * @param sigmaInterpol the midpoint sigma
     * @param sigmaTo       where the second call ends (KDPM2: the next sigma; ancestral: sigma_down)
     * @param prev          where the new sample goes
     * @return {@code prev}
     */
    static float[] dpmSolver2(float[] x, float[] x0, float[] start, float sigmaHat, float sigmaInterpol,
            float sigmaTo, float[] prev) {
        if (start == null) {
            return eulerStep(x, x, x0, sigmaHat, sigmaInterpol - sigmaHat, prev);
        }
        return eulerStep(start, x, x0, sigmaInterpol, sigmaTo - sigmaHat, prev);
    }

    /** k-diffusion's {@code to_d}: the ODE derivative {@code (x - x0) / sigma}, in float32; a new array. */
    static float[] derivative(float[] x, float[] x0, float sigma) {
        return derivative(x, x0, sigma, new float[x.length]);
    }

    /** {@link #derivative(float[], float[], float)} written into {@code d}, which it returns. */
    static float[] derivative(float[] x, float[] x0, float sigma, float[] d) {
        for (int k = 0; k < d.length; k++) {
            d[k] = (x[k] - x0[k]) / sigma;
        }
        return d;
    }

    /**
     * One Euler step in sigma, {@code from + (x - x0) / sigma * dt} in float32, with the derivative ({@code to_d})
     * of the sample {@code x} at noise level {@code sigma}.
     *
     * @param from where the step starts: {@code x} itself, or a sample stored earlier (the second call of KDPM2)
     * @param prev where the result goes
     * @return {@code prev}
     */
    static float[] eulerStep(float[] from, float[] x, float[] x0, float sigma, float dt, float[] prev) {
        for (int k = 0; k < x.length; k++) {
            float derivative = (x[k] - x0[k]) / sigma;
            prev[k] = from[k] + derivative * dt;
        }
        return prev;
    }

    /**
     * The sample the first call of a two-call step stores for the second: the host's sample itself for
     * {@code step}, a copy in a kept buffer for {@code stepInto}, whose host writes into its sample again.
     *
     * @param slot the scratch slot the copy goes into
     */
    static float[] stored(float[] x, StepBuffers b, int slot) {
        if (!b.isKept()) {
            return x;
        }
        float[] kept = b.scratch(slot, x.length);
        System.arraycopy(x, 0, kept, 0, x.length);
        return kept;
    }

    /**
     * {@code torch.cat([a[:1], a[1:].repeat_interleave(2), a[-1:]])}: every entry after the first twice, and the last
     * once more.
     */
    static float[] interleave(float[] a) {
        int n = a.length - 1;
        float[] out = new float[2 * n + 2];
        out[0] = a[0];
        for (int i = 1; i <= n; i++) {
            out[2 * i - 1] = a[i];
            out[2 * i] = a[i];
        }
        out[2 * n + 1] = a[n];
        return out;
    }
}
