package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SPI 0.2.0 defaults that tell a model call's scheduler step, for schedulers and contexts that do not say. */
class StepLayoutDefaultsTest {

    private static Scheduler ofOrder(int order) {
        return new Scheduler() {
            @Override
            public void setTimesteps(int numInferenceSteps) {
            }

            @Override
            public float[] timesteps() {
                return new float[0];
            }

            @Override
            public float initNoiseSigma() {
                return 1f;
            }

            @Override
            public int order() {
                return order;
            }

            @Override
            public FloatTensor scaleModelInput(FloatTensor sample, float timestep) {
                return sample;
            }

            @Override
            public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample,
                    RandomSource random) {
                return sample;
            }

            @Override
            public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
                return original;
            }

            @Override
            public SchedulerConfig config() {
                return null;
            }
        };
    }

    @Test
    void aSecondOrderSchedulerPairsItsCallsAndItsLastStepIsOneCall() {
        Scheduler heunLike = ofOrder(2);
        List<String> layout = new ArrayList<>();
        // 4 steps of a second-order scheduler: 2 * 4 - 1 calls
        for (int call = 0; call < 7; call++) {
            layout.add(heunLike.stepOfCall(call) + "." + heunLike.subStepOfCall(call));
        }
        assertThat(layout).containsExactly("0.0", "0.1", "1.0", "1.1", "2.0", "2.1", "3.0");
    }

    @Test
    void aFirstOrderSchedulerMakesOneCallPerStep() {
        Scheduler euler = ofOrder(1);
        for (int call = 0; call < 5; call++) {
            assertThat(euler.stepOfCall(call)).isEqualTo(call);
            assertThat(euler.subStepOfCall(call)).isZero();
        }
    }

    @Test
    void aStepContextThatDoesNotSayReportsEveryCallAsItsOwnStep() {
        StepContext old = new StepContext() {
            @Override
            public int stepIndex() {
                return 3;
            }

            @Override
            public int totalSteps() {
                return 9;
            }

            @Override
            public int inferenceSteps() {
                return 9;
            }

            @Override
            public float timestep() {
                return 0;
            }

            @Override
            public FloatTensor latents() {
                return null;
            }

            @Override
            public List<GuidanceBranch> branches() {
                return List.of();
            }

            @Override
            public GenerationRequest request() {
                return null;
            }

            @Override
            public void cancel() {
            }
        };
        assertThat(old.schedulerStep()).isEqualTo(3);
        assertThat(old.schedulerSteps()).isEqualTo(9);
        assertThat(old.subStep()).isZero();
    }
}
