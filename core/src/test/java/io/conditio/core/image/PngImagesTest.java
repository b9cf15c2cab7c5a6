package io.conditio.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
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

    @Test
    void aCompressedTextChunkThatInflatesPastTheLimitIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream zipped = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(zipped, new Deflater(9))) {
            z.write(new byte[(int) PngImages.MAX_INFLATED_TEXT + 1]);
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write("k\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        body.write(zipped.toByteArray());
        Path file = Files.write(dir.resolve("bomb.png"), png(chunk("zTXt", body.toByteArray()), chunk("IEND", new byte[0])));

        assertThatThrownBy(() -> PngImages.readText(file)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining(file.toAbsolutePath().toString()).hasMessageContaining("inflate to more than");
    }

    @Test
    void aTruncatedOrCorruptChunkIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path negative = Files.write(dir.resolve("neg.png"), png(new byte[] {-1, -1, -1, -1, 't', 'E', 'X', 't'}));
        Path truncated = Files.write(dir.resolve("cut.png"), png(new byte[] {0, 0, 0, 100, 't', 'E', 'X', 't', 'k'}));
        Path corrupt = Files.write(dir.resolve("bad.png"), png(chunk("zTXt", new byte[] {'k', 0, 0, 1, 2, 3})));

        assertThatThrownBy(() -> PngImages.readText(negative)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("neg.png").hasMessageContaining("corrupt chunk header");
        assertThatThrownBy(() -> PngImages.readText(truncated)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("cut.png").hasMessageContaining("tEXt chunk is truncated (100 bytes announced, 1");
        assertThatThrownBy(() -> PngImages.readText(corrupt)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("bad.png").hasMessageContaining("corrupt compressed text chunk");
    }

    private static byte[] png(byte[]... chunks) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        for (byte[] c : chunks) {
            out.write(c);
        }
        return out.toByteArray();
    }

    private static byte[] chunk(String type, byte[] data) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        return out.toByteArray();
    }
}
