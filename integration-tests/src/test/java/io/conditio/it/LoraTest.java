package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.core.Conditio;
import io.conditio.core.npy.Npy;
import io.conditio.core.onnx.OnnxGraph;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The lora plugin jar on the diffusers-tiny sd-tiny model: a generation with LoRA files (kohya and diffusers/PEFT
 * names, UNet, text encoder and VAE decoder, several at once with their own scales; on sd-tiny and on the shipped
 * shapes model) equals a generation on a copy of the model
 * whose weights were merged offline by {@code tools/lora/lora_merge.py} (its arrays are in {@code lora-tiny/expected};
 * the test writes them into the copy's raw weight bytes), at 1e-5 relative: the latents for the UNet and text
 * encoder, the decoded pixels for the VAE decoder.
 */
@ExtendWith(ConditioExtension.class)
class LoraTest {
    private static final double TOLERANCE = 1e-5;
    @Fixture
    private static Conditio conditio;

    @TempDir
    Path tmp;

    private static Path lora(String file) {
        return TinyFixtures.resource("lora-tiny/" + file);
    }

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder().setPrompt("a red circle at the top left").optSteps(4).optSeed(7)
                .optGuidanceScale(5.0).optSize(64, 64);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "sd-tiny | unet-kohya | unet | unet-kohya.safetensors:0.8",
        "sd-tiny | unet-peft | unet | unet-peft.safetensors",
        "sd-tiny | unet-both | unet | unet-kohya.safetensors:0.8;unet-peft.safetensors:-0.5",
        "sd-tiny | te-kohya | text_encoder | te-kohya.safetensors:1.5",
        "shapes | unet-kohya | unet | unet-kohya.safetensors:0.7",
        "shapes | te-kohya | text_encoder | te-kohya.safetensors:1.2",
        "sd-tiny | te-peft | text_encoder | te-peft.safetensors:0.9",
        "sd-tiny | vae-peft | vae_decoder | vae-peft.safetensors:0.6",
        "shapes | unet-peft | unet | unet-peft.safetensors:0.9",
        "shapes | te-peft | text_encoder | te-peft.safetensors:1.1",
        "shapes | vae-kohya | vae_decoder | vae-kohya.safetensors:0.8",
    })
    void equalsTheOfflineMerge(String model, String expected, String component, String specs) {
        Path source = model.equals("shapes")
                ? TinyFixtures.directoryProperty("conditio.shapesModel", "the shipped model")
                : TinyFixtures.model("sd-tiny");
        String fixtures = model.equals("shapes") ? "lora-shapes/" : "lora-tiny/";
        Path plain = copyModel(source, tmp.resolve("plain"));
        Path merged = copyModel(source, tmp.resolve("merged"));
        int written = writeMerged(merged.resolve(component).resolve("model.onnx"),
                TinyFixtures.resource(fixtures + "expected/" + expected));
        List<String> loras = new ArrayList<>();
        for (String s : specs.split(";")) {
            loras.add(TinyFixtures.resource(fixtures + s.substring(0, s.contains(":") ? s.indexOf(':') : s.length()))
                    + (s.contains(":") ? s.substring(s.indexOf(':')) : ""));
        }
        GenerationResult withLora;
        GenerationResult without;
        try (Pipeline p = conditio.open(plain)) {
            withLora = p.generate(request().optParameter("lora", loras).build());
            without = p.generate(request().build());
        }
        GenerationResult offline;
        try (Pipeline p = conditio.open(merged)) {
            offline = p.generate(request().build());
        }
        boolean decoder = component.equals("vae_decoder");
        double rel = decoder ? pixelError(withLora, offline)
                : TinyFixtures.relativeError(withLora.latents(), offline.latents());
        double changed = decoder ? pixelError(without, offline)
                : TinyFixtures.relativeError(without.latents(), offline.latents());
        System.out.printf(Locale.ROOT, "PARITY lora %-8s %-10s %d weights: %s rel %.3e vs offline merge"
                + " (without the LoRA: %.3e)%n", model, expected, written, decoder ? "pixels" : "latents", rel,
                changed);
        if (decoder) {
            assertThat(withLora.latents().array()).as("a VAE-only LoRA leaves the latents alone")
                    .containsExactly(without.latents().array());
        } else {
            assertThat(withLora.provenance().entries()).as("a LoRA without VAE keys leaves the decoder alone")
                    .doesNotContainKey("weights.vae_decoder");
        }
        assertThat(written).isGreaterThan(0);
        assertThat(changed).as("the LoRA changes the result").isGreaterThan(1e-3);
        assertThat(rel).as("LoRA through the plugin vs merged offline").isLessThanOrEqualTo(TOLERANCE);
        assertThat(withLora.provenance().entries()).containsKey("weights." + component);
    }

    @Test
    void sessionsAreReusedPerPatchSetAndThePromptTagWorks() throws IOException {
        Path plain = copySdTiny(tmp.resolve("plain"));
        Files.createDirectories(plain.resolve("loras"));
        Files.copy(lora("unet-kohya.safetensors"), plain.resolve("loras/unet-kohya.safetensors"));
        try (Pipeline p = conditio.open(plain)) {
            FloatTensor a = p.generate(request().optParameter("lora", lora("unet-kohya.safetensors") + ":0.8")
                    .build()).latents();
            FloatTensor base = p.generate(request().build()).latents();
            FloatTensor tag = p.generate(request().setPrompt("a red circle at the top left <lora:unet-kohya:0.8>")
                    .build()).latents();
            FloatTensor again = p.generate(request().optParameter("lora", lora("unet-kohya.safetensors") + ":0.8")
                    .build()).latents();
            assertThat(TinyFixtures.relativeError(tag, a)).as("<lora:NAME:SCALE> equals --lora FILE:SCALE")
                    .isLessThanOrEqualTo(TOLERANCE);
            assertThat(again.array()).as("switching back to a patch set").containsExactly(a.array());
            assertThat(TinyFixtures.relativeError(base, a)).isGreaterThan(1e-3);
            long sessions = p.folder().openModels().keySet().stream().filter(k -> k.startsWith("unet")).count();
            assertThat(sessions).as("one UNet session plain, one with the LoRA").isEqualTo(2);
        }
    }

    @Test
    void keysMatchingNoWeightAreAnErrorListingThem() throws IOException {
        assertLoraRefused("bad.safetensors", "lora_unet_down_blocks_7_nothing_here", new int[] {2, 16},
                new int[] {16, 2}).hasMessageContaining("match no weight");
    }

    @Test
    void aHeaderLengthStartingLikeAPickleIsReadAsSafetensors() throws IOException {
        Path plain = copySdTiny(tmp.resolve("plain"));
        for (int length : new int[] {0x180, 0x150}) {  // first byte 0x80, then 'P'
            Path file = tmp.resolve("header-" + length + ".safetensors");
            writeSafetensors(file, "lora_unet_down_blocks_7_nothing_here", new int[] {2, 16}, new int[] {16, 2},
                    length);
            try (Pipeline p = conditio.open(plain)) {
                assertThatThrownBy(() -> p.generate(request().optParameter("lora", file.toString()).build()))
                        .as("header length %d", length)
                        .isInstanceOf(InvalidRequestException.class)
                        .hasMessageContaining("match no weight")
                        .hasMessageNotContaining("pickle");
            }
        }
    }

    @Test
    void vaeEncoderKeysAreRefused() throws IOException {
        assertLoraRefused("encoder.safetensors", "lora_vae_encoder_conv_in", new int[] {2, 27}, new int[] {8, 2})
                .hasMessageContaining("only the VAE decoder");
    }

    /**
     * Generates on a copy of sd-tiny with a LoRA file of one down/up pair under {@code key}, and checks the request is
     * refused naming the key.
     *
     * @return the refusal, for more checks
     */
    private AbstractThrowableAssert<?, ? extends Throwable> assertLoraRefused(String file, String key, int[] down,
            int[] up) throws IOException {
        Path plain = copySdTiny(tmp.resolve("plain"));
        Path bad = tmp.resolve(file);
        writeSafetensors(bad, key, down, up);
        try (Pipeline p = conditio.open(plain)) {
            return assertThatThrownBy(() -> p.generate(request().optParameter("lora", bad.toString()).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining(key);
        }
    }

    /** The largest difference between two results' first images, pixel values being in [0, 1]. */
    private static double pixelError(GenerationResult actual, GenerationResult expected) {
        float[] a = actual.images().get(0).pixels();
        float[] e = expected.images().get(0).pixels();
        assertThat(a).hasSameSizeAs(e);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - e[i]));
        }
        return max;
    }

    @Test
    void pickledFilesAreRefused() throws IOException {
        Path plain = copySdTiny(tmp.resolve("plain"));
        Path pt = tmp.resolve("style.pt");
        Files.write(pt, new byte[] {(byte) 0x80, 2, 'c', 'o', 's'});
        try (Pipeline p = conditio.open(plain)) {
            assertThatThrownBy(() -> p.generate(request().optParameter("lora", pt.toString()).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("pickled")
                    .hasMessageContaining("safetensors");
        }
    }

    static Path copySdTiny(Path dir) {
        return copyModel(TinyFixtures.model("sd-tiny"), dir);
    }

    /** A real copy (not links) of a model folder, so its weight bytes can be rewritten. */
    static Path copyModel(Path src, Path dir) {
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.toList()) {
                Path to = dir.resolve(src.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /** Writes each expected/NAME.npy over the raw bytes of the initializer it names; returns how many. */
    static int writeMerged(Path model, Path expected) {
        OnnxGraph graph = OnnxGraph.read(model);
        int n = 0;
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE);
             Stream<Path> arrays = Files.list(expected)) {
            for (Path npy : arrays.sorted().toList()) {
                String file = npy.getFileName().toString().replaceFirst("\\.npy$", "");
                String name = graph.initializers().keySet().stream()
                        .filter(k -> k.replace("/", "_").replace(":", "_").equals(file)).findFirst()
                        .orElseThrow(() -> new AssertionError("no initializer for " + npy));
                long offset = graph.rawDataOffset(name);
                assertThat(offset).as("raw data of %s", name).isPositive();
                float[] v = Npy.readFloat(npy).array();
                ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(v);
                ch.write(buf, offset);
                n++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    static void writeSafetensors(Path file, String module, int[] down, int[] up) throws IOException {
        writeSafetensors(file, module, down, up, 0);
    }

    /** As above, the JSON header padded with spaces to {@code headerLength} bytes when that is longer. */
    static void writeSafetensors(Path file, String module, int[] down, int[] up, int headerLength)
            throws IOException {
        int nd = down[0] * down[1];
        int nu = up[0] * up[1];
        String header = "{\"" + module + ".lora_down.weight\":{\"dtype\":\"F32\",\"shape\":[" + down[0] + ","
                + down[1] + "],\"data_offsets\":[0," + nd * 4 + "]},\"" + module + ".lora_up.weight\":{\"dtype\":"
                + "\"F32\",\"shape\":[" + up[0] + "," + up[1] + "],\"data_offsets\":[" + nd * 4 + ","
                + (nd + nu) * 4 + "]}}";
        header = header + " ".repeat(Math.max(0, headerLength - header.length()));
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + (nd + nu) * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (int i = 0; i < nd + nu; i++) {
            buf.putFloat(0.01f * (i % 7));
        }
        Files.write(file, buf.array());
    }
}
