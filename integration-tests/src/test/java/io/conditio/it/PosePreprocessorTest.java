package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.ControlPreprocessor;
import io.conditio.api.Model;
import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;
import io.conditio.cli.ConditioCli;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.onnx.OnnxModel;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DWPose preprocessor from the built preprocessors plugin jar, with stand-in models of the published pair's
 * inputs and outputs (tools/preprocessor-standins): its skeleton drawing, and the same control image reaching the
 * shipped ControlNet through {@code --control-preprocess}.
 */
@ExtendWith(ConditioExtension.class)
class PosePreprocessorTest {
    @Fixture
    private static Conditio conditio;
    private static final List<OnnxModel> OPENED = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterAll
    static void closeTheStandins() {
        OPENED.forEach(OnnxModel::close);
    }

    static Path standin(String file) {
        return TinyFixtures.directoryProperty("conditio.preprocessorStandins", "preprocessor stand-ins").resolve(file);
    }

    private static ControlPreprocessor named(String name) {
        return conditio.plugins().extensions(ControlPreprocessor.class).stream().filter(p -> p.name().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no preprocessor " + name));
    }

    private static PreprocessorContext standins() {
        List<Path> files = List.of(standin("yolox-standin.onnx"), standin("rtmpose-standin.onnx"));
        return new PreprocessorContext() {
            @Override
            public List<Path> models() {
                return files;
            }

            @Override
            public Model loadModel(Path file) {
                OnnxModel m = OnnxModel.open(file.getFileName().toString(), file);
                OPENED.add(m);
                return m;
            }
        };
    }

    /** Black, with a white "person" box. */
    static RgbImage person(int w, int h, int x0, int y0, int x1, int y1) {
        float[] px = new float[w * h * 3];
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                for (int c = 0; c < 3; c++) {
                    px[(y * w + x) * 3 + c] = 1f;
                }
            }
        }
        return new RgbImage(w, h, px);
    }

    private static int[] rgb(RgbImage image, int x, int y) {
        return new int[] {Math.round(image.get(x, y, 0) * 255), Math.round(image.get(x, y, 1) * 255),
                Math.round(image.get(x, y, 2) * 255)};
    }

    @Test
    void dwposeAndOpenposeComeFromThePreprocessorsPlugin() {
        for (String name : List.of("dwpose", "openpose")) {
            ControlPreprocessor p = named(name);
            assertThat(conditio.plugins().origin(p)).startsWith("preprocessors@");
            assertThat(p.getClass().getClassLoader()).isNotSameAs(getClass().getClassLoader());
        }
    }

    @Test
    void thePluginDrawsTheOpenPoseSkeletonOfTheDetectedPerson() {
        // the stand-ins put the person box at the white pixels and the key points at fixed crop positions: here
        // crop (u, v) -> image (u * 0.625 + 6, v * 0.625 + 8); neck (96, 70.5), shoulders at x 67.25 and 124.75
        RgbImage out = named("dwpose").process(person(192, 256, 48, 32, 144, 224), standins());
        assertThat(rgb(out, 81, 70)).as("neck - right shoulder").containsExactly(153, 0, 0);
        assertThat(rgb(out, 110, 70)).as("neck - left shoulder").containsExactly(153, 51, 0);
        assertThat(rgb(out, 96, 70)).as("neck joint").containsExactly(255, 85, 0);
        assertThat(rgb(out, 54, 42)).as("no limb to the lost right ear").containsExactly(0, 0, 0);
        assertThat(rgb(out, 103, 44)).as("a face point").containsExactly(255, 255, 255);
    }

    @Test
    void conditioPreprocessWritesTheSkeletonTheControlNetWouldGet() {
        Path photo = dir.resolve("photo.png");
        RgbImage image = person(192, 256, 48, 32, 144, 224);
        PngImages.write(photo, image, Map.of());
        Path pose = dir.resolve("pose.png");
        String out = run("preprocess", "dwpose", "--image", photo.toString(), "--out", pose.toString(),
                "--preprocess-model", standin("yolox-standin.onnx").toString(), "--preprocess-model",
                standin("rtmpose-standin.onnx").toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(out).contains("wrote " + pose).contains("192x256");
        assertThat(PngImages.read(pose).pixels()).containsExactly(named("dwpose").process(image, standins()).pixels());

        StringWriter err = new StringWriter();
        int code = ConditioCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "preprocess", "hed",
                "--image", photo.toString(), "--out", dir.resolve("x.png").toString(), "--plugins",
                TinyFixtures.pluginDir().toString());
        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("unknown --control-preprocess 'hed'").contains("dwpose")
                .contains("openpose").contains("canny");
        StringWriter err2 = new StringWriter();
        int noModels = ConditioCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err2), "preprocess",
                "openpose", "--image", photo.toString(), "--out", dir.resolve("y.png").toString(), "--plugins",
                TinyFixtures.pluginDir().toString());
        assertThat(noModels).isEqualTo(1);
        assertThat(err2.toString()).contains("dw-ll_ucoco_384.onnx").doesNotContain("\tat ");
    }

    @Test
    void conditioPreprocessDepthRunsTheGivenModelFromThePluginJar() {
        // a grey ramp left to right; the depth stand-in's "depth" is the channel mean, so the map is the ramp
        // rescaled to [0, 1]
        int w = 48;
        int h = 32;
        float[] px = new float[w * h * 3];
        for (int i = 0; i < w * h; i++) {
            java.util.Arrays.fill(px, i * 3, i * 3 + 3, 0.2f + 0.6f * (i % w) / (w - 1));
        }
        RgbImage ramp = new RgbImage(w, h, px);
        Path in = dir.resolve("ramp.png");
        PngImages.write(in, ramp, Map.of());
        Path depth = dir.resolve("depth.png");
        run("preprocess", "depth", "--image", in.toString(), "--out", depth.toString(), "--preprocess-model",
                standin("depth-standin.onnx").toString(), "--plugins", TinyFixtures.pluginDir().toString());
        RgbImage out = PngImages.read(depth);
        assertThat(out.width()).isEqualTo(w);
        assertThat(out.get(0, 10, 0)).isZero();
        assertThat(out.get(w - 1, 10, 0)).isEqualTo(1f);
        for (int x = 1; x < w; x++) {
            assertThat(out.get(x, 10, 0)).as("x %d", x).isGreaterThanOrEqualTo(out.get(x - 1, 10, 0));
        }
    }

    private static String run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ConditioCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        assertThat(code).as(err.toString()).isZero();
        return out.toString();
    }

    @Test
    void controlPreprocessOpenposeGivesTheControlNetTheDrawnSkeleton() {
        Path shapes = ShapesModelTest.modelDir();
        Path photo = dir.resolve("photo.png");
        RgbImage image = person(64, 64, 16, 8, 48, 56);
        PngImages.write(photo, image, Map.of());
        Path skeleton = dir.resolve("skeleton.png");
        RgbImage drawn = named("openpose").process(image, standins());
        PngImages.write(skeleton, drawn, Map.of());
        Path viaPreprocessor = dir.resolve("a.png");
        Path viaImage = dir.resolve("b.png");
        List<String> common = List.of("generate", "--model", shapes.toString(), "--prompt", "a red circle",
                "--steps", "3", "--seed", "5", "--controlnet", shapes.resolve("controlnet").toString(),
                "--plugins", TinyFixtures.pluginDir().toString());
        List<String> a = new ArrayList<>(common);
        a.addAll(List.of("--control-image", photo.toString(), "--control-preprocess", "openpose",
                "--preprocess-model", standin("rtmpose-standin.onnx").toString(), "--preprocess-model",
                standin("yolox-standin.onnx").toString(), "--out", viaPreprocessor.toString()));
        run(a.toArray(String[]::new));
        List<String> b = new ArrayList<>(common);
        b.addAll(List.of("--control-image", skeleton.toString(), "--out", viaImage.toString()));
        run(b.toArray(String[]::new));
        assertThat(PngImages.readText(viaPreprocessor)).containsEntry("controlnet.0.preprocess", "openpose");
        assertThat(PngImages.read(viaPreprocessor).pixels()).as("same as the skeleton given as the control image")
                .containsExactly(PngImages.read(viaImage).pixels());
        Path unprocessed = dir.resolve("c.png");
        List<String> c = new ArrayList<>(common);
        c.addAll(List.of("--control-image", photo.toString(), "--out", unprocessed.toString()));
        run(c.toArray(String[]::new));
        assertThat(PngImages.read(viaPreprocessor).pixels()).as("the photo itself gives another image")
                .isNotEqualTo(PngImages.read(unprocessed).pixels());
    }
}
