package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link Kdpm2AncestralScheduler} ({@code KDPM2AncestralDiscreteScheduler}); preset {@code kdpm2-a}. */
@Extension
public final class Kdpm2AncestralSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public Kdpm2AncestralSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(Kdpm2AncestralScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("kdpm2-a", Map.of(),
                "KDPM2 ancestral (k-diffusion), 2 model calls per step, adds noise every step"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new Kdpm2AncestralScheduler(config);
    }
}
