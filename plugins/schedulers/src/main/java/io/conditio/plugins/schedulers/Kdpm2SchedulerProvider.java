package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link Kdpm2Scheduler} ({@code KDPM2DiscreteScheduler}); preset {@code kdpm2}. */
@Extension
public final class Kdpm2SchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public Kdpm2SchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(Kdpm2Scheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("kdpm2", Map.of(),
                "KDPM2: DPM-Solver-2 (k-diffusion), 2 model calls per step, deterministic"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new Kdpm2Scheduler(config);
    }
}
