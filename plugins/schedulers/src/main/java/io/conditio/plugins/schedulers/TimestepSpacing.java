package io.conditio.plugins.schedulers;

import io.conditio.api.InvalidRequestException;
import java.util.Arrays;

/**
 * The numpy arithmetic behind diffusers' {@code set_timesteps}: {@code np.linspace}, {@code np.arange} with a float
 * step, numpy's round-half-to-even, and the "leading" / "linspace" / "trailing" spacings of Table 2 in
 * arXiv 2305.08891. Each scheduler composes these exactly as its diffusers counterpart does, because the variants
 * differ (DPM-Solver's "leading" divides by {@code n + 1}, DDIM's by {@code n}).
 */
final class TimestepSpacing {
    /** The {@code timestep_spacing} values diffusers accepts. */
    static final String[] SPACINGS = {"linspace", "leading", "trailing"};

    /** {@code timestep_spacing} with the default most sigma-based and solver classes have. */
    static final ConfigKey<String> SPACING_KEY = ConfigKey.choice("timestep_spacing", "linspace",
            "how the inference timesteps are spaced (Table 2 of arXiv 2305.08891)", SPACINGS);

    /** {@code timestep_spacing} defaulting to {@code leading} (DDIM, DDPM, PNDM). */
    static final ConfigKey<String> LEADING_SPACING_KEY = SPACING_KEY.withDefault("leading");

    /** {@code steps_offset}. */
    static final ConfigKey<Integer> STEPS_OFFSET = ConfigKey.integer("steps_offset", 0,
            "added to the timesteps of the leading spacing (Stable Diffusion uses 1)");

    private TimestepSpacing() {
    }

    /**
     * A port's {@code timestep_spacing} and {@code steps_offset}, and the spacings of each scheduler family built from
     * them, exactly as each family's diffusers {@code set_timesteps} computes them.
     *
     * @param spacing     "linspace", "leading" or "trailing"
     * @param stepsOffset added to the "leading" timesteps
     */
    record Config(String spacing, int stepsOffset) {
        /**
         * Reads the spacing, then {@link #STEPS_OFFSET}.
         *
         * @param spacingKey {@link #SPACING_KEY} or {@link #LEADING_SPACING_KEY}, with the port's default
         */
        static Config read(ConfigReader r, ConfigKey<String> spacingKey) {
            String spacing = r.get(spacingKey);
            return new Config(spacing, r.get(STEPS_OFFSET));
        }

        /**
         * The integer timesteps of DDIM, DDPM and PNDM, descending: "linspace" is {@link #linspaceRounded},
         * "leading" {@link #leading}, "trailing" {@link #trailing} from {@code N}.
         */
        long[] discrete(int numTrainTimesteps, int n) {
            return switch (spacing) {
                case "linspace" -> linspaceRounded(numTrainTimesteps, n);
                case "leading" -> leading(numTrainTimesteps, n, stepsOffset);
                default -> trailing(numTrainTimesteps, numTrainTimesteps, n);
            };
        }

        /**
         * {@link #discrete} for DDIM and DDPM, whose steps cannot outnumber the training timesteps.
         *
         * @param scheduler the scheduler's name for the message
         * @throws InvalidRequestException unless {@code 1 <= n <= numTrainTimesteps}
         */
        long[] boundedDiscrete(String scheduler, int numTrainTimesteps, int n) {
            requireSteps(scheduler, n, numTrainTimesteps);
            return discrete(numTrainTimesteps, n);
        }

        /**
         * The integer timesteps of the exponential-integrator solvers (DPM-Solver, UniPC, DEIS), which space
         * {@code n + 1} points and drop the last: "linspace" is {@link #solverLinspace}, "leading"
         * {@code np.arange(0, n + 1) * (last // (n + 1))} reversed without its 0, plus {@code steps_offset}, and
         * "trailing" is {@link #trailing} from {@code last}.
         *
         * @param lastTimestep      where the grid ends: {@code N}, or DPM-Solver's {@code N} minus its clipped
         *                          timesteps
         * @param numTrainTimesteps N, which sets the "trailing" ratio
         */
        long[] solver(int lastTimestep, int numTrainTimesteps, int n) {
            return switch (spacing) {
                case "linspace" -> solverLinspace(lastTimestep, n);
                case "leading" -> {
                    int ratio = lastTimestep / (n + 1);
                    long[] out = new long[n];
                    for (int i = 0; i < n; i++) {
                        out[i] = (long) (n - i) * ratio + stepsOffset;
                    }
                    yield out;
                }
                default -> trailing(lastTimestep, numTrainTimesteps, n);
            };
        }

        /**
         * The float32 timesteps of the sigma-based schedulers (Euler, Euler ancestral, LMS, Heun, KDPM2): "linspace"
         * is {@code np.linspace(0, N - 1, n, dtype=np.float32)[::-1]} (computed in float64, rounded once), "leading"
         * and "trailing" are the integer grids above as float32, descending.
         */
        float[] sigmaFamily(int numTrainTimesteps, int n) {
            return switch (spacing) {
                case "linspace" -> {
                    double[] y = linspace(0, numTrainTimesteps - 1, n);
                    float[] out = new float[n];
                    for (int i = 0; i < n; i++) {
                        out[i] = (float) y[n - 1 - i];
                    }
                    yield out;
                }
                case "leading" -> toFloats(leading(numTrainTimesteps, n, stepsOffset));
                case "trailing" -> toFloats(trailing(numTrainTimesteps, numTrainTimesteps, n));
                default -> throw new IllegalArgumentException("timestep_spacing " + spacing);
            };
        }

        /**
         * @return whether the sigma-based schedulers' initial noise is {@code sqrt(max(sigmas)^2 + 1)} rather than
         *         {@code max(sigmas)}: for every spacing but "linspace" and "trailing"
         */
        boolean scalesInitNoise() {
            return !("linspace".equals(spacing) || "trailing".equals(spacing));
        }
    }

    /**
     * {@code np.linspace(start, stop, num)} in float64: {@code i * step + start}, the last value exactly {@code stop}.
     */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        if (num == 0) {
            return y;
        }
        int div = num - 1;
        double delta = stop - start;
        if (div > 0) {
            double step = delta / div;
            for (int i = 0; i < num; i++) {
                y[i] = step == 0 ? (double) i / div * delta + start : i * step + start;
            }
            y[num - 1] = stop;
        } else {
            y[0] = start;
        }
        return y;
    }

    /**
     * {@code np.arange(start, stop, step)} for float64: length {@code ceil((stop - start) / step)}, values
     * {@code start + i * delta} where numpy re-derives {@code delta} from the first two elements.
     */
    static double[] arange(double start, double stop, double step) {
        double len = Math.ceil((stop - start) / step);
        int n = len > 0 ? (int) len : 0;
        double[] y = new double[n];
        if (n == 0) {
            return y;
        }
        y[0] = start;
        if (n == 1) {
            return y;
        }
        y[1] = start + step;
        double delta = y[1] - y[0];
        for (int i = 2; i < n; i++) {
            y[i] = start + i * delta;
        }
        return y;
    }

    /** numpy's {@code round} (half to even), as a long. */
    static long round(double x) {
        return (long) Math.rint(x);
    }

    /** @return {@code a} reversed, a new array */
    static long[] reversed(long[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[a.length - 1 - i];
        }
        return out;
    }

    /** @return {@code a} reversed, a new array */
    static double[] reversed(double[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[a.length - 1 - i];
        }
        return out;
    }

    /**
     * "leading" as DDIM, PNDM, DDPM and the Euler family do it:
     * {@code (np.arange(0, n) * (N // n)).round()[::-1] + steps_offset}.
     */
    static long[] leading(int numTrainTimesteps, int n, int stepsOffset) {
        int ratio = numTrainTimesteps / n;
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = (long) (n - 1 - i) * ratio + stepsOffset;
        }
        return t;
    }

    /**
     * "trailing": {@code np.round(np.arange(last, 0, -N / n)) - 1}, descending.
     *
     * @param start             where the arange starts ({@code num_train_timesteps}, or DPM's clipped last timestep)
     * @param numTrainTimesteps N, which sets the ratio
     * @param n                 the number of inference steps
     */
    static long[] trailing(int start, int numTrainTimesteps, int n) {
        double ratio = (double) numTrainTimesteps / n;
        double[] a = arange(start, 0, -ratio);
        long[] t = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            t[i] = round(a[i]) - 1;
        }
        return t;
    }

    /** The solvers' "linspace": {@code np.linspace(0, last - 1, n + 1).round()[::-1][:-1]}. */
    static long[] solverLinspace(int lastTimestep, int n) {
        double[] y = linspace(0, lastTimestep - 1, n + 1);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = round(y[n - i]);
        }
        return out;
    }

    /** "linspace" as DDIM and DDPM do it: {@code np.linspace(0, N - 1, n).round()[::-1]}. */
    static long[] linspaceRounded(int numTrainTimesteps, int n) {
        double[] y = linspace(0, numTrainTimesteps - 1, n);
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = round(y[n - 1 - i]);
        }
        return t;
    }

    /**
     * The consistency-model schedule of LCM and TCD: the distillation grid {@code [1..original_steps] * k - 1} with
     * {@code k = N // original_steps} (or every training step when {@code originalSteps} is null), reversed, sampled
     * at {@code floor(np.linspace(0, len, n, endpoint=False))}.
     *
     * @param scheduler the scheduler's name for messages
     */
    static long[] consistency(String scheduler, int numTrainTimesteps, Integer originalSteps, int n) {
        long[] origin;
        if (originalSteps != null) {
            if (originalSteps > numTrainTimesteps || originalSteps < 1) {
                throw new InvalidRequestException(scheduler + ": original_inference_steps " + originalSteps
                        + " must be in [1, num_train_timesteps = " + numTrainTimesteps + "]");
            }
            int k = numTrainTimesteps / originalSteps;
            origin = new long[originalSteps];
            for (int i = 0; i < originalSteps; i++) {
                origin[i] = (long) (i + 1) * k - 1;
            }
        } else {
            origin = new long[numTrainTimesteps];
            for (int i = 0; i < numTrainTimesteps; i++) {
                origin[i] = i;
            }
        }
        if (n < 1 || n > origin.length) {
            throw new InvalidRequestException(scheduler + ": numInferenceSteps must be in [1, " + origin.length
                    + "] (the distillation schedule of original_inference_steps), got " + n);
        }
        long[] reversed = reversed(origin);
        double step = (double) reversed.length / n;
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = reversed[(int) Math.floor(i * step)];
        }
        return t;
    }

    /**
     * The check every {@code set_timesteps} without an upper bound makes.
     *
     * @param scheduler the scheduler's name for the message
     * @throws InvalidRequestException when {@code numInferenceSteps < 1}
     */
    static void requireSteps(String scheduler, int numInferenceSteps) {
        if (numInferenceSteps < 1) {
            throw new InvalidRequestException(scheduler + ": numInferenceSteps must be at least 1, got "
                    + numInferenceSteps);
        }
    }

    /**
     * The check of {@code set_timesteps} where the steps cannot outnumber the training timesteps (DDIM, DDPM).
     *
     * @param scheduler the scheduler's name for the message
     * @throws InvalidRequestException unless {@code 1 <= numInferenceSteps <= numTrainTimesteps}
     */
    static void requireSteps(String scheduler, int numInferenceSteps, int numTrainTimesteps) {
        if (numInferenceSteps < 1 || numInferenceSteps > numTrainTimesteps) {
            throw new InvalidRequestException(scheduler + ": numInferenceSteps must be in [1, " + numTrainTimesteps
                    + "] (num_train_timesteps), got " + numInferenceSteps);
        }
    }

    /** @return the timesteps as exact floats */
    static float[] toFloats(long[] t) {
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = t[i];
        }
        return out;
    }

    /** @return the float64 timesteps rounded to float32, as {@code .astype(np.float32)} */
    static float[] toFloats(double[] t) {
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = (float) t[i];
        }
        return out;
    }

    /**
     * diffusers' {@code index_for_timestep}: the position of {@code timestep} in {@code schedule}, taking the second
     * match when there are several (so a run started mid-schedule does not skip a sigma).
     *
     * @param fallbackToLast when the timestep is absent: true returns the last index (DPM-Solver, UniPC, DEIS),
     *                       false throws (Euler family)
     */
    static int indexFor(float timestep, float[] schedule, boolean fallbackToLast) {
        int first = -1;
        for (int i = 0; i < schedule.length; i++) {
            if (schedule[i] == timestep) {
                if (first >= 0) {
                    return i;
                }
                first = i;
            }
        }
        if (first >= 0) {
            return first;
        }
        if (fallbackToLast) {
            return schedule.length - 1;
        }
        throw new IllegalArgumentException("timestep " + timestep + " is not one of this scheduler's timesteps "
                + Arrays.toString(schedule) + "; pass the values timesteps() returned");
    }

    /** @return the timestep as the integer diffusers indexes {@code alphas_cumprod} with */
    static int integral(float timestep) {
        int t = Math.round(timestep);
        if (t != timestep) {
            throw new IllegalArgumentException("timestep " + timestep + " is not an integer timestep of this "
                    + "scheduler; pass the values timesteps() returned");
        }
        return t;
    }
}
