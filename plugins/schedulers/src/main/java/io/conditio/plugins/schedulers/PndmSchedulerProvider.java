package io.conditio.plugins.schedulers;

import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/** Provides {@link PndmScheduler} ({@code PNDMScheduler}); preset {@code pndm}. */
@Extension
public final class PndmSchedulerProvider implements SchedulerProvider {

    /** Created by the host. */
    public PndmSchedulerProvider() {
    }

    @Override
    public List<String> classNames() {
        return List.of(PndmScheduler.CLASS_NAME);
    }

    @Override
    public List<SchedulerPreset> presets() {
        return List.of(new SchedulerPreset("pndm", Map.of(),
                "PNDM / PLMS (Liu et al. 2022); the model folder decides skip_prk_steps (Stable Diffusion skips them)"));
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        return new PndmScheduler(config);
    }
}
