package io.conditio.plugins.preprocessors;

import static io.conditio.plugins.preprocessors.PoseDrawingTest.rgb;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;
import io.conditio.core.onnx.OnnxModel;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * DWPose's two stages with stand-in models of the published pair's inputs and outputs
 * (tools/preprocessor-standins/make_standins.py): the detector stand-in boxes the bright pixels and adds a duplicate,
 * a non-person and a low-score candidate; the key-point stand-in puts each of the 133 points at a fixed crop position,
 * found only where the crop is bright.
 */
class DwPoseTest {
    /** 192 x 256, black, a white "person" at x in [48, 144), y in [32, 224). */
    static RgbImage person() {
        int w = 192;
        int h = 256;
        float[] px = new float[w * h * 3];
        for (int y = 32; y < 224; y++) {
            for (int x = 48; x < 144; x++) {
                for (int c = 0; c < 3; c++) {
                    px[(y * w + x) * 3 + c] = 1f;
                }
            }
        }
        return new RgbImage(w, h, px);
    }

    private final Map<Path, OnnxModel> opened = new HashMap<>();

    @AfterEach
    void close() {
        opened.values().forEach(OnnxModel::close);
    }

    static Path standin(String file) {
        try {
            return Path.of(DwPoseTest.class.getResource("/" + file).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private PreprocessorContext context(String... files) {
        List<Path> paths = java.util.Arrays.stream(files).map(DwPoseTest::standin).toList();
        return new PreprocessorContext() {
            @Override
            public List<Path> models() {
                return paths;
            }

            @Override
            public Model loadModel(Path modelFile) {
                return opened.computeIfAbsent(modelFile, f -> OnnxModel.open(f.getFileName().toString(), f));
            }
        };
    }

    @Test
    void theDetectorFindsOnePersonAfterLetterboxingNmsAndTheScoreThreshold() {
        List<DwPose.Person> people = new DwPose().estimate(person(),
                context("yolox-standin.onnx", "rtmpose-standin.onnx"));
        assertThat(people).hasSize(1);
        DwPose.Box b = people.get(0).box();
        assertThat(b.x0()).isCloseTo(48f, within(1e-3f));
        assertThat(b.y0()).isCloseTo(32f, within(1e-3f));
        assertThat(b.x1()).isCloseTo(144f, within(1e-3f));
        assertThat(b.y1()).isCloseTo(224f, within(1e-3f));
        assertThat(b.score()).isCloseTo(0.9f, within(1e-6f));
    }

    @Test
    void keyPointsAreMappedBackThroughTheCropAndDarkOnesAreLost() {
        // box 96 x 192 -> x 1.25 -> widened to 3:4: 180 x 240 around (96, 128); crop pixel (u, v) is image
        // (u * 0.625 + 6, v * 0.625 + 8)
        DwPose.Person p = new DwPose().estimate(person(), context("rtmpose-standin.onnx", "yolox-standin.onnx"))
                .get(0);
        assertThat(p.x()).hasSize(133);
        assertThat(p.x()[0]).as("nose, crop u 144").isCloseTo(96f, within(1e-3f));
        assertThat(p.y()[0]).as("nose, crop v 60").isCloseTo(45.5f, within(1e-3f));
        assertThat(p.x()[6]).as("right shoulder, crop u 98").isCloseTo(67.25f, within(1e-3f));
        assertThat(p.y()[16]).as("right ankle, crop v 330").isCloseTo(214.25f, within(1e-3f));
        assertThat(p.score()[0]).as("white crop pixel, ImageNet-normalised").isCloseTo(
                (float) ((255 - 123.675) / 58.395 + (255 - 116.28) / 57.12 + (255 - 103.53) / 57.375) / 3,
                within(1e-4f));
        assertThat(p.score()[4]).as("right ear, crop u 20: outside the person").isZero();
    }

    @Test
    void theSkeletonIsDrawnAtTheImageSize() {
        RgbImage out = new DwPose().process(person(), context("yolox-standin.onnx", "rtmpose-standin.onnx"));
        assertThat(out.width()).isEqualTo(192);
        assertThat(out.height()).isEqualTo(256);
        // neck (96, 70.5) - right shoulder (67.25, 70.5): limb 0, red at 0.6
        assertThat(rgb(out, 81, 70)).containsExactly(153, 0, 0);
        // neck - left shoulder (124.75, 70.5): limb 1
        assertThat(rgb(out, 110, 70)).containsExactly(153, 51, 0);
        // right shoulder - right elbow (61, 108): limb 2
        assertThat(rgb(out, 64, 89)).containsExactly(153, 102, 0);
        assertThat(rgb(out, 96, 70)).as("neck joint").containsExactly(255, 85, 0);
        // the right ear was lost: no right eye (89.75, 40.5) - right ear limb and no joint at (18.5, 44.25)
        assertThat(rgb(out, 54, 42)).containsExactly(0, 0, 0);
        assertThat(rgb(out, 18, 44)).containsExactly(0, 0, 0);
        assertThat(rgb(out, 133, 141)).as("left-hand wrist point").containsExactly(0, 0, 255);
        assertThat(rgb(out, 103, 44)).as("face point 0").containsExactly(255, 255, 255);
        assertThat(rgb(out, 5, 250)).containsExactly(0, 0, 0);
        RgbImage alias = new OpenPose().process(person(), context("yolox-standin.onnx", "rtmpose-standin.onnx"));
        assertThat(alias.pixels()).containsExactly(out.pixels());
    }

    @Test
    void withoutADetectorTheWholeImageIsOnePerson() {
        List<DwPose.Person> people = new DwPose().estimate(person(), context("rtmpose-standin.onnx"));
        assertThat(people).hasSize(1);
        assertThat(people.get(0).box()).isEqualTo(new DwPose.Box(0, 0, 192, 256, 0f));
        // box 192 x 256 x 1.25 = 240 x 320 (already 3:4): crop (u, v) -> (u * 5/6 - 24, v * 5/6 - 32); the right
        // shoulder (98, 100) -> (57.67, 51.33) is on the person, the right ankle's v 330 -> y 243 below it
        assertThat(people.get(0).x()[6]).isCloseTo(98 * 5 / 6f - 24, within(1e-3f));
        assertThat(people.get(0).y()[6]).isCloseTo(100 * 5 / 6f - 32, within(1e-3f));
        assertThat(people.get(0).score()[16]).isZero();
    }

    @Test
    void theModelFilesAreCheckedAndNamed() {
        DwPose pose = new DwPose();
        assertThatThrownBy(() -> pose.process(person(), context())).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--preprocess-model yolox_l.onnx").hasMessageContaining("dw-ll_ucoco_384.onnx");
        assertThatThrownBy(() -> pose.process(person(), context("yolox-standin.onnx")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("whole-body key-point model");
        assertThatThrownBy(() -> pose.process(person(), context("rtmpose-standin.onnx", "rtmpose-standin.onnx")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("both");
        assertThatThrownBy(() -> pose.process(person(), context("depth-standin.onnx", "rtmpose-standin.onnx")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("person detector")
                .hasMessageContaining("[1, 21, 5 + classes]");
    }

    @Test
    void nmsKeepsTheBestOfOverlappingBoxes() {
        DwPose.Box a = new DwPose.Box(0, 0, 100, 100, 0.9f);
        DwPose.Box b = new DwPose.Box(10, 0, 110, 100, 0.95f);
        DwPose.Box c = new DwPose.Box(200, 0, 300, 100, 0.5f);
        assertThat(DwPose.nms(List.of(a, b, c), 0.45f)).containsExactly(b, c);
        assertThat(DwPose.iou(a, a)).isEqualTo(1.0);
    }
}
