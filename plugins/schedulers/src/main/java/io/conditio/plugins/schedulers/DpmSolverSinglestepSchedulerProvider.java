package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Provides {@link DpmSolverSinglestepScheduler} ({@code DPMSolverSinglestepScheduler}); preset {@code dpm++2s}.
 * The name follows the "DPM++ 2M" convention for the multistep solver: DPM-Solver++(2S) is the paper's name for the
 * second-order single-step solver. It is deterministic, so it is not A1111's ancestral "DPM++ 2S a".
 */
@Extension
public final class DpmSolverSinglestepSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public DpmSolverSinglestepSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(DpmSolverSinglestepScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("dpm++2s", Map.of("algorithm_type", "dpmsolver++", "solver_order", 2,
                "use_karras_sigmas", false),
                "DPM-Solver++(2S) (Lu et al. 2022), second-order single-step, deterministic; not A1111's ancestral "
                        + "'DPM++ 2S a'"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new DpmSolverSinglestepScheduler(config);
    }
}
