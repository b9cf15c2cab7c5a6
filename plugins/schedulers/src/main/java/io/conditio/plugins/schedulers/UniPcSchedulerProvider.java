package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link UniPcScheduler} ({@code UniPCMultistepScheduler}); preset {@code unipc}. */
@Extension
public final class UniPcSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public UniPcSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(UniPcScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("unipc", Map.of(),
                "UniPC (Zhao et al. 2023), predictor-corrector multistep (bh2, order 2), deterministic"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new UniPcScheduler(config);
    }
}
