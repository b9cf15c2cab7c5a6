package io.conditio.plugins.preprocessors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;
import io.conditio.core.onnx.OnnxModel;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The non-neural preprocessors on drawn inputs, and depth with a stand-in ONNX model of a DPT export's I/O. */
class PreprocessorsTest {
    private static final PreprocessorContext NO_MODELS = context(List.of(), null);

    static PreprocessorContext context(List<Path> models, Model model) {
        return new PreprocessorContext() {
            @Override
            public List<Path> models() {
                return models;
            }

            @Override
            public Model loadModel(Path modelFile) {
                return model;
            }
        };
    }

    /** A light image with a dark vertical bar at x in [10, 13). */
    static RgbImage bar(int w, int h) {
        float[] px = new float[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float v = x >= 10 && x < 13 ? 0.1f : 0.9f;
                for (int c = 0; c < 3; c++) {
                    px[(y * w + x) * 3 + c] = v;
                }
            }
        }
        return new RgbImage(w, h, px);
    }

    @Test
    void scribbleGivesThickenedWhiteStrokesOnBlack() {
        RgbImage out = new Scribble().process(bar(32, 32), NO_MODELS);
        assertThat(out.get(11, 16, 0)).isEqualTo(1f);
        assertThat(out.get(9, 16, 0)).as("one pixel of thickening").isEqualTo(1f);
        assertThat(out.get(13, 16, 0)).isEqualTo(1f);
        assertThat(out.get(8, 16, 0)).isEqualTo(0f);
        assertThat(out.get(25, 5, 0)).isEqualTo(0f);
    }

    @Test
    void lineartMakesTheDarkBarAWhiteLine() {
        RgbImage out = new Lineart().process(bar(32, 32), NO_MODELS);
        assertThat(out.get(11, 16, 0)).isGreaterThan(0.8f);
        assertThat(out.get(25, 16, 0)).isEqualTo(0f);
        assertThat(out.get(11, 16, 1)).isEqualTo(out.get(11, 16, 0));
    }

    @Test
    void softEdgesAreBrightAtTheBarsSidesAndBlackInFlatAreas() {
        RgbImage out = new SoftEdge().process(bar(32, 32), NO_MODELS);
        assertThat(out.get(9, 16, 0)).isGreaterThan(0.5f);
        assertThat(out.get(28, 16, 0)).isLessThan(0.01f);
        float max = 0;
        for (float v : out.pixels()) {
            max = Math.max(max, v);
        }
        assertThat(max).isEqualTo(1f);
    }

    @Test
    void segmentationMapsLabelsToTheAde20kColours() {
        float[] px = new float[2 * 1 * 3];
        px[3] = px[4] = px[5] = 2 / 255f;
        RgbImage out = new Segmentation().process(new RgbImage(2, 1, px), NO_MODELS);
        assertThat(out.get(0, 0, 0) * 255).isCloseTo(120f, org.assertj.core.data.Offset.offset(1e-3f));
        assertThat(out.get(1, 0, 0) * 255).isCloseTo(6f, org.assertj.core.data.Offset.offset(1e-3f));
        assertThat(out.get(1, 0, 1) * 255).isCloseTo(230f, org.assertj.core.data.Offset.offset(1e-3f));
        float[] high = new float[3];
        high[0] = high[1] = high[2] = 200 / 255f;
        assertThatThrownBy(() -> new Segmentation().process(new RgbImage(1, 1, high), NO_MODELS))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("label 200");
    }

    @Test
    void depthRunsTheGivenOnnxModelAndScalesItsOutputToZeroOne() throws URISyntaxException {
        Path file = Path.of(getClass().getResource("/depth-standin.onnx").toURI());
        try (OnnxModel model = OnnxModel.open("depth", file)) {
            // a horizontal ramp: the stand-in's "depth" is the channel mean, so the output is the ramp rescaled
            float[] px = new float[32 * 32 * 3];
            for (int i = 0; i < 32 * 32; i++) {
                float v = 0.2f + 0.5f * (i % 32) / 31f;
                px[i * 3] = v;
                px[i * 3 + 1] = v;
                px[i * 3 + 2] = v;
            }
            RgbImage out = new Depth().process(new RgbImage(32, 32, px), context(List.of(file), model));
            assertThat(out.get(0, 5, 0)).isEqualTo(0f);
            assertThat(out.get(31, 5, 0)).isEqualTo(1f);
            assertThat(out.get(15, 5, 0)).isCloseTo(15 / 31f, org.assertj.core.data.Offset.offset(1e-4f));
            assertThat(out.get(15, 5, 2)).isEqualTo(out.get(15, 5, 0));
        }
        assertThatThrownBy(() -> new Depth().process(bar(32, 32), NO_MODELS))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("--preprocess-model");
    }
}
