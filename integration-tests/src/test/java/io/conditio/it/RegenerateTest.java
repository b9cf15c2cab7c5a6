package io.conditio.it;

import static io.conditio.it.CliRun.conditio;
import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.core.image.PngImages;
import io.conditio.core.recipe.InfoText;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Reproducible PNGs through the conditio command: every PNG carries A1111's {@code parameters} text and a recipe,
 * and {@code conditio regenerate} makes the same pixels again for every conditioning family, or refuses, saying
 * what differs, when the model folder or a plugin changed.
 */
class RegenerateTest {
    @TempDir
    Path dir;

    private static Path shapes() {
        return ShapesModelTest.modelDir();
    }

    private static String example(String name) {
        return shapes().getParent().getParent().resolve("docs/examples").resolve(name).toString();
    }

    static Stream<Arguments> families() {
        String m = shapes().toString();
        return Stream.of(
                Arguments.of("text", List.of("--prompt", "a red circle at the top left")),
                Arguments.of("img2img", List.of("--prompt", "a blue square", "--init-image",
                        example("inpaint-init.png"), "--strength", "0.6")),
                Arguments.of("inpaint UNet", List.of("--prompt", "a large green square at the bottom right",
                        "--init-image", example("inpaint-init.png"), "--mask", example("inpaint-mask-bottom-right.png"),
                        "--no-mask-blend")),
                Arguments.of("inpaint blend", List.of("--prompt", "a large green square at the bottom right",
                        "--init-image", example("inpaint-init.png"), "--mask", example("inpaint-mask-bottom-right.png"),
                        "--mask-blend")),
                Arguments.of("ControlNet", List.of("--prompt", "a large blue triangle", "--controlnet",
                        m + "/controlnet", "--control-image", example("control-triangle-bottom-right.png"),
                        "--control-scale", "0.9")),
                Arguments.of("ControlNet with a preprocessor", List.of("--prompt", "a blue square", "--controlnet",
                        m + "/controlnet", "--control-image", example("sketch-square-41-24.png"),
                        "--control-preprocess", "scribble")),
                Arguments.of("T2I-Adapter", List.of("--prompt", "a red circle", "--t2i-adapter", m + "/t2i-adapter",
                        "--adapter-image", example("sketch-circle-22-40.png"))),
                Arguments.of("class label", List.of("--prompt", "a yellow cross", "--class-label", "3",
                        "--scheduler", "ddim")),
                Arguments.of("LoRA", List.of("--prompt", "a red circle", "--lora",
                        TinyFixtures.resource("lora-shapes/unet-kohya.safetensors") + ":0.8", "--lora",
                        TinyFixtures.resource("lora-shapes/te-kohya.safetensors").toString())),
                Arguments.of("embedding from the model folder", List.of("--prompt", "a large sun at the top left")),
                Arguments.of("embedding file", List.of("--prompt", "a large mysun at the bottom right", "--embedding",
                        m + "/embeddings/sun.safetensors:mysun")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void regenerateGivesIdenticalPixelsForEveryConditioningFamily(String family, List<String> flags) {
        makeAndRegenerate(shapes(), "shapes", flags);
    }

    @Test
    void regenerateGivesIdenticalPixelsForInstructPix2Pix() throws IOException {
        Path model = TinyFixtures.sdTinyWithUnet(Files.createDirectories(dir.resolve("pix2pix")),
                TinyFixtures.resource("pix2pix-tiny/unet-image.onnx"));
        makeAndRegenerate(model, "pix2pix", List.of("--prompt", "a red circle", "--init-image",
                TinyFixtures.array("inpaint_init.png").toString(), "--image-guidance", "1.5"));
    }

    private void makeAndRegenerate(Path model, String modelName, List<String> flags) {
        Path png = dir.resolve("made.png");
        List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--steps", "4",
                "--seed", "13", "--out", png.toString(), "--plugins", TinyFixtures.pluginDir().toString()));
        args.addAll(flags);
        CliRun made = conditio(args.toArray(String[]::new));
        assertThat(made.code()).as(made.err()).isZero();

        Map<String, String> text = PngImages.readText(png);
        Map<String, String> info = InfoText.parse(text.get("parameters"));
        assertThat(info).containsEntry("Steps", "4").containsEntry("Seed", "13").containsEntry("Size", "64x64")
                .containsEntry("Model", modelName).containsKey("Sampler").containsKey("CFG scale");
        assertThat(info.get("Model hash")).hasSize(10);
        assertThat(text.get("model_hash")).startsWith(info.get("Model hash"));

        Path again = dir.resolve("again.png");
        CliRun regen = conditio("regenerate", png.toString(), "--out", again.toString(), "--plugins",
                TinyFixtures.pluginDir().toString());
        assertThat(regen.code()).as(regen.out() + regen.err()).isZero();
        assertThat(regen.out()).contains("identical pixels");
        assertThat(PngImages.read(again).pixels()).containsExactly(PngImages.read(png).pixels());
        assertThat(PngImages.readText(again).get("parameters")).isEqualTo(text.get("parameters"));
    }

    @Test
    void theParametersTextIsWhatA1111Writes() {
        Path png = dir.resolve("a.png");
        CliRun made = conditio("generate", "--model", shapes().toString(), "--prompt", "a red circle, small",
                "--negative-prompt", "blurry", "--steps", "5", "--seed", "42", "--guidance", "6.5", "--scheduler",
                "euler-a", "--out", png.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(made.code()).as(made.err()).isZero();
        String parameters = PngImages.readText(png).get("parameters");
        String[] lines = parameters.split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).isEqualTo("a red circle, small");
        assertThat(lines[1]).isEqualTo("Negative prompt: blurry");
        assertThat(lines[2]).startsWith("Steps: 5, Sampler: Euler a, Schedule type: Automatic, CFG scale: 6.5, "
                + "Seed: 42, Size: 64x64, Model hash: ").contains(", Model: shapes, ")
                .contains("Conditio scheduler: euler-a").contains("Conditio plugins: \"scheduler=schedulers@");
    }

    @Test
    void aChangedModelFolderIsRefusedNamingTheHashes() throws IOException {
        Path model = copy(TinyFixtures.model("sd-tiny"), dir.resolve("sd-tiny"));
        Path png = dir.resolve("t.png");
        CliRun made = conditio("generate", "--model", model.toString(), "--prompt", "a red circle", "--steps", "2",
                "--seed", "1", "--out", png.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(made.code()).as(made.err()).isZero();
        Files.writeString(model.resolve("model_index.json"), Files.readString(model.resolve("model_index.json"))
                + "\n");
        CliRun regen = conditio("regenerate", png.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(regen.code()).isEqualTo(5);
        assertThat(regen.err()).contains("refusing to regenerate").contains("model folder " + model)
                .contains("has changed").containsPattern("its hash is [0-9a-f]{10} but the image was made with "
                        + "[0-9a-f]{10}");
        assertThat(Files.exists(dir.resolve("t-regenerated.png"))).isFalse();
    }

    @Test
    void aChangedPluginVersionIsRefusedNamingThePlugin() throws IOException {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        try (Stream<Path> jars = Files.list(TinyFixtures.pluginDir())) {
            for (Path jar : (Iterable<Path>) jars.filter(p -> p.toString().endsWith(".jar"))::iterator) {
                Files.copy(jar, plugins.resolve(jar.getFileName()));
            }
        }
        Path png = dir.resolve("v.png");
        CliRun made = conditio("generate", "--model", TinyFixtures.model("sd-tiny").toString(), "--prompt", "a red circle",
                "--steps", "2", "--seed", "1", "--out", png.toString(), "--plugins", plugins.toString());
        assertThat(made.code()).as(made.err()).isZero();
        Path text = plugins.resolve("conditio-plugin-text-conditioning-0.1.0.jar");
        Path newer = plugins.resolve("text-newer.jar");
        withVersion(text, newer, "0.1.1");
        Files.delete(text);
        CliRun regen = conditio("regenerate", png.toString(), "--plugins", plugins.toString());
        assertThat(regen.code()).isEqualTo(5);
        assertThat(regen.err()).contains("plugin text-conditioning is 0.1.1 but the image was made with 0.1.0");
    }

    @Test
    void aPngWithoutARecipeIsRefusedInWords() throws IOException {
        Path png = dir.resolve("plain.png");
        PngImages.write(png, new io.conditio.api.RgbImage(1, 1, new float[3]), Map.of());
        CliRun regen = conditio("regenerate", png.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(regen.code()).isEqualTo(1);
        assertThat(regen.err()).contains("cannot be regenerated").contains("conditio.recipe");
    }

    private static void withVersion(Path from, Path to, String version) throws IOException {
        try (InputStream in = Files.newInputStream(from); JarInputStream src = new JarInputStream(in)) {
            Manifest mf = new Manifest(src.getManifest());
            mf.getMainAttributes().put(new Attributes.Name("Plugin-Version"), version);
            try (OutputStream out = Files.newOutputStream(to); JarOutputStream dst = new JarOutputStream(out, mf)) {
                for (JarEntry e = src.getNextJarEntry(); e != null; e = src.getNextJarEntry()) {
                    dst.putNextEntry(new JarEntry(e.getName()));
                    src.transferTo(dst);
                    dst.closeEntry();
                }
            }
        }
    }

    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return to;
    }
}
