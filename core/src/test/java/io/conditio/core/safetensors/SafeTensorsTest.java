package io.conditio.core.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir
    Path tmp;

    /** A safetensors file: the header's length, the header, then the data. */
    private Path file(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = tmp.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    @Test
    void readsF32F16AndBf16AsFloatInHeaderOrderWithoutMetadata() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1.5f).putFloat(-2f);                     // F32 [2]
        data.putShort((short) 0x3c00).putShort((short) 0xc000); // F16 [1, 2]: 1, -2
        data.putShort((short) 0x4049);                          // BF16 [1]: 3.140625
        Path f = file("t.safetensors", "{\"z\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[8,12]},"
                + "\"m\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[12,14]}}", data.array());

        Map<String, FloatTensor> t = SafeTensors.read(f);

        assertThat(t.keySet()).containsExactly("z", "a", "m");
        assertThat(t.get("z").shape()).containsExactly(2);
        assertThat(t.get("z").array()).containsExactly(1.5f, -2f);
        assertThat(t.get("a").shape()).containsExactly(1, 2);
        assertThat(t.get("a").array()).containsExactly(1f, -2f);
        assertThat(t.get("m").array()).containsExactly(3.140625f);
    }

    @Test
    void refusesPickledFilesByNameWithoutReadingThem() {
        for (String name : new String[] {"a.pt", "b.ckpt", "c.PTH", "d.bin"}) {
            Path f = tmp.resolve(name);  // not even there
            assertThatThrownBy(() -> SafeTensors.read(f)).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining(f.toString()).hasMessageContaining("is a pickled PyTorch file");
        }
    }

    @Test
    void refusesAPickleOrZipUnderASafetensorsName() throws IOException {
        Path pickle = tmp.resolve("p.safetensors");
        Files.write(pickle, new byte[] {(byte) 0x80, 2, 'c', 'x', 0, 0, 0, 0, 'q', 0});
        Path zip = tmp.resolve("z.safetensors");
        Files.write(zip, new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0});
        for (Path f : new Path[] {pickle, zip}) {
            assertThatThrownBy(() -> SafeTensors.read(f)).isInstanceOf(InvalidRequestException.class)
                    .hasMessage(f + " looks like a pickle or zip archive, not safetensors;"
                            + " only .safetensors files are read");
        }
    }

    @Test
    void namesTheFileAndTheProblemOfMalformedFiles() throws IOException {
        Path missing = tmp.resolve("missing.safetensors");
        assertThatThrownBy(() -> SafeTensors.read(missing))
                .hasMessage("weight file not found: " + missing.toAbsolutePath());

        Path shortHeader = tmp.resolve("short.safetensors");
        Files.write(shortHeader, new byte[] {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertThatThrownBy(() -> SafeTensors.read(shortHeader))
                .hasMessage(shortHeader + " is not a safetensors file (header length 100 of a 10-byte file)");

        Path array = file("array.safetensors", "[1]", new byte[0]);
        assertThatThrownBy(() -> SafeTensors.read(array))
                .hasMessage(array + ": safetensors header is not a JSON object");

        Path dtype = file("dtype.safetensors", "{\"x\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                new byte[8]);
        assertThatThrownBy(() -> SafeTensors.read(dtype))
                .hasMessage(dtype + ": tensor x is I64; expected F32, F16 or BF16");

        Path offsets = file("offsets.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                new byte[8]);
        assertThatThrownBy(() -> SafeTensors.read(offsets)).isInstanceOf(InvalidRequestException.class)
                .hasMessage(offsets + ": tensor x has data_offsets [0,4] that do not fit its F32 shape [2] or the"
                        + " file");

        Path noShape = file("noshape.safetensors", "{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]);
        assertThatThrownBy(() -> SafeTensors.read(noShape))
                .hasMessage(noShape + ": tensor x lacks shape or data_offsets");
    }
}
