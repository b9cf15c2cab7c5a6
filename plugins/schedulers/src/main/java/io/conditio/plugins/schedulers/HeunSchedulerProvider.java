package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link HeunScheduler} ({@code HeunDiscreteScheduler}); preset {@code heun}. */
@Extension
public final class HeunSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public HeunSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(HeunScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("heun", Map.of(),
                "Heun (Karras et al. 2022, Algorithm 1), 2 model calls per step, deterministic"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new HeunScheduler(config);
    }
}
