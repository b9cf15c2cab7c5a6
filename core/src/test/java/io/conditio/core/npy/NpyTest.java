package io.conditio.core.npy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.ModelLoadException;
import io.conditio.core.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    @TempDir
    Path tmp;

    @Test
    void roundTripsFourDimensions() {
        float[] data = new float[1 * 4 * 8 * 8];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) Math.sin(i * 0.37) * (i - 100);
        }
        data[3] = Float.NaN;
        data[4] = Float.NEGATIVE_INFINITY;
        data[5] = -0.0f;
        data[6] = Float.MIN_VALUE;
        Path f = tmp.resolve("t.npy");
        Npy.write(f, FloatTensor.of(data, 1, 4, 8, 8));
        FloatTensor back = Npy.readFloat(f);
        assertThat(back.shape()).containsExactly(1, 4, 8, 8);
        for (int i = 0; i < data.length; i++) {
            assertThat(Float.floatToRawIntBits(back.get(i))).as("element %d", i)
                    .isEqualTo(Float.floatToRawIntBits(data[i]));
        }
    }

    @Test
    void roundTripsVectorAndScalar() {
        Path v = tmp.resolve("v.npy");
        Npy.write(v, FloatTensor.of(new float[] {1, 2, 3, 4, 5}, 5));
        FloatTensor back = Npy.readFloat(v);
        assertThat(back.shape()).containsExactly(5);
        assertThat(back.array()).containsExactly(1, 2, 3, 4, 5);

        Path s = tmp.resolve("s.npy");
        Npy.write(s, FloatTensor.scalar(2.5f));
        FloatTensor sb = Npy.readFloat(s);
        assertThat(sb.rank()).isZero();
        assertThat(sb.array()).containsExactly(2.5f);

        Path e = tmp.resolve("e.npy");
        Npy.write(e, FloatTensor.zeros(2, 0, 3));
        assertThat(Npy.readFloat(e).shape()).containsExactly(2, 0, 3);
    }

    @Test
    void writesNumpyHeader() throws Exception {
        Path f = tmp.resolve("h.npy");
        Npy.write(f, FloatTensor.zeros(1, 4, 8, 8));
        byte[] bytes = Files.readAllBytes(f);
        assertThat(bytes[0]).isEqualTo((byte) 0x93);
        assertThat(new String(bytes, 1, 5, StandardCharsets.US_ASCII)).isEqualTo("NUMPY");
        assertThat(bytes[6]).isEqualTo((byte) 1);
        assertThat(bytes[7]).isEqualTo((byte) 0);
        int headerLen = ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        assertThat((10 + headerLen) % 64).isZero();
        String header = new String(bytes, 10, headerLen, StandardCharsets.ISO_8859_1);
        assertThat(header).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 8, 8), }")
                .endsWith("\n");
        assertThat(header.strip()).isEqualTo("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 8, 8), }");
        assertThat(bytes.length).isEqualTo(10 + headerLen + 256 * 4);

        Npy.write(f, FloatTensor.zeros(5));
        bytes = Files.readAllBytes(f);
        headerLen = ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        assertThat(new String(bytes, 10, headerLen, StandardCharsets.ISO_8859_1))
                .contains("'shape': (5,), }");
        assertThat((10 + headerLen) % 64).isZero();
    }

    @Test
    void readsRealFixture() {
        FloatTensor t = Npy.readFloat(Fixtures.resource("npy/t2i_00_DDIMScheduler_latents.npy"));
        assertThat(t.shape()).containsExactly(1, 4, 8, 8);
        assertThat(t.absMax()).isEqualTo(22.806318283081055f);
    }

    @Test
    void readsVersion2AndFloat64() throws Exception {
        Path f = tmp.resolve("v2.npy");
        double[] values = {0.1, -2.5, 1e-50, 3.0};
        Files.write(f, npyFile(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", values, 8));
        FloatTensor t = Npy.readFloat(f);
        assertThat(t.shape()).containsExactly(2, 2);
        assertThat(t.array()).containsExactly(0.1f, -2.5f, 0f, 3.0f);
    }

    @Test
    void rejectsOtherDtypes() throws Exception {
        Path f = tmp.resolve("i8.npy");
        Files.write(f, npyFile(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", new double[2], 8));
        assertThatThrownBy(() -> Npy.readFloat(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("'<i8'");

        Path be = tmp.resolve("be.npy");
        Files.write(be, npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new double[2], 4));
        assertThatThrownBy(() -> Npy.readFloat(be))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(be.toString())
                .hasMessageContaining("'>f4'");
    }

    @Test
    void rejectsFortranOrder() throws Exception {
        Path f = tmp.resolve("fortran.npy");
        Files.write(f, npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new double[4], 4));
        assertThatThrownBy(() -> Npy.readFloat(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("Fortran")
                .hasMessageContaining("'<f4'");
    }

    @Test
    void rejectsTruncatedAndForeignFiles() throws Exception {
        Path f = tmp.resolve("short.npy");
        Files.write(f, npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new double[2], 4));
        assertThatThrownBy(() -> Npy.readFloat(f))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("truncated");

        Path g = tmp.resolve("garbage.npy");
        Files.writeString(g, "this is not numpy");
        assertThatThrownBy(() -> Npy.readFloat(g))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(g.toString());

        Path missing = tmp.resolve("missing.npy");
        assertThatThrownBy(() -> Npy.readFloat(missing))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(missing.toString());
    }

    /** Builds a file by hand; {@code width} 4 writes floats, 8 writes doubles. */
    private static byte[] npyFile(int major, String dict, double[] values, int width) {
        int prefix = major == 1 ? 10 : 12;
        int pad = (64 - (prefix + dict.length() + 1) % 64) % 64;
        byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(prefix + header.length + values.length * width)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        if (major == 1) {
            b.putShort((short) header.length);
        } else {
            b.putInt(header.length);
        }
        b.put(header);
        for (double v : values) {
            if (width == 4) {
                b.putFloat((float) v);
            } else {
                b.putDouble(v);
            }
        }
        return b.array();
    }
}
