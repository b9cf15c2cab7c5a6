package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.cli.ConditioCli;
import io.conditio.core.npy.Npy;
import io.conditio.core.tokenizer.ClipTokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conditio generate --lora} and {@code --embedding}, run in-process with the built plugin directory as scripts
 * use the command: the latents they save equal a plain generation on a copy of the model with the LoRA merged offline
 * ({@code tools/lora/lora_merge.py}'s arrays) or the embedding's vectors written into the token table, at 1e-5.
 */
class WeightConditioningCliTest {
    private static final double TOLERANCE = 1e-5;

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static Run conditio(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ConditioCli.execute(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    /** generate on a model folder with the LoraTest settings, saving latents; extra flags appended. */
    private Run generate(Path model, String prompt, Path latents, String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--prompt", prompt,
                "--steps", "4", "--seed", "7", "--guidance", "5", "--width", "64", "--height", "64", "--out",
                dir.resolve(latents.getFileName() + ".png").toString(), "--save-latents", latents.toString(),
                "--plugins", TinyFixtures.pluginDir().toString()));
        args.addAll(Arrays.asList(extra));
        return conditio(args);
    }

    @Test
    void loraFlagEqualsTheOfflineMerge() throws IOException {
        Path plain = LoraTest.copySdTiny(dir.resolve("plain"));
        Path merged = LoraTest.copySdTiny(dir.resolve("merged"));
        LoraTest.writeMerged(merged.resolve("unet/model.onnx"), TinyFixtures.resource("lora-tiny/expected/unet-both"));
        Path a = dir.resolve("lora.npy");
        Path b = dir.resolve("offline.npy");
        Run run = generate(plain, "a red circle at the top left", a,
                "--lora", TinyFixtures.resource("lora-tiny/unet-kohya.safetensors") + ":0.8",
                "--lora", TinyFixtures.resource("lora-tiny/unet-peft.safetensors") + ":-0.5");
        assertThat(run.code()).as(run.err()).isZero();
        Run offline = generate(merged, "a red circle at the top left", b);
        assertThat(offline.code()).as(offline.err()).isZero();
        assertThat(TinyFixtures.relativeError(Npy.readFloat(a), Npy.readFloat(b))).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void embeddingFlagEqualsTheVectorsFedDirectly() throws IOException {
        Path plain = LoraTest.copySdTiny(dir.resolve("plain"));
        Path direct = LoraTest.copySdTiny(dir.resolve("direct"));
        ClipTokenizer tokenizer = ClipTokenizer.load(plain.resolve("tokenizer"));
        int red = tokenizer.tokenize("red")[0];
        int circle = tokenizer.tokenize("circle")[0];
        TextualInversionTest.writeRows(direct.resolve("text_encoder/model.onnx"), new int[] {red, circle},
                Npy.readFloat(TinyFixtures.resource("embeddings-tiny/tiny-pair.npy")));
        Path a = dir.resolve("emb.npy");
        Path b = dir.resolve("direct.npy");
        Run run = generate(plain, "a pair at the top left", a, "--embedding",
                TinyFixtures.resource("embeddings-tiny/tiny-pair.safetensors") + ":pair");
        assertThat(run.code()).as(run.err()).isZero();
        Run offline = generate(direct, "a red circle at the top left", b);
        assertThat(offline.code()).as(offline.err()).isZero();
        assertThat(TinyFixtures.relativeError(Npy.readFloat(a), Npy.readFloat(b))).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void aPickledEmbeddingIsOneLineAndExitCodeOne() throws IOException {
        Path pt = dir.resolve("style.pt");
        Files.write(pt, new byte[] {(byte) 0x80, 2, 'c'});
        Run run = generate(TinyFixtures.model("sd-tiny"), "a style", dir.resolve("x.npy"), "--embedding",
                pt.toString());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err().strip()).doesNotContain("\n").contains("style.pt").contains("pickled");
        assertThat(run.err()).doesNotContain("\tat ");
    }
}
