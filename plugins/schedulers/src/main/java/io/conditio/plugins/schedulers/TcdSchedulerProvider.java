package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link TcdScheduler} ({@code TCDScheduler}); preset {@code tcd}. */
@Extension
public final class TcdSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public TcdSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(TcdScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("tcd", Map.of(),
                "TCD (Zheng et al. 2024) for trajectory-consistency-distilled models; set eta (gamma) for stochasticity"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new TcdScheduler(config);
    }
}
