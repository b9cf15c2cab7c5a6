/**
 * The schedulers plugin: ports of the diffusers schedulers, one {@link io.conditio.api.Scheduler} class per algorithm
 * (DDIM, PNDM, LMS, Euler, Euler ancestral, Heun, DPM-Solver multistep and single-step, UniPC, DEIS, DDPM, LCM, TCD,
 * KDPM2, KDPM2 ancestral, flow-matching Euler), all offered by one {@link io.conditio.api.SchedulerProvider}
 * extension, {@code BuiltInSchedulers}: a table of class names and presets.
 *
 * <p>Each scheduler's {@code step} reads top to bottom like its diffusers counterpart. The genuinely shared math lives
 * in a few package-private classes: {@code NoiseSchedule} (betas, {@code alphas_cumprod} accumulated in double with
 * float32 prefixes as {@code torch.cumprod} does, zero-terminal-SNR rescaling), {@code TimestepSpacing} (numpy's
 * linspace/arange/round and the leading/linspace/trailing spacings of each scheduler family), {@code Sigmas} (float32
 * sigmas, float64 {@code np.interp}, Karras/exponential/Lu schedules, log-space sigma-to-timestep interpolation),
 * {@code AlphaSigma} (a sigma as {@code alpha_t}, {@code sigma_t} and lambda), {@code DynamicThresholding} (also
 * {@code clip_sample}) and {@code PredictionConversion} (model output to x0 or epsilon). The sigma-space k-diffusion
 * ports (Euler, Euler ancestral, Heun, LMS, KDPM2, KDPM2 ancestral) share their bookkeeping around {@code step}
 * through the base class {@code KDiffusionScheduler}, the exponential-integrator solvers (DPM-Solver multistep and
 * single-step, DEIS, UniPC) their sigmas, output history and {@code add_noise} through {@code SolverScheduler}, the
 * discrete-time ports (DDIM, DDPM, PNDM, LCM, TCD) their {@code alphas_cumprod}, integer timesteps and
 * {@code add_noise} through {@code DiscreteTimeScheduler}; every port keeps its timesteps, step index and effective
 * config in {@code TimestepScheduler}.
 *
 * <p>All tensor arithmetic is float32 in the order torch evaluates it, so the diffusers test-suite sums are
 * reproduced to their last printed digits; noise is drawn from the generation's {@link io.conditio.api.RandomSource}
 * exactly where, and in the shape, diffusers calls {@code randn_tensor}.
 */
package io.conditio.plugins.schedulers;
