package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link FlowMatchEulerScheduler} ({@code FlowMatchEulerDiscreteScheduler}); preset {@code flow-euler}. */
@Extension
public final class FlowMatchEulerSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public FlowMatchEulerSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(FlowMatchEulerScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("flow-euler", Map.of(),
                "Flow-matching Euler (SD3, Flux); the model folder's shift is kept"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new FlowMatchEulerScheduler(config);
    }
}
