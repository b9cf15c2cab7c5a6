package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link DeisScheduler} ({@code DEISMultistepScheduler}); preset {@code deis}. */
@Extension
public final class DeisSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public DeisSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(DeisScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("deis", Map.of(),
                "DEIS (Zhang and Chen 2022), log-rho multistep exponential integrator, deterministic"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new DeisScheduler(config);
    }
}
