package io.conditio.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.TextNode;
import io.conditio.api.RgbImage;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The resize modes and names of sd-webui-controlnet units. */
class ControlNetUnitsTest {
    /** 8x4: the left half red, the right half green, with a blue column at x = 0 and x = 7. */
    private static RgbImage wide() {
        float[] px = new float[8 * 4 * 3];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 8; x++) {
                int i = (y * 8 + x) * 3;
                if (x == 0 || x == 7) {
                    px[i + 2] = 1;
                } else if (x < 4) {
                    px[i] = 1;
                } else {
                    px[i + 1] = 1;
                }
            }
        }
        return new RgbImage(8, 4, px);
    }

    @Test
    void cropAndResizeKeepsTheMiddleJustResizeStretchesAndResizeAndFillPadsWithBlack() {
        Map<String, Object> ignored = new LinkedHashMap<>();
        RgbImage crop = ControlNetUnits.fit(wide(), 4, 4, new TextNode("Crop and Resize"), "u", ignored);
        assertThat(crop.width()).isEqualTo(4);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertThat(crop.get(x, y, 2)).as("no blue border column survives the crop").isZero();
            }
        }
        assertThat(crop.get(0, 0, 0)).isEqualTo(1f);
        assertThat(crop.get(3, 0, 1)).isEqualTo(1f);
        RgbImage stretched = ControlNetUnits.fit(wide(), 4, 4, new TextNode("Just Resize"), "u", ignored);
        assertThat(stretched.get(0, 0, 2)).as("the border column is kept when stretching").isGreaterThan(0.4f);
        assertThat(ignored).isEmpty();
        RgbImage filled = ControlNetUnits.fit(wide(), 8, 8, new TextNode("Resize and Fill"), "u", ignored);
        assertThat(filled.get(3, 0, 0) + filled.get(3, 0, 1) + filled.get(3, 0, 2)).as("top band black").isZero();
        assertThat(filled.get(2, 3, 0)).isEqualTo(1f);
        assertThat(ignored).containsKey("u.resize_mode");
        assertThatThrownBy(() -> ControlNetUnits.fit(wide(), 4, 4, new TextNode("Stretch"), "u", ignored))
                .isInstanceOf(ApiError.class).hasMessageContaining("u.resize_mode");
    }

    @Test
    void extensionPreprocessorNamesMapOntoTheLoadedOnes() {
        Map<String, Object> mapped = new LinkedHashMap<>();
        Set<String> loaded = Set.of("none", "canny", "softedge", "depth");
        assertThat(ControlNetUnits.preprocessor("Canny", loaded, "u", mapped)).isEqualTo("canny");
        assertThat(ControlNetUnits.preprocessor("softedge_pidinet", loaded, "u", mapped)).isEqualTo("softedge");
        assertThat(mapped).containsKey("u.module");
        assertThatThrownBy(() -> ControlNetUnits.preprocessor("lineart_realistic", loaded, "u", mapped))
                .isInstanceOf(ApiError.class).hasMessageContaining("available: none, canny, hed, pidinet");
        assertThatThrownBy(() -> ControlNetUnits.preprocessor("depth_midas", loaded, "u", mapped))
                .hasMessageContaining("depth map");
        assertThat(ControlNetUnits.moduleList(loaded)).startsWith("none").contains("softedge_hed")
                .doesNotContain("depth", "lineart");
    }
}
