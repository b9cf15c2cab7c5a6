package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Provides {@link DpmSolverMultistepScheduler} ({@code DPMSolverMultistepScheduler}); presets {@code dpm++2m},
 * {@code dpm++2m-karras}, {@code dpm++2m-sde} and {@code dpm++2m-sde-karras}. Each preset sets only what its name
 * says (algorithm, order 2, Karras sigmas on or off), so the model folder's beta schedule is kept.
 */
@Extension
public final class DpmSolverMultistepSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public DpmSolverMultistepSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(DpmSolverMultistepScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(
                new SchedulerPreset("dpm++2m", Map.of("algorithm_type", "dpmsolver++", "solver_order", 2,
                        "use_karras_sigmas", false),
                        "DPM-Solver++ 2M (Lu et al. 2022), second-order multistep, deterministic"),
                new SchedulerPreset("dpm++2m-karras", Map.of("algorithm_type", "dpmsolver++", "solver_order", 2,
                        "use_karras_sigmas", true),
                        "DPM-Solver++ 2M with Karras sigmas, deterministic"),
                new SchedulerPreset("dpm++2m-sde", Map.of("algorithm_type", "sde-dpmsolver++", "solver_order", 2,
                        "use_karras_sigmas", false),
                        "DPM-Solver++ 2M SDE, second-order stochastic multistep; draws noise every step"),
                new SchedulerPreset("dpm++2m-sde-karras", Map.of("algorithm_type", "sde-dpmsolver++",
                        "solver_order", 2, "use_karras_sigmas", true),
                        "DPM-Solver++ 2M SDE with Karras sigmas; draws noise every step"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new DpmSolverMultistepScheduler(config);
    }
}
