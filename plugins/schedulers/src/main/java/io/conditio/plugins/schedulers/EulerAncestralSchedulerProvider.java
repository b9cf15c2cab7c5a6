package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link EulerAncestralScheduler} ({@code EulerAncestralDiscreteScheduler}); preset {@code euler-a}. */
@Extension
public final class EulerAncestralSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public EulerAncestralSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(EulerAncestralScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("euler-a", Map.of(),
                "Euler ancestral (k-diffusion), adds fresh noise every step; seeded runs reproduce diffusers"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new EulerAncestralScheduler(config);
    }
}
