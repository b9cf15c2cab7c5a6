package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.conditio.api.GenerationRequest;
import io.conditio.api.PluginFailureException;
import io.conditio.core.Conditio;
import io.conditio.core.onnx.NativeObjects;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A third-party plugin, a real jar loaded by PF4J from a directory beside the built-in plugins, that implements every
 * extension point of the api and throws in one hook at a time: the generation fails with a
 * {@link PluginFailureException} naming the hook, the plugin's id and version and the extension's class, with the
 * plugin's own exception as the cause; no native tensor stays open, no session is opened that is not the pipeline's
 * cached one, and the next generation on the same pipeline gives exactly the latents it gave before any fault.
 *
 * <p>The hook to fail is named in the prompt ({@code fault:HOOK}); scheduler hooks through the preset
 * {@code faulty-HOOK}, since a scheduler does not see the request.
 */
class FaultyHooksTest {
    private static final String ID = "faulty-hooks@1.0.0";

    private static final String FAULTS = """
            package example;
            import io.conditio.api.GenerationRequest;
            final class Faults {
                private Faults() {
                }
                static boolean asked(GenerationRequest request, String hook) {
                    return request.prompt().equals("fault:" + hook);
                }
                static void maybe(GenerationRequest request, String hook) {
                    if (asked(request, hook)) {
                        fail(hook);
                    }
                }
                /** A different kind of failure per hook, as real bugs are. */
                static void fail(String hook) {
                    switch (hook) {
                        case "scheduler step" -> {
                            Object missing = null;
                            missing.hashCode();
                        }
                        case "guidance combine" -> {
                            int[] none = new int[0];
                            none[hook.length()] = 1;
                        }
                        case "before-step hook" -> throw new StackOverflowError("injected: " + hook);
                        case "after-step hook" -> Faults.<RuntimeException>sneaky(
                                new java.io.IOException("injected: " + hook));
                        case "conditioning contribute" -> throw new UnsupportedOperationException("injected: " + hook);
                        case "weight patcher patch" -> throw new AssertionError("injected: " + hook);
                        default -> throw new IllegalStateException("injected: " + hook);
                    }
                }
                @SuppressWarnings("unchecked")
                private static <T extends Throwable> void sneaky(Throwable t) throws T {
                    throw (T) t;
                }
            }
            """;

    private static final String CONDITIONER = """
            package example;
            import io.conditio.api.*;
            import java.util.List;
            import java.util.Optional;
            import org.pf4j.Extension;
            /** After the built-in conditioners, so their native inputs are open when this one fails. */
            @Extension(ordinal = 90)
            public class FaultyConditioner implements Conditioner {
                public String id() {
                    return "faulty";
                }
                public Optional<Conditioning> prepare(ConditioningContext context) {
                    GenerationRequest r = context.request();
                    Faults.maybe(r, "conditioner prepare");
                    if (Faults.asked(r, "control preprocessor")) {
                        context.preprocess("faulty", new RgbImage(8, 8, new float[8 * 8 * 3]), List.of());
                    }
                    if (!Faults.asked(r, "conditioning provides") && !Faults.asked(r, "conditioning contribute")
                            && !Faults.asked(r, "conditioning provenance")) {
                        return Optional.empty();
                    }
                    return Optional.of(new Conditioning() {
                        public List<UnetInputDeclaration> provides() {
                            Faults.maybe(r, "conditioning provides");
                            return List.of();
                        }
                        public void contribute(StepContext step, UnetInputs inputs) {
                            if (step.stepIndex() == 1) {
                                Faults.maybe(r, "conditioning contribute");
                            }
                        }
                        public java.util.Map<String, String> provenance() {
                            Faults.maybe(r, "conditioning provenance");
                            return java.util.Map.of();
                        }
                    });
                }
            }
            """;

    private static final String GUIDANCE = """
            package example;
            import io.conditio.api.*;
            import java.util.List;
            import java.util.Optional;
            import org.pf4j.Extension;
            /** Asked before the built-in providers; claims only the requests that name one of its hooks. */
            @Extension(ordinal = -10)
            public class FaultyGuidanceProvider implements GuidanceProvider {
                private static final List<String> HOOKS = List.of("guidance branches", "guidance expand",
                        "guidance combine", "guidance describe");
                public String id() {
                    return "faulty-guidance";
                }
                public Optional<Guidance> create(GenerationRequest r, Model unet) {
                    Faults.maybe(r, "guidance provider create");
                    if (HOOKS.stream().noneMatch(h -> Faults.asked(r, h))) {
                        return Optional.empty();
                    }
                    Guidance cfg = new ClassifierFreeGuidance(r.guidanceScale());
                    return Optional.of(new Guidance() {
                        public List<GuidanceBranch> branches() {
                            Faults.maybe(r, "guidance branches");
                            return cfg.branches();
                        }
                        public FloatTensor expand(FloatTensor latents) {
                            Faults.maybe(r, "guidance expand");
                            return cfg.expand(latents);
                        }
                        public FloatTensor combine(FloatTensor out, StepContext step) {
                            Faults.maybe(r, "guidance combine");
                            return cfg.combine(out, step);
                        }
                        public String describe() {
                            Faults.maybe(r, "guidance describe");
                            return cfg.describe();
                        }
                    });
                }
            }
            """;

    private static final String SCHEDULERS = """
            package example;
            import io.conditio.api.*;
            import java.util.ArrayList;
            import java.util.List;
            import java.util.Map;
            import org.pf4j.Extension;
            @Extension
            public class FaultySchedulerProvider implements SchedulerProvider {
                static final List<String> HOOKS = List.of("scheduler provider create", "scheduler setTimesteps",
                        "scheduler timesteps", "scheduler initNoiseSigma", "scheduler order",
                        "scheduler setBeginIndex", "scheduler scaleModelInput", "scheduler step",
                        "scheduler addNoise", "scheduler config");
                public List<String> classNames() {
                    return List.of("FaultyScheduler");
                }
                public List<SchedulerPreset> presets() {
                    List<SchedulerPreset> out = new ArrayList<>();
                    for (String h : HOOKS) {
                        out.add(new SchedulerPreset("faulty-" + h.substring("scheduler ".length()),
                                Map.of("fault", h), "fails in " + h));
                    }
                    out.add(new SchedulerPreset("faulty-healthy", Map.of("fault", "none"), "does not fail"));
                    return out;
                }
                public Scheduler create(SchedulerConfig config) {
                    String fault = String.valueOf(config.asMap().get("fault"));
                    if (fault.equals("scheduler provider create")) {
                        Faults.fail(fault);
                    }
                    return new Scheduler() {
                        private void maybe(String hook) {
                            if (fault.equals(hook)) {
                                Faults.fail(hook);
                            }
                        }
                        public void setTimesteps(int n) {
                            maybe("scheduler setTimesteps");
                        }
                        public float[] timesteps() {
                            maybe("scheduler timesteps");
                            return new float[] {999f, 666f, 333f};
                        }
                        public float initNoiseSigma() {
                            maybe("scheduler initNoiseSigma");
                            return 1f;
                        }
                        public int order() {
                            maybe("scheduler order");
                            return 1;
                        }
                        public FloatTensor scaleModelInput(FloatTensor sample, float t) {
                            if (t < 999f) {
                                maybe("scheduler scaleModelInput");
                            }
                            return sample;
                        }
                        public FloatTensor step(FloatTensor out, float t, FloatTensor sample, RandomSource random) {
                            if (t < 999f) {
                                maybe("scheduler step");
                            }
                            return sample;
                        }
                        public void setBeginIndex(int index) {
                            maybe("scheduler setBeginIndex");
                        }
                        public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float t) {
                            maybe("scheduler addNoise");
                            return original;
                        }
                        public SchedulerConfig config() {
                            maybe("scheduler config");
                            return config;
                        }
                    };
                }
            }
            """;

    private static final String CALLBACKS = stepHook("FaultyBeforeStep", "BeforeStepCallback", "beforeStep",
            "before-step hook");

    private static final String AFTER = stepHook("FaultyAfterStep", "AfterStepCallback", "afterStep",
            "after-step hook");

    private static final String PATCHER = PluginSources.extension("FaultyPatcher", "WeightPatcher",
            "faulty-patcher", """
                public Optional<WeightPatch> patch(WeightPatchContext context) {
                    Faults.maybe(context.request(), "weight patcher patch");
                    return Optional.empty();
                }
            """);

    private static final String PREPROCESSOR = """
            package example;
            import io.conditio.api.*;
            import org.pf4j.Extension;
            @Extension
            public class FaultyPreprocessor implements ControlPreprocessor {
                public String name() {
                    return "faulty";
                }
                public String description() {
                    return "fails";
                }
                public RgbImage process(RgbImage image, PreprocessorContext context) {
                    Faults.fail("control preprocessor");
                    return image;
                }
            }
            """;

    /** A step callback that fails when the request asks for it, at step 1. */
    private static String stepHook(String className, String callback, String method, String what) {
        return """
                package example;
                import io.conditio.api.*;
                import org.pf4j.Extension;
                @Extension
                public class %s implements %s {
                    public void %s(StepContext step) {
                        if (step.stepIndex() == 1) {
                            Faults.maybe(step.request(), "%s");
                        }
                    }
                }
                """.formatted(className, callback, method, what);
    }

    private static Path work;
    private static Conditio conditio;
    private static Pipeline pipeline;
    private static float[] reference;
    private static io.conditio.api.RgbImage referenceImage;
    private static final AtomicInteger FAULTS_INJECTED = new AtomicInteger();

    @BeforeAll
    static void open() throws IOException {
        work = Files.createTempDirectory("faulty-hooks");
        Path plugins = PluginJars.build(work, "faulty-hooks", Map.of("example.Faults", FAULTS,
                "example.FaultyConditioner", CONDITIONER, "example.FaultyGuidanceProvider", GUIDANCE,
                "example.FaultySchedulerProvider", SCHEDULERS, "example.FaultyBeforeStep", CALLBACKS,
                "example.FaultyAfterStep", AFTER, "example.FaultyPatcher", PATCHER,
                "example.FaultyPreprocessor", PREPROCESSOR), List.of("example.FaultyConditioner",
                        "example.FaultyGuidanceProvider", "example.FaultySchedulerProvider",
                        "example.FaultyBeforeStep", "example.FaultyAfterStep", "example.FaultyPatcher",
                        "example.FaultyPreprocessor"));
        conditio = Conditio.start(List.of(TinyFixtures.pluginDir(), plugins));
        assertThat(conditio.plugins().problems()).isEmpty();
        pipeline = conditio.open(TinyFixtures.model("sd-tiny"));
        io.conditio.api.GenerationResult first = pipeline.generate(healthy());
        reference = first.latents().array();
        referenceImage = first.images().get(0);
        // opens the VAE encoder's session once, so the session count is the pipeline's full set from here on
        pipeline.generate(GenerationRequest.builder().setPrompt("a red circle").optSteps(3).optSeed(5)
                .optParameter("init_image", referenceImage).build());
    }

    @AfterAll
    static void close(TestReporter reporter) throws IOException {
        pipeline.close();
        conditio.close();
        reporter.publishEntry("FaultyHooksTest: " + FAULTS_INJECTED.get() + " plugin faults injected, each contained");
        try (Stream<Path> files = Files.walk(work)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static GenerationRequest healthy() {
        return GenerationRequest.builder().setPrompt("a red circle").optSteps(3).optSeed(5).optScheduler("euler")
                .build();
    }

    static Stream<Arguments> hooks() {
        return Stream.of(
                Arguments.of("conditioner prepare", "FaultyConditioner", IllegalStateException.class),
                Arguments.of("conditioning provides", "FaultyConditioner", IllegalStateException.class),
                Arguments.of("conditioning contribute", "FaultyConditioner", UnsupportedOperationException.class),
                Arguments.of("conditioning provenance", "FaultyConditioner", IllegalStateException.class),
                Arguments.of("control preprocessor", "FaultyPreprocessor", IllegalStateException.class),
                Arguments.of("guidance provider create", "FaultyGuidanceProvider", IllegalStateException.class),
                Arguments.of("guidance branches", "FaultyGuidanceProvider", IllegalStateException.class),
                Arguments.of("guidance expand", "FaultyGuidanceProvider", IllegalStateException.class),
                Arguments.of("guidance combine", "FaultyGuidanceProvider", ArrayIndexOutOfBoundsException.class),
                Arguments.of("guidance describe", "FaultyGuidanceProvider", IllegalStateException.class),
                Arguments.of("before-step hook", "FaultyBeforeStep", StackOverflowError.class),
                Arguments.of("after-step hook", "FaultyAfterStep", IOException.class),
                Arguments.of("weight patcher patch", "FaultyPatcher", AssertionError.class));
    }

    static Stream<Arguments> schedulerHooks() {
        return Stream.of(
                Arguments.of("scheduler provider create", IllegalStateException.class),
                Arguments.of("scheduler setTimesteps", IllegalStateException.class),
                Arguments.of("scheduler timesteps", IllegalStateException.class),
                Arguments.of("scheduler initNoiseSigma", IllegalStateException.class),
                Arguments.of("scheduler order", IllegalStateException.class),
                Arguments.of("scheduler setBeginIndex", IllegalStateException.class),
                Arguments.of("scheduler addNoise", IllegalStateException.class),
                Arguments.of("scheduler scaleModelInput", IllegalStateException.class),
                Arguments.of("scheduler step", NullPointerException.class),
                Arguments.of("scheduler config", IllegalStateException.class));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hooks")
    void aFaultInAHookFailsThatGenerationOnly(String hook, String extension, Class<? extends Throwable> cause) {
        GenerationRequest faulty = GenerationRequest.builder().setPrompt("fault:" + hook).optSteps(3).optSeed(5)
                .optScheduler("euler").build();
        contained(faulty, hook, extension, cause);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schedulerHooks")
    void aFaultInASchedulerHookFailsThatGenerationOnly(String hook, Class<? extends Throwable> cause) {
        GenerationRequest.Builder faulty = GenerationRequest.builder().setPrompt("a red circle").optSteps(3)
                .optSeed(5).optScheduler("faulty-" + hook.substring("scheduler ".length()));
        if (List.of("scheduler order", "scheduler setBeginIndex", "scheduler addNoise").contains(hook)) {
            // hooks only img2img calls
            faulty.optParameter("init_image", referenceImage).optParameter("strength", 1.0);
        }
        contained(faulty.build(), hook, "FaultySchedulerProvider", cause);
    }

    @Test
    void theFaultyPluginIsUsedWhenNoFaultIsAsked() {
        // every hook of the plugin is called and returns normally when no hook is told to fail
        assertThat(pipeline.generate(GenerationRequest.builder().setPrompt("fault:nothing").optSteps(3).optSeed(5)
                .optScheduler("faulty-healthy").build()).images()).hasSize(1);
        assertThat(NativeObjects.openTensors()).isZero();
    }

    private static void contained(GenerationRequest faulty, String hook, String extension,
            Class<? extends Throwable> cause) {
        long sessions = NativeObjects.openSessions();
        PluginFailureException e = catchThrowableOfType(PluginFailureException.class,
                () -> pipeline.generate(faulty));
        FAULTS_INJECTED.incrementAndGet();
        assertThat(e).as("failure of %s", hook).isNotNull();
        assertThat(e.getMessage()).startsWith(hook + " failed in plugin " + ID + " (example." + extension + ")");
        assertThat(e).hasCauseInstanceOf(cause);
        assertThat(NativeObjects.openTensors()).as("native tensors open after a fault in %s", hook).isZero();
        assertThat(NativeObjects.openSessions()).as("sessions after a fault in %s", hook).isEqualTo(sessions);
        assertThat(pipeline.generate(healthy()).latents().array()).as("the next generation after a fault in %s", hook)
                .containsExactly(reference);
    }
}
