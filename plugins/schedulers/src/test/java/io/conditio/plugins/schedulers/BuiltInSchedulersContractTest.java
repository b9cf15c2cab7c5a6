package io.conditio.plugins.schedulers;

import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerProvider;
import io.conditio.tck.SchedulerProviderContract;
import java.util.Map;
import org.junit.jupiter.api.Nested;

/** The conformance kit's scheduler contract, for a first-order, a second-order and a multistep scheduler. */
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

    @Nested
    class Euler extends OnSd15 {
        @Override
        String className() {
            return "EulerDiscreteScheduler";
        }
    }

    @Nested
    class Heun extends OnSd15 {
        @Override
        String className() {
            return "HeunDiscreteScheduler";
        }
    }

    @Nested
    class DpmSolverMultistep extends OnSd15 {
        @Override
        String className() {
            return "DPMSolverMultistepScheduler";
        }
    }
}
