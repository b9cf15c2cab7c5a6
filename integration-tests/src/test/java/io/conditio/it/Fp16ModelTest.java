package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.cli.ConditioCli;
import io.conditio.core.Conditio;
import io.conditio.core.npy.Npy;
import io.conditio.core.onnx.Binding;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.pipeline.Pipeline;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * sd-tiny-fp16 (sd-tiny's unet, text encoder and VAE decoder cast to float16 by tools/fp16/make_fp16.py) generates
 * what sd-tiny generates, within 1e-2 of max(1, max|latents|): float16 weights and activations cost about three
 * decimal digits, and the loop and schedulers stay float32.
 */
class Fp16ModelTest {
    private static final double TOLERANCE = 1e-2;

    @TempDir
    Path dir;

    private static GenerationRequest request(String scheduler) {
        return GenerationRequest.builder()
                .setPrompt("a red circle on a white background")
                .optNegativePrompt("blurry")
                .optSteps(8)
                .optGuidanceScale(7.5)
                .optSeed(7)
                .optSize(64, 64)
                .optSchedulerConfig(Map.of("_class_name", scheduler))
                .build();
    }

    @Test
    void theFixtureReallyDeclaresFloat16AndCallersSeeFloat32() {
        try (OnnxModel unet = OnnxModel.open("unet", TinyFixtures.model("sd-tiny-fp16").resolve("unet/model.onnx"))) {
            assertThat(unet.declaredInputs().get("sample").elementType()).isEqualTo(ElementType.FLOAT16);
            assertThat(unet.declaredInputs().get("encoder_hidden_states").elementType()).isEqualTo(ElementType.FLOAT16);
            assertThat(unet.declaredOutputs().get("out_sample").elementType()).isEqualTo(ElementType.FLOAT16);
            assertThat(unet.inputs().values()).extracting(TensorSpec::elementType)
                    .doesNotContain(ElementType.FLOAT16);
            assertThat(unet.outputs().get("out_sample").elementType()).isEqualTo(ElementType.FLOAT32);
        }
    }

    @Test
    void aBindingRunsTheFloat16UnetAsTheOneShotCallDoesAndCloseToFloat32() {
        Path fp16 = TinyFixtures.model("sd-tiny-fp16").resolve("unet/model.onnx");
        Path fp32 = TinyFixtures.model("sd-tiny").resolve("unet/model.onnx");
        java.util.Random random = new java.util.Random(3);
        float[] sample = new float[2 * 4 * 8 * 8];
        float[] hidden = new float[2 * 77 * 32];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) random.nextGaussian() * 0.5f;
        }
        try (OnnxModel half = OnnxModel.open("unet", fp16); OnnxModel full = OnnxModel.open("unet", fp32);
             Binding binding = half.bind()) {
            int hiddenSize = Math.toIntExact(half.inputs().get("encoder_hidden_states").shape()[2]);
            float[] h = java.util.Arrays.copyOf(hidden, 2 * 77 * hiddenSize);
            Map<String, Tensor> feeds = Map.of("sample", FloatTensor.of(sample, 2, 4, 8, 8),
                    "timestep", io.conditio.api.LongTensor.of(new long[] {500}, 1),
                    "encoder_hidden_states", FloatTensor.of(h, 2, 77, hiddenSize));
            FloatTensor once = (FloatTensor) half.run(feeds).get("out_sample");
            FloatTensor bound1 = (FloatTensor) binding.run(feeds).get("out_sample");
            FloatTensor bound2 = (FloatTensor) binding.run(feeds).get("out_sample"); // pinned float16 output
            FloatTensor reference = (FloatTensor) full.run(feeds).get("out_sample");

            assertThat(bound1.array()).containsExactly(once.array());
            assertThat(bound2.array()).containsExactly(once.array());
            assertThat(bound2.shape()).containsExactly(2, 4, 8, 8);
            double rel = TinyFixtures.relativeError(once, reference);
            assertThat(rel).as("float16 UNet vs float32").isLessThanOrEqualTo(TOLERANCE).isPositive();
        }
    }

    @Test
    void float16LatentsAreWithinOnePercentOfFloat32ThroughTheApi(TestReporter reporter) {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
             Pipeline fp32 = conditio.open(TinyFixtures.model("sd-tiny"));
             Pipeline fp16 = conditio.open(TinyFixtures.model("sd-tiny-fp16"))) {
            for (String scheduler : List.of("DDIMScheduler", "EulerAncestralDiscreteScheduler")) {
                GenerationResult full = fp32.generate(request(scheduler));
                GenerationResult half = fp16.generate(request(scheduler));
                double rel = TinyFixtures.relativeError(half.latents(), full.latents());
                reporter.publishEntry(String.format(Locale.ROOT,
                        "FP16 %-32s latents rel %.3e (max|x| %.3f)", scheduler, rel,
                        full.latents().absMax()));
                assertThat(rel).as("%s: fp16 vs fp32 latents", scheduler).isLessThanOrEqualTo(TOLERANCE);
                assertThat(half.latents().array()).as("the fp16 model is not the fp32 one")
                        .isNotEqualTo(full.latents().array());
                assertThat(half.image().width()).isEqualTo(64);
            }
        }
    }

    @Test
    void aFloat16ControlNetFeedsTheUnetThroughTheCli(TestReporter reporter) throws java.io.IOException {
        Path model = TinyFixtures.sdTinyWithUnet(java.nio.file.Files.createDirectories(dir.resolve("cn-model")),
                TinyFixtures.model("unet-controlnet").resolve("model.onnx"));
        Path controlNet = TinyFixtures.model("controlnet-fp16");
        try (OnnxModel cn = OnnxModel.open("controlnet", controlNet.resolve("model.onnx"))) {
            assertThat(cn.declaredInputs().get("controlnet_cond").elementType()).isEqualTo(ElementType.FLOAT16);
            assertThat(cn.declaredOutputs().values()).extracting(TensorSpec::elementType)
                    .containsOnly(ElementType.FLOAT16);
        }
        Path npy = dir.resolve("cn.npy");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ConditioCli.execute(new PrintWriter(out), new PrintWriter(err), "generate",
                "--model", model.toString(), "--prompt", "a red circle on a white background",
                "--steps", "8", "--seed", "7", "--scheduler", "ddim", "--controlnet", controlNet.toString(),
                "--control-image", TinyFixtures.array("control.png").toString(), "--control-scale", "0.8",
                "--out", dir.resolve("cn.png").toString(), "--save-latents", npy.toString(),
                "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(code).as(err.toString()).isZero();
        FloatTensor expected = Npy.readFloat(TinyFixtures.array("cn_DDIMScheduler_latents.npy"));
        double rel = TinyFixtures.relativeError(Npy.readFloat(npy), expected);
        reporter.publishEntry(String.format(Locale.ROOT, "FP16 controlnet latents rel %.3e", rel));
        assertThat(rel).isLessThanOrEqualTo(TOLERANCE).isGreaterThan(1e-6);
    }

    @Test
    void float16ModelFolderRunsThroughTheCli() {
        Path npy16 = dir.resolve("fp16.npy");
        Path npy32 = dir.resolve("fp32.npy");
        for (String[] run : List.of(new String[] {"sd-tiny-fp16", npy16.toString()},
                new String[] {"sd-tiny", npy32.toString()})) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = ConditioCli.execute(new PrintWriter(out), new PrintWriter(err), "generate",
                    "--model", TinyFixtures.model(run[0]).toString(), "--prompt", "a red circle on a white background",
                    "--steps", "8", "--guidance", "7.5", "--seed", "7", "--scheduler", "ddim",
                    "--out", dir.resolve(run[0] + ".png").toString(), "--save-latents", run[1],
                    "--plugins", TinyFixtures.pluginDir().toString());
            assertThat(code).as(err.toString()).isZero();
            assertThat(out.toString()).contains("wrote " + dir.resolve(run[0] + ".png"));
        }
        FloatTensor half = Npy.readFloat(npy16);
        FloatTensor full = Npy.readFloat(npy32);
        FloatTensor diffusers = Npy.readFloat(TinyFixtures.array("t2i_00_DDIMScheduler_latents.npy"));
        assertThat(TinyFixtures.relativeError(half, full)).isLessThanOrEqualTo(TOLERANCE);
        assertThat(TinyFixtures.relativeError(half, diffusers)).isLessThanOrEqualTo(TOLERANCE);
    }
}
