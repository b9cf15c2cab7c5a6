package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link EulerScheduler} ({@code EulerDiscreteScheduler}); preset {@code euler}. */
@Extension
public final class EulerSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public EulerSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(EulerScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("euler", Map.of(),
                "Euler (Karras et al. 2022, Algorithm 2 without churn), deterministic"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new EulerScheduler(config);
    }
}
