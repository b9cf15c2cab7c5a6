package io.conditio.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngImagesTest {

    @Test
    void writtenPixelsAndTextReadBack(@TempDir Path dir) {
        float[] px = new float[4 * 2 * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = i / (float) (px.length - 1);
        }
        RgbImage image = new RgbImage(4, 2, px);
        Map<String, String> text = new LinkedHashMap<>();
        text.put("prompt", "naïve résumé — ☃");
        text.put("seed", "42");
        Path file = dir.resolve("a/b/out.png");

        PngImages.write(file, image, text);

        assertThat(PngImages.readText(file)).containsExactlyEntriesOf(text);
        RgbImage back = PngImages.read(file);
        assertThat(back.width()).isEqualTo(4);
        assertThat(back.height()).isEqualTo(2);
        for (int i = 0; i < px.length; i++) {
            assertThat(back.pixels()[i] * 255f).isCloseTo(Math.round(px[i] * 255f), org.assertj.core.data.Offset.offset(1e-3f));
        }
    }

    @Test
    void eightBitConversionRoundsLikeNumpy() {
        RgbImage image = new RgbImage(1, 1, new float[] {0f, 0.5f, 1.2f});
        assertThat(image.toRgbBytes()).containsExactly(0, (byte) 128, (byte) 255);
    }

    @Test
    void aMissingImageIsNamed(@TempDir Path dir) {
        assertThatThrownBy(() -> PngImages.read(dir.resolve("none.png")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("none.png");
    }
}
