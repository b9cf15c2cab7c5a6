package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * diffusers' scheduler test harness ({@code tests/schedulers/test_schedulers.py}, {@code SchedulerCommonTest}):
 * the deterministic sample and noise, the dummy model and the full loops whose sums the parity tests assert.
 */
final class DiffusersHarness {
    private DiffusersHarness() {
    }

    /** {@code dummy_sample_deter}: {@code arange(n).reshape(C, H, W, B) / n}, permuted to (B, C, H, W). */
    static FloatTensor sampleDeter() {
        return deter(false, 4, 3, 8, 8);
    }

    /** {@code dummy_noise_deter}: the same with {@code arange(n).flip(-1)}. */
    static FloatTensor noiseDeter() {
        return deter(true, 4, 3, 8, 8);
    }

    /** The 1-D variants of UniPC's test: shape (4, 3, 8). */
    static FloatTensor sampleDeter1d() {
        return deter(false, 4, 3, 8);
    }

    /** @see #sampleDeter1d() */
    static FloatTensor noiseDeter1d() {
        return deter(true, 4, 3, 8);
    }

    private static FloatTensor deter(boolean flip, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        int batch = shape[0];
        int perBatch = n / batch;
        float[] out = new float[n];
        // element (b, rest) of the permuted tensor is element (rest, b) of the (rest..., B) arange
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < perBatch; r++) {
                int k = r * batch + b;
                int value = flip ? n - 1 - k : k;
                out[b * perBatch + r] = (float) value / (float) n;
            }
        }
        return FloatTensor.of(out, shape);
    }

    /** The dummy model: {@code sample * t / (t + 1)}, evaluated as {@code (sample * t) / (t + 1)} in float32. */
    static FloatTensor model(FloatTensor sample, float t) {
        float[] s = sample.array();
        float[] out = new float[s.length];
        float tp1 = t + 1f;
        for (int i = 0; i < s.length; i++) {
            out[i] = (s[i] * t) / tp1;
        }
        return FloatTensor.of(out, sample.shape());
    }

    /** Loop A ("plain"): the model sees the sample as it is; the scheduler does not scale. */
    static FloatTensor loopA(Scheduler scheduler, int steps) {
        return loopA(scheduler, steps, new NoRandom());
    }

    /** Loop A drawing from {@code random} (a torch generator for the noise-drawing schedulers). */
    static FloatTensor loopA(Scheduler scheduler, int steps, RandomSource random) {
        scheduler.setTimesteps(steps);
        return runA(scheduler, scheduler.timesteps(), sampleDeter(), random);
    }

    /** Loop A from {@code sample} over the given timesteps. */
    static FloatTensor runA(Scheduler scheduler, float[] timesteps, FloatTensor sample) {
        return runA(scheduler, timesteps, sample, new NoRandom());
    }

    /** Loop A from {@code sample} over the given timesteps, drawing from {@code random}. */
    static FloatTensor runA(Scheduler scheduler, float[] timesteps, FloatTensor sample, RandomSource random) {
        for (float t : timesteps) {
            FloatTensor residual = model(sample, t);
            sample = scheduler.step(residual, t, sample, random);
        }
        return sample;
    }

    /** Loop A's "with_noise" variant: start at {@code timesteps[tStart * order]} after {@code add_noise}. */
    static FloatTensor loopAWithNoise(Scheduler scheduler, int steps, int tStart) {
        return loopAWithNoise(scheduler, steps, tStart, new NoRandom());
    }

    /** Loop A's "with_noise" variant drawing from {@code random}. */
    static FloatTensor loopAWithNoise(Scheduler scheduler, int steps, int tStart, RandomSource random) {
        return loopAWithNoise(scheduler, steps, tStart, sampleDeter(), noiseDeter(), random);
    }

    /** Loop A's "with_noise" variant from the given sample and noise (UniPC's 1-D test). */
    static FloatTensor loopAWithNoise(Scheduler scheduler, int steps, int tStart, FloatTensor sample,
            FloatTensor noise, RandomSource random) {
        scheduler.setTimesteps(steps);
        float[] ts = tail(scheduler.timesteps(), tStart * scheduler.order());
        return runA(scheduler, ts, scheduler.addNoise(sample, noise, ts[0]), random);
    }

    /**
     * Loop B ("sigma"): {@code sample = deter * init_noise_sigma}; the scaled sample overwrites {@code sample} and is
     * what {@code step} gets, as in diffusers' Euler/Heun/LMS/KDPM2 tests.
     */
    static FloatTensor loopB(Scheduler scheduler, int steps) {
        return loopB(scheduler, steps, new NoRandom());
    }

    /** Loop B drawing from {@code random}. */
    static FloatTensor loopB(Scheduler scheduler, int steps, RandomSource random) {
        scheduler.setTimesteps(steps);
        FloatTensor sample = sampleDeter().mul(scheduler.initNoiseSigma());
        return runB(scheduler, scheduler.timesteps(), sample, random);
    }

    /** Loop B's "with_noise" variant. */
    static FloatTensor loopBWithNoise(Scheduler scheduler, int steps, int tStart) {
        return loopBWithNoise(scheduler, steps, tStart, new NoRandom());
    }

    /** Loop B's "with_noise" variant drawing from {@code random}. */
    static FloatTensor loopBWithNoise(Scheduler scheduler, int steps, int tStart, RandomSource random) {
        scheduler.setTimesteps(steps);
        FloatTensor sample = sampleDeter().mul(scheduler.initNoiseSigma());
        float[] ts = tail(scheduler.timesteps(), tStart * scheduler.order());
        sample = scheduler.addNoise(sample, noiseDeter(), ts[0]);
        return runB(scheduler, ts, sample, random);
    }

    private static FloatTensor runB(Scheduler scheduler, float[] timesteps, FloatTensor sample, RandomSource random) {
        for (float t : timesteps) {
            sample = scheduler.scaleModelInput(sample, t);
            FloatTensor out = model(sample, t);
            sample = scheduler.step(out, t, sample, random);
        }
        return sample;
    }

    static float[] tail(float[] a, int from) {
        return Arrays.copyOfRange(a, from, a.length);
    }

    /** {@code torch.sum(torch.abs(sample))}; accumulated in double (torch's cascade sum is close to exact). */
    static double absSum(FloatTensor t) {
        double s = 0;
        for (float v : t.array()) {
            s += Math.abs(v);
        }
        return (float) s;
    }

    /** {@code torch.mean(torch.abs(sample))}. */
    static double absMean(FloatTensor t) {
        return (float) (absSum(t) / t.size());
    }

    /**
     * Asserts diffusers' parity check {@code |sum - expected| < sumTol and |mean - expected| < meanTol} and prints
     * the computed values (the report lists them).
     */
    static void assertParity(String row, FloatTensor result, double sum, double sumTol, double mean, double meanTol) {
        double s = absSum(result);
        double m = absMean(result);
        System.out.printf(java.util.Locale.ROOT, "PARITY %-40s sum %.6f (expected %s) mean %.8g (expected %s)%n",
                row, s, Double.isNaN(sum) ? "-" : Double.toString(sum), m, Double.toString(mean));
        if (!Double.isNaN(sum)) {
            org.assertj.core.api.Assertions.assertThat(s).as(row + " sum").isCloseTo(sum,
                    org.assertj.core.api.Assertions.byLessThan(sumTol));
        }
        org.assertj.core.api.Assertions.assertThat(m).as(row + " mean").isCloseTo(mean,
                org.assertj.core.api.Assertions.byLessThan(meanTol));
    }

    /** @return whether every element is finite (no NaN, no infinity) */
    static boolean allFinite(FloatTensor t) {
        for (float v : t.array()) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /**
     * diffusers' {@code get_scheduler_config()} of most scheduler tests: linear betas from 1e-4 to 0.02 over
     * {@code numTrainTimesteps}, then {@code overrides} (alternating keys and values).
     */
    static SchedulerConfig linearBetas(int numTrainTimesteps, Object... overrides) {
        return with(config("num_train_timesteps", numTrainTimesteps, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear"), overrides);
    }

    /** @return {@code base} with {@code overrides} (alternating keys and values) applied on top */
    static SchedulerConfig with(SchedulerConfig base, Object... overrides) {
        return base.with(config(overrides).asMap());
    }

    /** @return a config from alternating keys and values */
    static SchedulerConfig config(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return SchedulerConfig.of(m);
    }

    /** A generator that must not be used: the deterministic loops never draw. */
    static final class NoRandom implements RandomSource {
        @Override
        public FloatTensor randn(int... shape) {
            throw new AssertionError("a deterministic loop drew randn" + Arrays.toString(shape));
        }

        @Override
        public FloatTensor rand(int... shape) {
            throw new AssertionError("a deterministic loop drew rand" + Arrays.toString(shape));
        }

        @Override
        public long seed() {
            return 0;
        }
    }
}
