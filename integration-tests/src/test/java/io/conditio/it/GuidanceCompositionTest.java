package io.conditio.it;

import static io.conditio.it.CliRun.conditio;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.StepContext;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.recipe.InfoText;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guidance strategies compose: a base (classifier-free guidance, or one plugin's) and modifiers wrapping it in
 * their declared order, through the built plugin jars and the plugin template compiled as a third party would. The
 * provenance names the chain and its plugins, and the step context says which scheduler step a model call is.
 */
class GuidanceCompositionTest {
    private static final String RESCALE_CLASS = "com.example.conditio.rescale.CfgRescaleGuidanceProvider";

    @TempDir
    Path dir;

    /** @return a plugin folder with the built-in jars and the plugin template's CFG rescale, compiled from source */
    private Path pluginsWithTemplate() {
        Path template = TinyFixtures.directoryProperty("conditio.pluginTemplate", "the plugin template");
        Path source = template.resolve("src/main/java/" + RESCALE_CLASS.replace('.', '/') + ".java");
        Path plugins;
        try {
            plugins = PluginJars.build(dir.resolve("template"), "cfg-rescale", ">=0.2.0 & <1.0.0",
                    Map.of(RESCALE_CLASS, Files.readString(source)), List.of(RESCALE_CLASS));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return withBuiltIns(plugins);
    }

    private static Path withBuiltIns(Path plugins) {
        try (Stream<Path> jars = Files.list(TinyFixtures.pluginDir())) {
            for (Path jar : (Iterable<Path>) jars.filter(p -> p.toString().endsWith(".jar"))::iterator) {
                Files.copy(jar, plugins.resolve(jar.getFileName()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return plugins;
    }

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder().setPrompt("a red circle on a white background").optSteps(4).optSeed(7)
                .optGuidanceScale(7.5);
    }

    @Test
    void theTemplatesRescaleWrapsClassifierFreeGuidanceAndThePngNamesTheChainAndItsPlugin() {
        Path plugins = pluginsWithTemplate();
        Path png = dir.resolve("rescaled.png");
        CliRun made = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt",
                "a red circle at the top left", "--steps", "4", "--seed", "13", "--guidance", "7.5", "--param",
                "guidance_rescale=0.7", "--out", png.toString(), "--plugins", plugins.toString());
        assertThat(made.code()).as(made.err()).isZero();
        Map<String, String> text = PngImages.readText(png);
        assertThat(text).containsEntry("guidance", "cfg(7.5) > cfg-rescale(0.7)")
                .containsEntry("parameter.guidance_rescale", "0.7");
        assertThat(text.get("plugins")).contains("guidance.cfg-rescale=cfg-rescale@1.0.0");
        assertThat(InfoText.parse(text.get("parameters")))
                .containsEntry("Conditio guidance", "cfg(7.5) > cfg-rescale(0.7)");

        Path plain = dir.resolve("plain.png");
        CliRun cfgOnly = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt",
                "a red circle at the top left", "--steps", "4", "--seed", "13", "--guidance", "7.5", "--out",
                plain.toString(), "--plugins", plugins.toString());
        assertThat(cfgOnly.code()).as(cfgOnly.err()).isZero();
        assertThat(PngImages.readText(plain)).containsEntry("guidance", "cfg(7.5)");
        assertThat(PngImages.readText(plain).get("plugins")).doesNotContain("guidance.");
        assertThat(PngImages.read(png).pixels()).as("the rescale changed the image")
                .isNotEqualTo(PngImages.read(plain).pixels());

        Path again = dir.resolve("again.png");
        CliRun regen = conditio("regenerate", png.toString(), "--out", again.toString(), "--plugins",
                plugins.toString());
        assertThat(regen.code()).as(regen.out() + regen.err()).isZero();
        assertThat(PngImages.read(again).pixels()).containsExactly(PngImages.read(png).pixels());
        assertThat(PngImages.readText(again).get("guidance")).isEqualTo(text.get("guidance"));
    }

    /**
     * CFG, then the template's rescale, then the guidance plugin's linear anneal and 0.2-0.8 interval, written out in
     * one base guidance: {@code by_hand=declared} in the host's declared order, {@code swapped} with the anneal
     * before the rescale.
     */
    private static final String BY_HAND = PluginSources.guidanceProvider("ByHand", "by-hand", """
                public List<ParameterDeclaration> parameters() {
                    return List.of(ParameterDeclaration.builder("by_hand", ParameterType.ENUM)
                            .allowedValues("declared", "swapped").description("the chain by hand").build());
                }

                public Optional<Guidance> create(GenerationRequest request, Model unet) {
                    Object order = request.parameters().get("by_hand");
                    if (order == null) {
                        return Optional.empty();
                    }
                    boolean swapped = order.equals("swapped");
                    float g = (float) request.guidanceScale();
                    return Optional.of(new Guidance() {
                        public List<GuidanceBranch> branches() {
                            return List.of(GuidanceBranch.UNCONDITIONAL, GuidanceBranch.CONDITIONAL);
                        }

                        public FloatTensor expand(FloatTensor latents) {
                            return FloatTensor.concatBatch(latents, latents);
                        }

                        public FloatTensor combine(FloatTensor out, StepContext step) {
                            int n = out.size() / 2;
                            float[] o = out.array();
                            float[] cond = new float[n];
                            float[] x = new float[n];
                            for (int i = 0; i < n; i++) {
                                cond[i] = o[n + i];
                                x[i] = o[i] + g * (o[n + i] - o[i]);
                            }
                            int s = step.schedulerStep();
                            int steps = step.schedulerSteps();
                            double w = 1 - (double) s / (steps - 1);
                            x = swapped ? rescale(anneal(x, cond, w), cond) : anneal(rescale(x, cond), cond, w);
                            double at = (double) s / steps;
                            if (!(at >= 0.2 && at < 0.8)) {
                                x = cond;
                            }
                            int[] shape = out.shape();
                            shape[0] = 1;
                            return FloatTensor.of(x, shape);
                        }

                        public String describe() {
                            return "by-hand(" + order + ")";
                        }
                    });
                }

                static float[] rescale(float[] x, float[] cond) {
                    float phi = 0.7f;
                    float ratio = (float) (std(cond) / std(x));
                    float[] r = new float[x.length];
                    for (int i = 0; i < r.length; i++) {
                        r[i] = phi * (x[i] * ratio) + (1 - phi) * x[i];
                    }
                    return r;
                }

                static float[] anneal(float[] x, float[] cond, double w) {
                    if (w >= 1) {
                        return x;
                    }
                    if (w <= 0) {
                        return cond.clone();
                    }
                    float fw = (float) w;
                    float[] r = new float[x.length];
                    for (int i = 0; i < r.length; i++) {
                        r[i] = cond[i] + fw * (x[i] - cond[i]);
                    }
                    return r;
                }

                static double std(float[] x) {
                    double mean = 0;
                    for (float v : x) {
                        mean += v;
                    }
                    mean /= x.length;
                    double ss = 0;
                    for (float v : x) {
                        ss += (v - mean) * (v - mean);
                    }
                    return Math.sqrt(ss / (x.length - 1));
                }
            """);

    @Test
    void rescaleAnnealAndIntervalTogetherGiveExactlyTheChainComposedByHandInTheDeclaredOrder() {
        Path plugins = pluginsWithTemplate();
        Path byHand = PluginJars.build(dir.resolve("by-hand"), "by-hand", ">=0.2.0 & <1.0.0",
                Map.of("example.ByHand", BY_HAND), List.of("example.ByHand"));
        try (Conditio conditio = Conditio.start(List.of(plugins, byHand));
                Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            GenerationResult composed = pipeline.generate(request().optScheduler("heun").optSteps(5)
                    .optParameter("guidance_rescale", 0.7)
                    .optParameter("guidance_anneal", "linear").optParameter("guidance_interval", List.of(0.2, 0.8))
                    .build());
            assertThat(composed.provenance().get("guidance"))
                    .isEqualTo("cfg(7.5) > cfg-rescale(0.7) > anneal(linear) > interval(0.2, 0.8)");
            assertThat(composed.provenance().get("plugins")).contains("guidance.cfg-rescale=cfg-rescale@1.0.0",
                    "guidance.anneal=guidance@0.1.0", "guidance.interval=guidance@0.1.0");

            GenerationResult declared = pipeline.generate(request().optScheduler("heun").optSteps(5)
                    .optParameter("by_hand", "declared").build());
            assertThat(declared.provenance().get("guidance")).isEqualTo("by-hand(declared)");
            assertThat(composed.latents().array()).containsExactly(declared.latents().array());

            // each layer changes the image, and so does the order
            GenerationResult swapped = pipeline.generate(request().optScheduler("heun").optSteps(5)
                    .optParameter("by_hand", "swapped").build());
            GenerationResult cfg = pipeline.generate(request().optScheduler("heun").optSteps(5).build());
            GenerationResult rescaleOnly = pipeline.generate(request().optScheduler("heun").optSteps(5)
                    .optParameter("guidance_rescale", 0.7).build());
            GenerationResult noInterval = pipeline.generate(request().optScheduler("heun").optSteps(5)
                    .optParameter("guidance_rescale", 0.7).optParameter("guidance_anneal", "linear").build());
            float[] c = composed.latents().array();
            assertThat(c).isNotEqualTo(swapped.latents().array()).isNotEqualTo(cfg.latents().array())
                    .isNotEqualTo(rescaleOnly.latents().array()).isNotEqualTo(noInterval.latents().array());
        }
    }

    @Test
    void modifiersWrapInstructPix2PixsThreeBranchesToo() throws IOException {
        Path plugins = pluginsWithTemplate();
        Path model = TinyFixtures.sdTinyWithUnet(Files.createDirectories(dir.resolve("pix2pix")),
                TinyFixtures.resource("pix2pix-tiny/unet-image.onnx"));
        try (Conditio conditio = Conditio.start(List.of(plugins)); Pipeline pipeline = conditio.open(model)) {
            GenerationRequest.Builder pix2pix = request().optParameter("init_image",
                    PngImages.read(TinyFixtures.array("inpaint_init.png")));
            GenerationResult plain = pipeline.generate(pix2pix.build());
            assertThat(plain.provenance().get("guidance")).isEqualTo("pix2pix(7.5, image 1.5)");
            GenerationResult rescaled = pipeline.generate(pix2pix.optParameter("guidance_rescale", 0.7).build());
            assertThat(rescaled.provenance().get("guidance"))
                    .isEqualTo("pix2pix(7.5, image 1.5) > cfg-rescale(0.7)");
            assertThat(rescaled.provenance().get("plugins")).contains("guidance.pix2pix=concat-conditioning@0.1.0",
                    "guidance.cfg-rescale=cfg-rescale@1.0.0");
            assertThat(rescaled.latents().array()).isNotEqualTo(plain.latents().array());
            // an interval over every step changes nothing; a shorter one leaves the later steps unguided
            GenerationResult everyStep = pipeline.generate(pix2pix.optParameter("guidance_interval",
                    List.of(0.0, 1.0)).build());
            assertThat(everyStep.provenance().get("guidance"))
                    .isEqualTo("pix2pix(7.5, image 1.5) > cfg-rescale(0.7) > interval(0.0, 1.0)");
            assertThat(everyStep.latents().array()).containsExactly(rescaled.latents().array());
            GenerationResult firstHalf = pipeline.generate(pix2pix.optParameter("guidance_interval",
                    List.of(0.0, 0.5)).build());
            assertThat(firstHalf.latents().array()).isNotEqualTo(rescaled.latents().array());
        }
    }

    @Test
    void theComposedGuidanceIsInThePngAndRegenerateReproducesItBitForBit() {
        Path plugins = pluginsWithTemplate();
        Path png = dir.resolve("composed.png");
        CliRun made = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt",
                "a red circle at the top left", "--steps", "6", "--seed", "13", "--guidance", "7.5", "--scheduler",
                "heun", "--param", "guidance_rescale=0.7", "--param", "guidance_anneal=cosine", "--param",
                "guidance_interval=0.2,0.8", "--out", png.toString(), "--plugins", plugins.toString());
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out()).contains("cfg(7.5) > cfg-rescale(0.7) > anneal(cosine) > interval(0.2, 0.8)");
        Map<String, String> text = PngImages.readText(png);
        String chain = "cfg(7.5) > cfg-rescale(0.7) > anneal(cosine) > interval(0.2, 0.8)";
        assertThat(text).containsEntry("guidance", chain).containsEntry("parameter.guidance_anneal", "cosine")
                .containsEntry("parameter.guidance_interval", "[0.2, 0.8]");
        Map<String, String> info = InfoText.parse(text.get("parameters"));
        assertThat(info).containsEntry("Conditio guidance", chain).containsEntry("Sampler", "Heun");
        assertThat(info.get("Conditio plugins")).contains("guidance.cfg-rescale=cfg-rescale@1.0.0",
                "guidance.anneal=guidance@0.1.0", "guidance.interval=guidance@0.1.0");

        Path again = dir.resolve("again.png");
        CliRun regen = conditio("regenerate", png.toString(), "--out", again.toString(), "--plugins",
                plugins.toString());
        assertThat(regen.code()).as(regen.out() + regen.err()).isZero();
        assertThat(regen.out()).contains("identical pixels");
        assertThat(PngImages.read(again).pixels()).containsExactly(PngImages.read(png).pixels());
        assertThat(PngImages.readText(again).get("parameters")).isEqualTo(text.get("parameters"));

        // without the template's plugin the image cannot be made again, and regenerate says which plugin is missing
        CliRun without = conditio("regenerate", png.toString(), "--out", dir.resolve("x.png").toString(),
                "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(without.code()).isEqualTo(5);
        assertThat(without.err()).contains("plugin cfg-rescale 1.0.0 made the image but is not loaded");
    }

    @Test
    void twoPluginsDefiningTheBaseGuidanceOfOneRequestIsAnErrorNamingBoth() {
        String provider = PluginSources.guidanceProvider("NAME", "ID", """
                    public List<ParameterDeclaration> parameters() {
                        return List.of(ParameterDeclaration.builder("ID", ParameterType.BOOLEAN)
                                .description("use ID").build());
                    }

                    public Optional<Guidance> create(GenerationRequest request, Model unet) {
                        return request.parameters().containsKey("ID")
                                ? Optional.of(new ClassifierFreeGuidance(request.guidanceScale()))
                                : Optional.empty();
                    }
                """);
        Path plugins = withBuiltIns(PluginJars.build(dir.resolve("bases"), "bases", ">=0.2.0 & <1.0.0", Map.of(
                "example.First", provider.replace("NAME", "First").replace("ID", "first_base"),
                "example.Second", provider.replace("NAME", "Second").replace("ID", "second_base")),
                List.of("example.First", "example.Second")));
        List<String> args = new ArrayList<>(List.of("generate", "--model", TinyFixtures.model("sd-tiny").toString(),
                "--prompt", "a red circle", "--steps", "2", "--seed", "1", "--out", dir.resolve("x.png").toString(),
                "--plugins", plugins.toString()));
        CliRun one = conditio(Stream.concat(args.stream(), Stream.of("--param", "first_base=true"))
                .toArray(String[]::new));
        assertThat(one.code()).as(one.err()).isZero();
        CliRun both = conditio(Stream.concat(args.stream(), Stream.of("--param", "first_base=true", "--param",
                "second_base=true")).toArray(String[]::new));
        assertThat(both.code()).isEqualTo(1);
        assertThat(both.err()).contains("two guidance providers both define the base guidance of this request: "
                + "first_base (bases@1.0.0) and second_base (bases@1.0.0)").doesNotContain("\tat ");
    }

    /** What a hook saw of one model call. */
    private record Call(int index, int step, int subStep, int steps, float timestep) {
        static Call of(StepContext s) {
            return new Call(s.stepIndex(), s.schedulerStep(), s.subStep(), s.schedulerSteps(), s.timestep());
        }
    }

    @Test
    void aHeunGenerationsStepContextsSayWhichSchedulerStepAndSubStepEachModelCallIs() {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
                Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            List<Call> heun = new ArrayList<>();
            List<Call> after = new ArrayList<>();
            GenerationResult r = pipeline.generate(request().optScheduler("heun")
                    .optBeforeStep(s -> heun.add(Call.of(s))).optAfterStep(s -> after.add(Call.of(s))).build());
            assertThat(r.timings().modelCalls()).isEqualTo(7);
            assertThat(heun).extracting(Call::index).containsExactly(0, 1, 2, 3, 4, 5, 6);
            assertThat(heun).extracting(Call::step).containsExactly(0, 0, 1, 1, 2, 2, 3);
            assertThat(heun).extracting(Call::subStep).containsExactly(0, 1, 0, 1, 0, 1, 0);
            assertThat(heun).extracting(Call::steps).containsOnly(4);
            // the corrector of step 0 and the predictor of step 1 run at one timestep: only the step tells them apart
            assertThat(heun.get(1).timestep()).isEqualTo(heun.get(2).timestep());
            assertThat(after).isEqualTo(heun);

            List<Call> euler = new ArrayList<>();
            pipeline.generate(request().optScheduler("euler").optBeforeStep(s -> euler.add(Call.of(s))).build());
            assertThat(euler).extracting(Call::step).containsExactly(0, 1, 2, 3);
            assertThat(euler).extracting(Call::subStep).containsOnly(0);

            // img2img at strength 0.5 starts at the scheduler's step 2 of 4: counted from 0 in this run
            List<Call> img2img = new ArrayList<>();
            pipeline.generate(request().optScheduler("heun").optParameter("init_image",
                    PngImages.read(ShapesModelTest.modelDir().getParent().getParent()
                            .resolve("docs/examples/inpaint-init.png")))
                    .optParameter("strength", 0.5).optBeforeStep(s -> img2img.add(Call.of(s))).build());
            assertThat(img2img).extracting(Call::step).containsExactly(0, 0, 1);
            assertThat(img2img).extracting(Call::subStep).containsExactly(0, 1, 0);
            assertThat(img2img).extracting(Call::steps).containsOnly(2);
        }
    }
}
