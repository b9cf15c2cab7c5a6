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

        /** @return config keys over SD 1.5's that take the scheduler down another path (noise, order, spacing) */
        Map<String, Object> variant() {
            return Map.of();
        }

        @Override
        protected SchedulerProvider provider() {
            return new BuiltInSchedulers();
        }

        @Override
        protected SchedulerConfig config() {
            Map<String, Object> keys = new java.util.HashMap<>(variant());
            keys.put("_class_name", className());
            return SchedulerProvidersTest.SD15.with(keys);
        }

        @Override
        protected Map<String, Object> badConfig() {
            return Map.of("beta_schedule", "wobbly");
        }
    }

    /** The contract on SD 1.5's config with a few keys over it. */
    abstract static class Variant extends OnSd15 {
        private final String className;
        private final Map<String, Object> variant;

        Variant(String className, Map<String, Object> variant) {
            this.className = className;
            this.variant = variant;
        }

        @Override
        String className() {
            return className;
        }

        @Override
        Map<String, Object> variant() {
            return variant;
        }
    }

    @Test
    void everyClassThePluginNamesRunsTheContract() throws Exception {
        Set<String> covered = Arrays.stream(getClass().getDeclaredClasses())
                .filter(c -> OnSd15.class.isAssignableFrom(c)
                        && !java.lang.reflect.Modifier.isAbstract(c.getModifiers()))
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

    /** DDIM with eta > 0 draws noise in every step. */
    @Nested
    class DdimWithEta extends Variant {
        DdimWithEta() {
            super(DdimScheduler.CLASS_NAME, Map.of("eta", 0.5));
        }
    }

    /** Euler with churn draws noise and raises sigma before each step. */
    @Nested
    class EulerWithChurn extends Variant {
        EulerWithChurn() {
            super(EulerScheduler.CLASS_NAME, Map.of("s_churn", 1.0));
        }
    }

    /** The SDE variant draws noise in every step. */
    @Nested
    class DpmSolverMultistepSde extends Variant {
        DpmSolverMultistepSde() {
            super(DpmSolverMultistepScheduler.CLASS_NAME, Map.of("algorithm_type", "sde-dpmsolver++"));
        }
    }

    /** Third order on Karras sigmas, ending on the zero-length step. */
    @Nested
    class DpmSolverMultistepThirdOrderKarras extends Variant {
        DpmSolverMultistepThirdOrderKarras() {
            super(DpmSolverMultistepScheduler.CLASS_NAME, Map.of("solver_order", 3, "use_karras_sigmas", true,
                    "final_sigmas_type", "sigma_min", "lower_order_final", false));
        }
    }

    /** Third-order blocks of the SDE variant. */
    @Nested
    class DpmSolverSinglestepSdeThirdOrder extends Variant {
        DpmSolverSinglestepSdeThirdOrder() {
            super(DpmSolverSinglestepScheduler.CLASS_NAME,
                    Map.of("algorithm_type", "sde-dpmsolver++", "solver_order", 3));
        }
    }

    /** The quadratic extrapolation. */
    @Nested
    class DeisThirdOrder extends Variant {
        DeisThirdOrder() {
            super(DeisScheduler.CLASS_NAME, Map.of("solver_order", 3));
        }
    }

    /** Third order on Karras sigmas, ending on the zero-length step. */
    @Nested
    class UniPcThirdOrderKarras extends Variant {
        UniPcThirdOrderKarras() {
            super(UniPcScheduler.CLASS_NAME, Map.of("solver_order", 3, "use_karras_sigmas", true,
                    "final_sigmas_type", "sigma_min"));
        }
    }

    /** The Runge-Kutta warm-up before the linear multistep steps. */
    @Nested
    class PndmWithRungeKutta extends Variant {
        PndmWithRungeKutta() {
            super(PndmScheduler.CLASS_NAME, Map.of("skip_prk_steps", false));
        }
    }

    /** TCD with eta > 0 re-noises in every step but the last. */
    @Nested
    class TcdWithEta extends Variant {
        TcdWithEta() {
            super(TcdScheduler.CLASS_NAME, Map.of("eta", 0.3));
        }
    }

    /** Stochastic sampling draws noise in every step. */
    @Nested
    class FlowMatchEulerStochastic extends Variant {
        FlowMatchEulerStochastic() {
            super(FlowMatchEulerScheduler.CLASS_NAME, Map.of("stochastic_sampling", true));
        }

        @Override
        protected Map<String, Object> badConfig() {
            return Map.of("time_shift_type", "sideways");
        }
    }
}
