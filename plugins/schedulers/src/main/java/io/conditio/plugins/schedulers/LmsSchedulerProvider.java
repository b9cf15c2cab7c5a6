package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link LmsScheduler} ({@code LMSDiscreteScheduler}); preset {@code lms}. */
@Extension
public final class LmsSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public LmsSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(LmsScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("lms", Map.of(),
                "LMS: linear multistep (k-diffusion), 4th order, deterministic"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new LmsScheduler(config);
    }
}
