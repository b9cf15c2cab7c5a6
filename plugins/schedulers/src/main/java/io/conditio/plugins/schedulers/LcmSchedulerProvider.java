package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link LcmScheduler} ({@code LCMScheduler}); preset {@code lcm}. */
@Extension
public final class LcmSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public LcmSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(LcmScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("lcm", Map.of(),
                "LCM (Luo et al. 2023) for latent consistency models, 2-8 steps; re-noises between steps"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new LcmScheduler(config);
    }
}
