package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link DdimScheduler} ({@code DDIMScheduler}); preset {@code ddim}. */
@Extension
public final class DdimSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public DdimSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(DdimScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("ddim", Map.of(),
                "DDIM (Song et al. 2020), deterministic (eta 0); the model's own schedule"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new DdimScheduler(config);
    }
}
