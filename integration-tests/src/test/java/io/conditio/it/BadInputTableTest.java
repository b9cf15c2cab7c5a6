package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.conditio.api.ConditioException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.RgbImage;
import io.conditio.cli.ConditioCli;
import io.conditio.core.Conditio;
import io.conditio.core.MemoryLimit;
import io.conditio.core.image.PngImages;
import io.conditio.core.npy.Npy;
import io.conditio.core.onnx.NativeObjects;
import io.conditio.core.pipeline.Pipeline;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A table of bad inputs across the Java API, model loading, image and array files, and the CLI. Each must end in
 * an exception of the api's hierarchy (or, for the CLI, a non-zero exit with one line on stderr and no stack trace)
 * whose message names what was wrong; afterwards no native tensor is open, no output file exists, and the pipeline
 * still generates.
 */
@ExtendWith(ConditioExtension.class)
class BadInputTableTest {
    @TempDir
    static Path tmp;
    @Fixture
    private static Conditio conditio;
    @Model("sd-tiny")
    private static Pipeline pipeline;

    /** Something that must fail, and a fragment its message must contain. */
    interface Action {
        void run() throws Exception;
    }

    private static Arguments bad(String name, String fragment, Action action) {
        return Arguments.of(name, fragment, action);
    }

    private static GenerationRequest.Builder req() {
        return GenerationRequest.builder().setPrompt("a red circle").optSteps(2).optSeed(1);
    }

    private static Action gen(Consumer<GenerationRequest.Builder> edit) {
        return () -> {
            GenerationRequest.Builder b = req();
            edit.accept(b);
            pipeline.generate(b.build());
        };
    }

    private static Action build(Consumer<GenerationRequest.Builder> edit) {
        return () -> edit.accept(req());
    }

    // ------------------------------------------------------------------ the Java API

    static Stream<Arguments> api() {
        RgbImage tiny = new RgbImage(1, 1, new float[3]);
        RgbImage img64 = new RgbImage(64, 64, new float[64 * 64 * 3]);
        return Stream.of(
                bad("steps 0", "steps must be at least 1", build(b -> b.optSteps(0))),
                bad("steps -5", "steps must be at least 1", build(b -> b.optSteps(-5))),
                bad("steps MIN_VALUE", "steps must be at least 1", build(b -> b.optSteps(Integer.MIN_VALUE))),
                bad("guidance NaN", "guidance scale", build(b -> b.optGuidanceScale(Double.NaN))),
                bad("guidance -1", "guidance scale", build(b -> b.optGuidanceScale(-1))),
                bad("guidance +inf", "guidance scale", build(b -> b.optGuidanceScale(Double.POSITIVE_INFINITY))),
                bad("guidance -inf", "guidance scale", build(b -> b.optGuidanceScale(Double.NEGATIVE_INFINITY))),
                bad("size 0x64", "must be positive", build(b -> b.optSize(0, 64))),
                bad("size 64x0", "must be positive", build(b -> b.optSize(64, 0))),
                bad("size -8x64", "must be positive", build(b -> b.optSize(-8, 64))),
                bad("width 0", "", build(b -> b.optWidth(0))),
                bad("height -64", "", build(b -> b.optHeight(-64))),
                bad("timeout 0", "timeout must be positive", build(b -> b.optTimeout(java.time.Duration.ZERO))),
                bad("timeout -1s", "timeout must be positive",
                        build(b -> b.optTimeout(java.time.Duration.ofSeconds(-1)))),
                bad("size 60x64", "multiple of 8", gen(b -> b.optSize(60, 64))),
                bad("size 64x63", "multiple of 8", gen(b -> b.optSize(64, 63))),
                bad("size 7x7", "multiple of 8", gen(b -> b.optSize(7, 7))),
                bad("size 80x64, the UNet halves the latent twice", "must be multiples of 32 (e.g. 96x64)",
                        gen(b -> b.optSize(80, 64))),
                bad("size 100000x100000", "memory limit", gen(b -> b.optSize(100_000, 100_000))),
                bad("size 65536x65536", "memory limit", gen(b -> b.optSize(65_536, 65_536))),
                bad("size 8x2^30", "memory limit", gen(b -> b.optSize(8, 1 << 30))),
                bad("unknown scheduler", "unknown scheduler 'warp-drive'", gen(b -> b.optScheduler("warp-drive"))),
                bad("empty scheduler name", "scheduler", gen(b -> b.optScheduler(""))),
                bad("scheduler config unknown class", "NoSuchScheduler",
                        gen(b -> b.optSchedulerConfig(Map.of("_class_name", "NoSuchScheduler")))),
                bad("scheduler config beta_schedule unknown", "beta_schedule",
                        gen(b -> b.optSchedulerConfig(Map.of("_class_name", "DDIMScheduler",
                                "beta_schedule", "wobbly")))),
                bad("scheduler config num_train_timesteps string", "num_train_timesteps",
                        gen(b -> b.optSchedulerConfig(Map.of("_class_name", "DDIMScheduler",
                                "num_train_timesteps", "many")))),
                bad("init image of the wrong type", "init_image", gen(b -> b.optParameter("init_image", "x.png"))),
                bad("strength 0", "strength", gen(b -> b.optParameter("init_image", img64)
                        .optParameter("strength", 0.0))),
                bad("strength 1.5", "strength", gen(b -> b.optParameter("init_image", img64)
                        .optParameter("strength", 1.5))),
                bad("strength NaN", "strength", gen(b -> b.optParameter("init_image", img64)
                        .optParameter("strength", Double.NaN))),
                bad("strength -0.1", "strength", gen(b -> b.optParameter("init_image", img64)
                        .optParameter("strength", -0.1))),
                bad("strength as text", "strength", gen(b -> b.optParameter("init_image", img64)
                        .optParameter("strength", "high"))),
                bad("mask without init image", "mask", gen(b -> b.optParameter("mask_image", img64))),
                bad("mask of another size", "mask", gen(b -> b.optParameter("init_image", img64)
                        .optParameter("mask_image", tiny))),
                bad("mask_blend as text", "mask_blend", gen(b -> b.optParameter("init_image", img64)
                        .optParameter("mask_image", img64).optParameter("mask_blend", "yes"))),
                bad("scheduler preset with 1 step for PNDM", "numInferenceSteps",
                        gen(b -> b.optSteps(1).optScheduler("pndm"))),
                bad("steps above the training timesteps", "1000", gen(b -> b.optSteps(5000).optScheduler("ddim"))));
    }

    // ------------------------------------------------------------------ model folders

    private static Path folder(String name) throws IOException {
        Path sd = TinyFixtures.model("sd-tiny");
        Path m = Files.createDirectories(tmp.resolve("models").resolve(name));
        try (Stream<Path> parts = Files.list(sd)) {
            for (Path p : parts.toList()) {
                Path target = m.resolve(p.getFileName());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                    try (Stream<Path> files = Files.list(p)) {
                        for (Path f : files.toList()) {
                            Files.copy(f, target.resolve(f.getFileName()));
                        }
                    }
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return m;
    }

    private static Action openAndGenerate(String name, Consumer<Path> damage) {
        return () -> {
            Path m = folder(name);
            damage.accept(m);
            try (Pipeline p = conditio.open(m)) {
                p.generate(req().build());
            }
        };
    }

    private static Consumer<Path> write(String file, String content) {
        return m -> {
            try {
                Files.createDirectories(m.resolve(file).getParent());
                Files.writeString(m.resolve(file), content);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    private static Consumer<Path> bytes(String file, byte[] content) {
        return m -> {
            try {
                Files.write(m.resolve(file), content);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    private static Consumer<Path> truncate(String file, double fraction) {
        return m -> {
            try {
                byte[] b = Files.readAllBytes(m.resolve(file));
                Files.write(m.resolve(file), Arrays.copyOf(b, (int) (b.length * fraction)));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    private static Consumer<Path> delete(String file) {
        return m -> {
            try {
                Files.delete(m.resolve(file));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    static Stream<Arguments> models() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        List<Arguments> cases = new ArrayList<>(List.of(
                bad("missing folder", "model folder not found", () -> conditio.open(tmp.resolve("no-such-model"))),
                bad("a file as the folder", "is a file, not a folder", () -> {
                    Path f = Files.writeString(tmp.resolve("model-file"), "x");
                    conditio.open(f);
                }),
                bad("empty folder", "lacks", () -> conditio.open(Files.createDirectories(tmp.resolve("empty")))),
                bad("no unet", "unet", openAndGenerate("no-unet", delete("unet/model.onnx"))),
                bad("no vae decoder", "vae_decoder", openAndGenerate("no-vae", delete("vae_decoder/model.onnx"))),
                bad("empty unet file", "unet", openAndGenerate("empty-unet", bytes("unet/model.onnx", new byte[0]))),
                bad("truncated unet", "unet", openAndGenerate("trunc-unet", truncate("unet/model.onnx", 0.5))),
                bad("garbage unet", "unet", openAndGenerate("garbage-unet",
                        bytes("unet/model.onnx", "not a protobuf".getBytes()))),
                bad("truncated vae decoder", "vae_decoder",
                        openAndGenerate("trunc-vae", truncate("vae_decoder/model.onnx", 0.3))),
                bad("truncated text encoder", "text_encoder",
                        openAndGenerate("trunc-te", truncate("text_encoder/model.onnx", 0.5))),
                bad("model_index invalid JSON", "model_index.json",
                        openAndGenerate("mi-invalid", write("model_index.json", "{\"_class_name\": "))),
                bad("model_index an array", "model_index.json",
                        openAndGenerate("mi-array", write("model_index.json", "[1, 2]"))),
                bad("model_index _class_name a number", "_class_name",
                        openAndGenerate("mi-class", write("model_index.json", "{\"_class_name\": 5}"))),
                bad("model_index component not a pair", "'unet'",
                        openAndGenerate("mi-pair", write("model_index.json", "{\"unet\": [\"diffusers\"]}"))),
                bad("model_index component an object", "'unet'",
                        openAndGenerate("mi-obj", write("model_index.json", "{\"unet\": {\"a\": 1}}"))),
                bad("model_index force_zeros a string", "force_zeros_for_empty_prompt",
                        openAndGenerate("mi-fz", write("model_index.json",
                                "{\"force_zeros_for_empty_prompt\": \"yes\"}"))),
                bad("unet sample_size -1", "key 'sample_size' is -1; expected a whole number from 1",
                        openAndGenerate("unet-size", write("unet/config.json", "{\"sample_size\": -1}"))),
                bad("vae scaling_factor a string, before any step", "key 'scaling_factor' is \"big\"", () -> {
                    Path m = folder("vae-scale");
                    write("vae_decoder/config.json", "{\"scaling_factor\": \"big\"}").accept(m);
                    try (Pipeline p = conditio.open(m)) {
                        p.generate(req().optBeforeStep(step -> {
                            throw new AssertionError("a step ran before the bad VAE config was refused");
                        }).build());
                    }
                }),
                bad("model_index deeply nested", "nesting",
                        openAndGenerate("mi-deep", write("model_index.json", "{\"x\": " + deep + "}"))),
                bad("model_index NaN in a component pair", "'unet'",
                        openAndGenerate("mi-nan", write("model_index.json", "{\"unet\": [NaN, NaN]}"))),
                bad("model_index not UTF-8", "UTF-8", openAndGenerate("mi-latin1",
                        bytes("model_index.json", new byte[] {'{', '"', (byte) 0xE9, '"', ':', '1', '}'}))),
                bad("model_index 100 MB", "at most", openAndGenerate("mi-huge", m -> sparse(m.resolve(
                        "model_index.json"), 100L << 20))),
                bad("defaults guidance_scale a string", "guidance_scale",
                        openAndGenerate("d-loud", write("conditio_defaults.json", "{\"guidance_scale\": \"loud\"}"))),
                bad("defaults steps -5", "'steps'",
                        openAndGenerate("d-neg", write("conditio_defaults.json", "{\"steps\": -5}"))),
                bad("defaults steps 2.5", "'steps'",
                        openAndGenerate("d-frac", write("conditio_defaults.json", "{\"steps\": 2.5}"))),
                bad("defaults steps 10^6", "'steps'",
                        openAndGenerate("d-big", write("conditio_defaults.json", "{\"steps\": 1000000}"))),
                bad("defaults guidance NaN", "guidance_scale",
                        openAndGenerate("d-nan", write("conditio_defaults.json", "{\"guidance_scale\": NaN}"))),
                bad("defaults guidance Infinity", "guidance_scale",
                        openAndGenerate("d-inf", write("conditio_defaults.json", "{\"guidance_scale\": Infinity}"))),
                bad("defaults mask_blend a string", "mask_blend",
                        openAndGenerate("d-mb", write("conditio_defaults.json", "{\"mask_blend\": \"yes\"}"))),
                bad("defaults unknown key", "unknown key 'stepz'",
                        openAndGenerate("d-unknown", write("conditio_defaults.json", "{\"stepz\": 20}"))),
                bad("defaults an array", "conditio_defaults.json",
                        openAndGenerate("d-array", write("conditio_defaults.json", "[20]"))),
                bad("defaults empty file", "conditio_defaults.json",
                        openAndGenerate("d-empty", write("conditio_defaults.json", ""))),
                bad("defaults trailing garbage", "conditio_defaults.json",
                        openAndGenerate("d-trailing", write("conditio_defaults.json", "{\"steps\": 4} x"))),
                bad("scheduler config invalid JSON", "scheduler_config.json",
                        openAndGenerate("s-invalid", write("scheduler/scheduler_config.json", "{,}"))),
                bad("scheduler config wrong type", "num_train_timesteps",
                        openAndGenerate("s-type", write("scheduler/scheduler_config.json",
                                "{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": \"many\"}"))),
                bad("unet config invalid JSON", "config.json",
                        openAndGenerate("u-config", write("unet/config.json", "{\"sample_size\": }"))),
                bad("vae config invalid JSON", "config.json",
                        openAndGenerate("v-config", write("vae_decoder/config.json", "nope"))),
                bad("tokenizer vocab missing", "tokenizer", openAndGenerate("no-vocab",
                        delete("tokenizer/vocab.json"))),
                bad("tokenizer merges missing", "merges", openAndGenerate("no-merges",
                        delete("tokenizer/merges.txt"))),
                bad("tokenizer vocab invalid JSON", "vocab.json", openAndGenerate("bad-vocab",
                        write("tokenizer/vocab.json", "{\"a\": "))),
                bad("tokenizer vocab wrong types", "vocab.json", openAndGenerate("vocab-types",
                        write("tokenizer/vocab.json", "{\"a\": \"one\"}"))),
                bad("text encoder missing", "text_encoder", openAndGenerate("no-te",
                        delete("text_encoder/model.onnx"))),
                bad("unet swapped for the vae decoder", "unet", openAndGenerate("swapped", m -> {
                    try {
                        Files.copy(m.resolve("vae_decoder/model.onnx"), m.resolve("unet/model.onnx"),
                                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }))));
        return cases.stream();
    }

    private static void sparse(Path file, long size) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ image and array files

    private static byte[] pngHeaderOnly(int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream h = new DataOutputStream(ihdr);
        h.writeInt(width);
        h.writeInt(height);
        h.write(new byte[] {8, 2, 0, 0, 0});
        DataOutputStream d = new DataOutputStream(out);
        d.writeInt(13);
        d.write("IHDR".getBytes(StandardCharsets.US_ASCII));
        d.write(ihdr.toByteArray());
        CRC32 crc = new CRC32();
        crc.update("IHDR".getBytes(StandardCharsets.US_ASCII));
        crc.update(ihdr.toByteArray());
        d.writeInt((int) crc.getValue());
        return out.toByteArray();
    }

    private static Action image(String name, byte[] content) {
        return () -> PngImages.read(Files.write(tmp.resolve(name), content));
    }

    private static byte[] validPng() throws IOException {
        return PngImages.encode(new RgbImage(64, 64, new float[64 * 64 * 3]), Map.of());
    }

    private static Action npy(String name, byte[] content) {
        return () -> Npy.readFloat(Files.write(tmp.resolve(name), content));
    }

    private static byte[] npyHeader(String dict) {
        String padded = dict;
        while ((10 + padded.length() + 1) % 64 != 0) {
            padded += " ";
        }
        padded += "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x93);
        out.writeBytes("NUMPY".getBytes(StandardCharsets.US_ASCII));
        out.write(1);
        out.write(0);
        out.write(padded.length() & 0xff);
        out.write(padded.length() >> 8);
        out.writeBytes(padded.getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    static Stream<Arguments> files() throws IOException {
        byte[] png = validPng();
        return Stream.of(
                bad("image missing", "image file not found", () -> PngImages.read(tmp.resolve("none.png"))),
                bad("image is a folder", "image file not found", () -> PngImages.read(tmp)),
                bad("image empty", "not an image", image("empty.png", new byte[0])),
                bad("image text", "not an image", image("text.png", "hello".getBytes())),
                bad("image truncated to its signature", "", image("sig.png", Arrays.copyOf(png, 8))),
                bad("image truncated in half", "", image("half.png", Arrays.copyOf(png, png.length / 2))),
                bad("image header only", "", image("hdr.png", pngHeaderOnly(64, 64))),
                bad("image header 100000x100000", "memory limit", image("bomb.png", pngHeaderOnly(100_000, 100_000))),
                bad("image header 16000x16000 over 1 GiB", "memory limit", () -> withLimit("1g",
                        image("big.png", pngHeaderOnly(16_000, 16_000)))),
                bad("image header 2^31-1 wide", "memory limit", image("wide.png", pngHeaderOnly(Integer.MAX_VALUE,
                        1))),
                bad("image header zero size", "", image("zero.png", pngHeaderOnly(0, 0))),
                bad("image corrupt IDAT", "", () -> {
                    byte[] b = png.clone();
                    for (int i = 60; i < b.length - 12; i++) {
                        b[i] ^= 0x5a;
                    }
                    PngImages.read(Files.write(tmp.resolve("corrupt.png"), b));
                }),
                bad("image BMP header only", "", image("h.bmp", new byte[] {'B', 'M', 0, 0, 0, 0})),
                bad("image GIF header only", "", image("h.gif", "GIF89a".getBytes())),
                bad("image JPEG start only", "", image("h.jpg", new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff})),
                bad("npy missing", "npy", () -> Npy.readFloat(tmp.resolve("none.npy"))),
                bad("npy empty", "npy", npy("empty.npy", new byte[0])),
                bad("npy bad magic", "magic", npy("magic.npy", "NOTNUMPY".getBytes())),
                bad("npy truncated header", "truncated", npy("trunc.npy", Arrays.copyOf(npyHeader(
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }"), 20))),
                bad("npy wrong dtype", "dtype", npy("dtype.npy",
                        npyHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 4), }"))),
                bad("npy truncated data", "truncated", npy("data.npy",
                        npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }"))),
                bad("npy huge shape", "", npy("huge.npy",
                        npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }"))),
                bad("npy negative shape", "shape", npy("neg.npy",
                        npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }"))),
                bad("npy unreadable header", "header", npy("garbled.npy", npyHeader("{'descr': <f4"))),
                bad("npy fortran order", "", npy("fortran.npy",
                        npyHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"))));
    }

    private static void withLimit(String limit, Action action) throws Exception {
        String before = System.getProperty(MemoryLimit.PROPERTY);
        System.setProperty(MemoryLimit.PROPERTY, limit);
        try {
            action.run();
        } finally {
            if (before == null) {
                System.clearProperty(MemoryLimit.PROPERTY);
            } else {
                System.setProperty(MemoryLimit.PROPERTY, before);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"api", "models", "files"})
    void aBadInputIsAClearErrorAndLeavesNothingBehind(String name, String fragment, Action action,
            TestReporter reporter) {
        Throwable thrown = catchThrowable(action::run);
        assertThat(thrown).as(name).isNotNull();
        reporter.publishEntry("bad input [" + name + "]: " + thrown.getClass().getSimpleName() + ": "
                + thrown.getMessage());
        assertThat(thrown).as(name).isInstanceOf(ConditioException.class);
        assertThat(thrown.getMessage()).as(name).isNotBlank().contains(fragment);
        assertThat(NativeObjects.openTensors()).as("tensors left open after " + name).isZero();
        assertThat(pipeline.generate(req().build()).latents().size()).isEqualTo(4 * 8 * 8);
    }

    // ------------------------------------------------------------------ the CLI

    private record Run(int code, String out, String err) {
    }

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ConditioCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    static Stream<Arguments> commandLines() throws IOException {
        Path garbage = Files.writeString(tmp.resolve("garbage.png"), "not an image");
        Path bomb = Files.write(tmp.resolve("bomb-cli.png"), pngHeaderOnly(100_000, 100_000));
        Path badJson = Files.writeString(tmp.resolve("bad.json"), "{\"_class_name\": ");
        Path aFile = Files.writeString(tmp.resolve("plain-file"), "x");
        Path ok = Files.write(tmp.resolve("ok-64.png"), validPng());
        Path tinyPng = tmp.resolve("control-1x1.png");
        PngImages.write(tinyPng, new RgbImage(1, 1, new float[3]), java.util.Map.of());
        String model = TinyFixtures.model("sd-tiny").toString();
        Path shapes = TinyFixtures.directoryProperty("conditio.shapesModel", "the shipped model");
        return Stream.of(
                Arguments.of("--steps 0", "steps", List.of("--steps", "0")),
                Arguments.of("--steps abc", "abc", List.of("--steps", "abc")),
                Arguments.of("--steps -1", "steps", List.of("--steps", "-1")),
                Arguments.of("--guidance NaN", "guidance", List.of("--guidance", "NaN")),
                Arguments.of("--guidance -3", "guidance", List.of("--guidance", "-3")),
                Arguments.of("--width 100000 --height 100000", "memory limit",
                        List.of("--width", "100000", "--height", "100000")),
                Arguments.of("--width 60", "multiple of 8", List.of("--width", "60")),
                Arguments.of("--width 24 --height 24", "multiples of 32 (e.g. 32x32)",
                        List.of("--width", "24", "--height", "24")),
                Arguments.of("--width 0", "positive", List.of("--width", "0")),
                Arguments.of("--seed x", "x", List.of("--seed", "x")),
                Arguments.of("--scheduler warp-drive", "warp-drive", List.of("--scheduler", "warp-drive")),
                Arguments.of("--scheduler-config missing", "no such file",
                        List.of("--scheduler-config", tmp.resolve("none.json").toString())),
                Arguments.of("--scheduler-config invalid", "bad.json", List.of("--scheduler-config",
                        badJson.toString())),
                Arguments.of("--init-image missing", "not found", List.of("--init-image",
                        tmp.resolve("none.png").toString())),
                Arguments.of("--init-image garbage", "not an image", List.of("--init-image", garbage.toString())),
                Arguments.of("--init-image bomb", "memory limit", List.of("--init-image", bomb.toString())),
                Arguments.of("--mask garbage", "not an image", List.of("--mask", garbage.toString())),
                Arguments.of("--strength 2", "strength", List.of("--init-image", ok.toString(),
                        "--strength", "2")),
                Arguments.of("--model missing", "no such directory", List.of("--model",
                        tmp.resolve("none").toString())),
                Arguments.of("--model a file", "is a file", List.of("--model", aFile.toString())),
                Arguments.of("--out unwritable", "cannot write there", List.of("--out", "/proc/x.png")),
                Arguments.of("--out a folder", "cannot write there", List.of("--out", tmp.toString())),
                Arguments.of("--save-latents unwritable", "cannot write there",
                        List.of("--save-latents", "/proc/x.npy")),
                Arguments.of("--memory-limit abc", "memory limit", List.of("--memory-limit", "abc")),
                Arguments.of("--memory-limit 1k", "memory limit", List.of("--memory-limit", "1k")),
                Arguments.of("--plugins missing", "plugin directory not found", List.of("--plugins",
                        tmp.resolve("no-plugins").toString())),
                Arguments.of("--control-preprocess bogus", "unknown --control-preprocess 'bogus'", List.of(
                        "--model", shapes.toString(), "--controlnet", shapes.resolve("controlnet").toString(),
                        "--control-image", ok.toString(), "--control-preprocess", "bogus")),
                Arguments.of("--control-image 1x1", "smaller than the 8x8 latent grid", List.of(
                        "--model", shapes.toString(), "--controlnet", shapes.resolve("controlnet").toString(),
                        "--control-image", tinyPng.toString())),
                Arguments.of("--original-size 1,2,3", "two integers", List.of("--original-size", "1,2,3")),
                Arguments.of("--crop-top-left a,b", "two integers", List.of("--crop-top-left", "a,b")),
                Arguments.of("unknown flag", "--frobnicate", List.of("--frobnicate")),
                Arguments.of("--class-label on a text-only UNet", "class", List.of("--class-label", "2")));
    }

    @ParameterizedTest(name = "conditio generate {0}")
    @MethodSource("commandLines")
    void aBadCommandLineIsOneLineAndANonZeroExit(String name, String fragment, List<String> extra,
            TestReporter reporter) throws IOException {
        Path out = tmp.resolve("cli-" + Integer.toHexString(name.hashCode()) + ".png");
        List<String> args = new ArrayList<>(List.of("generate"));
        Map<String, String> base = new java.util.LinkedHashMap<>();
        base.put("--model", TinyFixtures.model("sd-tiny").toString());
        base.put("--plugins", TinyFixtures.pluginDir().toString());
        base.put("--steps", "2");
        base.put("--seed", "1");
        base.put("--prompt", "x");
        base.put("--out", out.toString());
        base.forEach((k, v) -> {
            if (!extra.contains(k)) {
                args.add(k);
                args.add(v);
            }
        });
        args.addAll(extra);
        Run run = cli(args.toArray(String[]::new));
        reporter.publishEntry("bad command line [" + name + "]: exit " + run.code() + ": " + run.err().strip());
        assertThat(run.code()).as(name).isNotZero();
        List<String> lines = run.err().strip().lines().filter(l -> !l.startsWith("conditio: warning:")).toList();
        assertThat(lines).as(name + ": " + run.err()).isNotEmpty().hasSizeLessThanOrEqualTo(2);
        assertThat(lines.get(0)).as(name).startsWith("conditio: ").contains(fragment);
        assertThat(run.err()).as(name).doesNotContain("\tat ").doesNotContain("Exception:");
        assertThat(out).as("no output after " + name).doesNotExist();
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")))
                    .as("temporary files").isEmpty();
        }
    }

    @Test
    void anUnwritableLatentsFileLeavesNoPngEither() {
        Path png = tmp.resolve("both-or-neither.png");
        Run run = cli("generate", "--model", TinyFixtures.model("sd-tiny").toString(), "--plugins",
                TinyFixtures.pluginDir().toString(), "--steps", "2", "--seed", "1", "--out", png.toString(),
                "--save-latents", "/proc/self/latents.npy");
        assertThat(run.code()).isNotZero();
        assertThat(run.err()).contains("--save-latents");
        assertThat(png).doesNotExist();
    }

    @Test
    void hostilePromptsGenerateAndStaySafeInThePng() throws IOException {
        String hostile = "a\u0000red\u0007circle\u001b[31m \uD800 \uDFFF end";
        String huge = "circle ".repeat(150_000);
        for (String prompt : List.of(hostile, huge)) {
            Path png = tmp.resolve("prompt-" + prompt.length() + ".png");
            var result = pipeline.generate(req().setPrompt(prompt).build());
            PngImages.write(png, result.image(), result.provenance().entries());
            String stored = PngImages.readText(png).get("prompt");
            assertThat(stored).doesNotContain("\u0000").doesNotContain("\u0007").doesNotContain("\u001b");
            assertThat(stored.chars().noneMatch(c -> Character.isSurrogate((char) c))).isTrue();
            assertThat(Files.size(png)).isLessThan(64 * 1024);
        }
        String stored = PngImages.readText(tmp.resolve("prompt-" + hostile.length() + ".png")).get("prompt");
        assertThat(stored).isEqualTo("a\\u0000red\\u0007circle\\u001B[31m \\uD800 \\uDFFF end");
        assertThat(PngImages.readText(tmp.resolve("prompt-" + huge.length() + ".png")).get("prompt"))
                .endsWith("[cut: " + huge.length() + " characters in all]");
    }

    @Test
    void theTableHasAtLeastAHundredDistinctInputs(TestReporter reporter) throws IOException {
        long n = api().count() + models().count() + files().count() + commandLines().count();
        reporter.publishEntry("bad inputs in the table: " + n);
        assertThat(n).isGreaterThanOrEqualTo(100);
    }
}
