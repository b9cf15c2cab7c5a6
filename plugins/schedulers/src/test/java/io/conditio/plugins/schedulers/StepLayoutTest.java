package io.conditio.plugins.schedulers;

import static io.conditio.plugins.schedulers.DiffusersHarness.config;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which scheduler step and sub-step each model call is ({@link Scheduler#stepOfCall}), checked against the
 * timesteps the schedulers visit: every step's first call is at one of the user's timesteps, strictly descending,
 * one per inference step.
 */
class StepLayoutTest {
    private static final SchedulerConfig BASE = config("num_train_timesteps", 1000, "beta_start", 0.00085,
            "beta_end", 0.012, "beta_schedule", "scaled_linear");

    /** @return the timesteps of the first call of every step, in step order, checking the steps count up by one */
    private static List<Float> firstCalls(Scheduler s, int steps) {
        s.setTimesteps(steps);
        float[] t = s.timesteps();
        List<Float> first = new ArrayList<>();
        for (int call = 0; call < t.length; call++) {
            int step = s.stepOfCall(call);
            if (s.subStepOfCall(call) == 0) {
                assertThat(step).as("step of call %d", call).isEqualTo(first.size());
                first.add(t[call]);
            } else {
                assertThat(step).as("step of call %d, a later sub-step", call).isEqualTo(first.size() - 1);
            }
        }
        assertThat(first).as("one first call per inference step").hasSize(steps);
        for (int i = 1; i < first.size(); i++) {
            assertThat(first.get(i)).as("first call of step %d", i).isLessThan(first.get(i - 1));
        }
        return first;
    }

    @Test
    void heunsCorrectorRunsAtTheNextStepsTimestepWithinTheSameStep() {
        HeunScheduler heun = new HeunScheduler(BASE);
        List<Float> first = firstCalls(heun, 6);
        float[] t = heun.timesteps();
        assertThat(t).hasSize(11);
        for (int call = 0; call < t.length; call++) {
            int step = heun.stepOfCall(call);
            int sub = heun.subStepOfCall(call);
            assertThat(sub).isEqualTo(call == t.length - 1 ? 0 : call % 2);
            if (sub == 1) {
                // the same timestep as the next step's first call, yet part of this step
                assertThat(t[call]).isEqualTo(first.get(step + 1));
            }
        }
        // the user's timesteps are Euler's, one call each
        EulerScheduler euler = new EulerScheduler(BASE);
        euler.setTimesteps(6);
        assertThat(first).containsExactly(box(euler.timesteps()));
    }

    @Test
    void kdpm2sSecondCallIsAtTheMidpointBetweenTwoSteps() {
        Kdpm2Scheduler s = new Kdpm2Scheduler(BASE);
        List<Float> first = firstCalls(s, 5);
        float[] t = s.timesteps();
        for (int call = 0; call < t.length; call++) {
            if (s.subStepOfCall(call) == 1) {
                int step = s.stepOfCall(call);
                assertThat(t[call]).as("midpoint of step " + step).isLessThan(first.get(step))
                        .isGreaterThan(first.get(step + 1));
            }
        }
        // the ancestral variant's midpoint lies towards sigma_down, which can be below the next step's sigma
        Kdpm2AncestralScheduler a = new Kdpm2AncestralScheduler(BASE);
        List<Float> ancestral = firstCalls(a, 5);
        for (int call = 0; call < a.timesteps().length; call++) {
            if (a.subStepOfCall(call) == 1) {
                assertThat(a.timesteps()[call]).isLessThan(ancestral.get(a.stepOfCall(call)));
            }
        }
    }

    @Test
    void pndmsRungeKuttaWarmUpIsFourCallsPerStepAndVisitsTheStepsPlmsVisits() {
        PndmScheduler prk = new PndmScheduler(BASE);
        List<Float> warm = firstCalls(prk, 8);
        int[] perStep = new int[8];
        for (int call = 0; call < prk.timesteps().length; call++) {
            perStep[prk.stepOfCall(call)]++;
        }
        assertThat(perStep).containsExactly(4, 4, 4, 1, 1, 1, 1, 1);
        PndmScheduler plms = new PndmScheduler(BASE.with(config("skip_prk_steps", true).asMap()));
        List<Float> skip = firstCalls(plms, 8);
        assertThat(plms.stepOfCall(1)).as("PLMS's first step is two calls").isZero();
        assertThat(plms.subStepOfCall(1)).isEqualTo(1);
        assertThat(warm).isEqualTo(skip);
    }

    @Test
    void aFirstOrderSchedulerMakesOneCallPerStep() {
        DdimScheduler ddim = new DdimScheduler(BASE);
        firstCalls(ddim, 7);
        assertThat(ddim.timesteps()).hasSize(7);
    }

    private static Float[] box(float[] a) {
        Float[] out = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
