package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link DdpmScheduler} ({@code DDPMScheduler}); preset {@code ddpm}. */
@Extension
public final class DdpmSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public DdpmSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(DdpmScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("ddpm", Map.of(),
                "DDPM ancestral sampling (Ho et al. 2020); draws noise every step, meant for many steps"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new DdpmScheduler(config);
    }
}
