package io.conditio.plugins.schedulers;

import io.conditio.api.ConfigurationException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerPreset;
import io.conditio.api.SchedulerProvider;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.pf4j.Extension;

/**
 * The one provider of this plugin: every algorithm with its diffusers class name and its presets, in one table. A
 * preset carries its class as the {@code _class_name} override, so the host picks the algorithm by the preset;
 * {@link #create} picks it by the config's {@code _class_name}.
 */
@Extension
public final class BuiltInSchedulers implements SchedulerProvider {

    /** One algorithm: the diffusers class it ports, its constructor, its config keys, the presets that select it. */
    private record Algorithm(String className, Function<SchedulerConfig, Scheduler> create,
            List<ConfigKey<?>> keys, List<SchedulerPreset> presets) {
    }

    private static final Map<String, Object> DPMPP_2M = Map.of("algorithm_type", "dpmsolver++", "solver_order", 2,
            "use_karras_sigmas", false);
    private static final Map<String, Object> DPMPP_2M_KARRAS = Map.of("algorithm_type", "dpmsolver++",
            "solver_order", 2, "use_karras_sigmas", true);
    private static final Map<String, Object> DPMPP_2M_SDE = Map.of("algorithm_type", "sde-dpmsolver++",
            "solver_order", 2, "use_karras_sigmas", false);
    private static final Map<String, Object> DPMPP_2M_SDE_KARRAS = Map.of("algorithm_type", "sde-dpmsolver++",
            "solver_order", 2, "use_karras_sigmas", true);

    private static final List<Algorithm> ALGORITHMS = List.of(
            new Algorithm(DdimScheduler.CLASS_NAME, DdimScheduler::new, DdimScheduler.KEYS, List.of(
                new SchedulerPreset("ddim", Map.of(),
                        "DDIM (Song et al. 2020), deterministic (eta 0); the model's own schedule"))),
            new Algorithm(DdpmScheduler.CLASS_NAME, DdpmScheduler::new, DdpmScheduler.KEYS, List.of(
                new SchedulerPreset("ddpm", Map.of(),
                        "DDPM ancestral sampling (Ho et al. 2020); draws noise every step, meant for many steps"))),
            new Algorithm(DeisScheduler.CLASS_NAME, DeisScheduler::new, DeisScheduler.KEYS, List.of(
                new SchedulerPreset("deis", Map.of(),
                        "DEIS (Zhang and Chen 2022), log-rho multistep exponential integrator, deterministic"))),
            new Algorithm(DpmSolverMultistepScheduler.CLASS_NAME, DpmSolverMultistepScheduler::new,
                    DpmSolverMultistepScheduler.KEYS, List.of(
                new SchedulerPreset("dpm++2m", DPMPP_2M,
                        "DPM-Solver++ 2M (Lu et al. 2022), second-order multistep, deterministic"),
                new SchedulerPreset("dpm++2m-karras", DPMPP_2M_KARRAS,
                        "DPM-Solver++ 2M with Karras sigmas, deterministic"),
                new SchedulerPreset("dpm++2m-sde", DPMPP_2M_SDE,
                        "DPM-Solver++ 2M SDE, second-order stochastic multistep; draws noise every step"),
                new SchedulerPreset("dpm++2m-sde-karras", DPMPP_2M_SDE_KARRAS,
                        "DPM-Solver++ 2M SDE with Karras sigmas; draws noise every step"))),
            new Algorithm(DpmSolverSinglestepScheduler.CLASS_NAME, DpmSolverSinglestepScheduler::new,
                    DpmSolverSinglestepScheduler.KEYS, List.of(
                new SchedulerPreset("dpm++2s", DPMPP_2M,
                        "DPM-Solver++(2S) (Lu et al. 2022), second-order single-step, deterministic; not A1111's "
                                + "ancestral 'DPM++ 2S a'"))),
            new Algorithm(EulerAncestralScheduler.CLASS_NAME, EulerAncestralScheduler::new,
                    EulerAncestralScheduler.KEYS, List.of(
                new SchedulerPreset("euler-a", Map.of(),
                        "Euler ancestral (k-diffusion), adds fresh noise every step; seeded runs reproduce "
                                + "diffusers"))),
            new Algorithm(EulerScheduler.CLASS_NAME, EulerScheduler::new, EulerScheduler.KEYS, List.of(
                new SchedulerPreset("euler", Map.of(),
                        "Euler (Karras et al. 2022, Algorithm 2 without churn), deterministic"))),
            new Algorithm(FlowMatchEulerScheduler.CLASS_NAME, FlowMatchEulerScheduler::new,
                    FlowMatchEulerScheduler.KEYS, List.of(
                new SchedulerPreset("flow-euler", Map.of(),
                        "Flow-matching Euler (SD3, Flux); the model folder's shift is kept"))),
            new Algorithm(HeunScheduler.CLASS_NAME, HeunScheduler::new, HeunScheduler.KEYS, List.of(
                new SchedulerPreset("heun", Map.of(),
                        "Heun (Karras et al. 2022, Algorithm 1), 2 model calls per step, deterministic"))),
            new Algorithm(Kdpm2AncestralScheduler.CLASS_NAME, Kdpm2AncestralScheduler::new,
                    Kdpm2AncestralScheduler.KEYS, List.of(
                new SchedulerPreset("kdpm2-a", Map.of(),
                        "KDPM2 ancestral (k-diffusion), 2 model calls per step, adds noise every step"))),
            new Algorithm(Kdpm2Scheduler.CLASS_NAME, Kdpm2Scheduler::new, Kdpm2Scheduler.KEYS, List.of(
                new SchedulerPreset("kdpm2", Map.of(),
                        "KDPM2: DPM-Solver-2 (k-diffusion), 2 model calls per step, deterministic"))),
            new Algorithm(LcmScheduler.CLASS_NAME, LcmScheduler::new, LcmScheduler.KEYS, List.of(
                new SchedulerPreset("lcm", Map.of(),
                        "LCM (Luo et al. 2023) for latent consistency models, 2-8 steps; re-noises between steps"))),
            new Algorithm(LmsScheduler.CLASS_NAME, LmsScheduler::new, LmsScheduler.KEYS, List.of(
                new SchedulerPreset("lms", Map.of(),
                        "LMS: linear multistep (k-diffusion), 4th order, deterministic"))),
            new Algorithm(PndmScheduler.CLASS_NAME, PndmScheduler::new, PndmScheduler.KEYS, List.of(
                new SchedulerPreset("pndm", Map.of(),
                        "PNDM / PLMS (Liu et al. 2022); the model folder decides skip_prk_steps (Stable Diffusion "
                                + "skips them)"))),
            new Algorithm(TcdScheduler.CLASS_NAME, TcdScheduler::new, TcdScheduler.KEYS, List.of(
                new SchedulerPreset("tcd", Map.of(),
                        "TCD (Zheng et al. 2024) for trajectory-consistency-distilled models; set eta (gamma) for "
                                + "stochasticity"))),
            new Algorithm(UniPcScheduler.CLASS_NAME, UniPcScheduler::new, UniPcScheduler.KEYS, List.of(
                new SchedulerPreset("unipc", Map.of(),
                        "UniPC (Zhao et al. 2023), predictor-corrector multistep (bh2, order 2), deterministic"))));

    private static final Map<String, Algorithm> BY_CLASS = new LinkedHashMap<>();

    static {
        for (Algorithm a : ALGORITHMS) {
            BY_CLASS.put(a.className(), a);
        }
    }

    /** Created by the host. */
    public BuiltInSchedulers() {
    }

    @Override
    public List<String> classNames() {
        return List.copyOf(BY_CLASS.keySet());
    }

    @Override
    public List<SchedulerPreset> presets() {
        List<SchedulerPreset> out = new ArrayList<>();
        for (Algorithm a : ALGORITHMS) {
            for (SchedulerPreset p : a.presets()) {
                Map<String, Object> overrides = new LinkedHashMap<>(p.overrides());
                overrides.put(SchedulerConfig.CLASS_NAME, a.className());
                out.add(new SchedulerPreset(p.name(), overrides, p.description()));
            }
        }
        return out;
    }

    @Override
    public List<ParameterDeclaration> configKeys(String className) {
        Algorithm a = BY_CLASS.get(className);
        return a == null ? List.of() : a.keys().stream().map(ConfigKey::declaration).toList();
    }

    @Override
    public Scheduler create(SchedulerConfig config) {
        Algorithm a = BY_CLASS.get(config.className());
        if (a == null) {
            throw new ConfigurationException("the schedulers plugin has no scheduler class '" + config.className()
                    + "'; it provides " + String.join(", ", BY_CLASS.keySet()));
        }
        return a.create().apply(config);
    }
}
