package io.conditio.plugins.schedulers;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerProvider;
import io.conditio.tck.SchedulerProviderContract;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The conformance kit's scheduler contract, for every scheduler class the plugin names, on SD 1.5's config. */
class BuiltInSchedulersContractTest {
    abstract static class OnSd15 extends SchedulerProviderContract {
        abstract String className();

        @Override
        protected SchedulerProvider provider() {
            return new BuiltInSchedulers();
        }

        @Override
        protected SchedulerConfig config() {
            return SchedulerProvidersTest.SD15.with(Map.of("_class_name", className()));
        }

        @Override
        protected Map<String, Object> badConfig() {
            return Map.of("beta_schedule", "wobbly");
        }
    }

    @Test
    void everyClassThePluginNamesRunsTheContract() throws Exception {
        Set<String> covered = Arrays.stream(getClass().getDeclaredClasses())
                .filter(c -> OnSd15.class.isAssignableFrom(c) && c != OnSd15.class)
                .map(c -> {
                    try {
                        var constructor = c.getDeclaredConstructor(BuiltInSchedulersContractTest.class);
                        return ((OnSd15) constructor.newInstance(this)).className();
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException(e);
                    }
                })
                .collect(Collectors.toSet());
        assertThat(covered).as("scheduler classes with a contract test here")
                .containsExactlyInAnyOrderElementsOf(new BuiltInSchedulers().classNames());
    }

    @Nested
    class Ddim extends OnSd15 {
        @Override
        String className() {
            return DdimScheduler.CLASS_NAME;
        }
    }

    @Nested
    class Ddpm extends OnSd15 {
        @Override
        String className() {
            return DdpmScheduler.CLASS_NAME;
        }
    }

    @Nested
    class Deis extends OnSd15 {
        @Override
        String className() {
            return DeisScheduler.CLASS_NAME;
        }
    }

    @Nested
    class DpmSolverMultistep extends OnSd15 {
        @Override
        String className() {
            return DpmSolverMultistepScheduler.CLASS_NAME;
        }
    }

    @Nested
    class DpmSolverSinglestep extends OnSd15 {
        @Override
        String className() {
            return DpmSolverSinglestepScheduler.CLASS_NAME;
        }
    }

    @Nested
    class EulerAncestral extends OnSd15 {
        @Override
        String className() {
            return EulerAncestralScheduler.CLASS_NAME;
        }
    }

    @Nested
    class Euler extends OnSd15 {
        @Override
        String className() {
            return EulerScheduler.CLASS_NAME;
        }
    }

    @Nested
    class FlowMatchEuler extends OnSd15 {
        @Override
        String className() {
            return FlowMatchEulerScheduler.CLASS_NAME;
        }

        /** A flow-matching scheduler has no beta schedule to refuse. */
        @Override
        protected Map<String, Object> badConfig() {
            return Map.of("time_shift_type", "sideways");
        }
    }

    @Nested
    class Heun extends OnSd15 {
        @Override
        String className() {
            return HeunScheduler.CLASS_NAME;
        }
    }

    @Nested
    class Kdpm2Ancestral extends OnSd15 {
        @Override
        String className() {
            return Kdpm2AncestralScheduler.CLASS_NAME;
        }
    }

    @Nested
    class Kdpm2 extends OnSd15 {
        @Override
        String className() {
            return Kdpm2Scheduler.CLASS_NAME;
        }
    }

    @Nested
    class Lcm extends OnSd15 {
        @Override
        String className() {
            return LcmScheduler.CLASS_NAME;
        }
    }

    @Nested
    class Lms extends OnSd15 {
        @Override
        String className() {
            return LmsScheduler.CLASS_NAME;
        }
    }

    @Nested
    class Pndm extends OnSd15 {
        @Override
        String className() {
            return PndmScheduler.CLASS_NAME;
        }
    }

    @Nested
    class Tcd extends OnSd15 {
        @Override
        String className() {
            return TcdScheduler.CLASS_NAME;
        }
    }

    @Nested
    class UniPc extends OnSd15 {
        @Override
        String className() {
            return UniPcScheduler.CLASS_NAME;
        }
    }
}
