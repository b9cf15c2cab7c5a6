package io.conditio.it;

import static io.conditio.it.CliRun.conditio;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.preview.LatentPreview;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's progress output and {@code --preview-every}, and the latent-to-RGB projection behind the previews. */
class ProgressAndPreviewTest {
    @TempDir
    Path dir;
    private String cacheBefore;

    @BeforeEach
    void cache() {
        cacheBefore = System.getProperty("conditio.cache");
        System.setProperty("conditio.cache", dir.resolve("cache").toString());
    }

    @AfterEach
    void restore() {
        if (cacheBefore == null) {
            System.clearProperty("conditio.cache");
        } else {
            System.setProperty("conditio.cache", cacheBefore);
        }
    }

    @Test
    void progressIsPlainLinesOffATerminalAndQuietSilencesIt() {
        Path png = dir.resolve("p.png");
        CliRun run = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt", "a red circle",
                "--steps", "20", "--seed", "1", "--out", png.toString(), "--plugins",
                TinyFixtures.pluginDir().toString());
        assertThat(run.code()).as(run.err()).isZero();
        List<String> lines = run.err().lines().filter(l -> l.startsWith("step ")).toList();
        // one line per tenth of the steps, the last one at the end
        assertThat(lines).hasSize(10);
        assertThat(lines.get(0)).matches("step 2/20  \\d+\\.\\d\\d steps/s  ETA \\d+s");
        assertThat(lines.get(9)).startsWith("step 20/20 ").endsWith("ETA 0s");
        assertThat(run.err()).doesNotContain("\r");

        CliRun quiet = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt", "a red circle",
                "--steps", "20", "--seed", "1", "--quiet", "--out", png.toString(), "--plugins",
                TinyFixtures.pluginDir().toString());
        assertThat(quiet.code()).as(quiet.err()).isZero();
        assertThat(quiet.err()).doesNotContain("step ");

        // Heun makes two model calls for most steps: the lines count scheduler steps and name the call
        CliRun heun = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt",
                "a red circle", "--steps", "20", "--seed", "1", "--scheduler", "heun", "--out", png.toString(),
                "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(heun.code()).as(heun.err()).isZero();
        List<String> heunLines = heun.err().lines().filter(l -> l.startsWith("step ")).toList();
        assertThat(heunLines).hasSize(10).allMatch(l -> l.matches(
                "step \\d+/20 \\(call \\d+/39\\)  \\d+\\.\\d\\d steps/s  ETA \\d+s"));
        assertThat(heunLines.get(9)).startsWith("step 20/20 (call 39/39) ");
        // a scheduler step is about half a call count
        for (String l : heunLines) {
            int stepNo = Integer.parseInt(l.substring(5, l.indexOf('/')));
            int call = Integer.parseInt(l.substring(l.indexOf("(call ") + 6, l.indexOf("/39")));
            assertThat(stepNo).as(l).isBetween(call / 2, call / 2 + 1);
        }
    }

    /**
     * The launcher on a pseudo-terminal ({@code script} from util-linux): the bar is redrawn in place with steps/s
     * and ETA while stderr is the terminal, and is plain lines when stderr alone is sent to a file, although stdin
     * and stdout are still the terminal.
     */
    @Test
    void onATerminalTheBarIsRedrawnInPlaceUnlessStderrGoesElsewhere() throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script makes the pseudo-terminal");
        Path launcher = Path.of(System.getProperty("conditio.launcher"));
        String generate = "'" + launcher + "' generate --model '" + ShapesModelTest.modelDir().toAbsolutePath()
                + "' --plugins '" + TinyFixtures.pluginDir().toAbsolutePath() + "' --prompt 'a red circle' --steps 20"
                + " --seed 1 --out '" + dir.resolve("t.png") + "'";

        String onTerminal = onPseudoTerminal(generate);
        assertThat(onTerminal).containsPattern("\\r\\[#{3}\\.{27}\\] 2/20  \\d+\\.\\d\\d steps/s  ETA \\d+s")
                .containsPattern("\\r\\[#{30}\\] 20/20  \\d+\\.\\d\\d steps/s  ETA 0s")
                .doesNotContain("step 2/20");

        Path log = dir.resolve("err.log");
        onPseudoTerminal(generate + " 2>'" + log + "'");
        String logged = Files.readString(log);
        assertThat(logged).doesNotContain("\r").doesNotContain("[#");
        assertThat(logged.lines().filter(l -> l.startsWith("step ")).toList()).hasSize(10)
                .last().asString().startsWith("step 20/20 ");

        assertThat(onPseudoTerminal(generate + " --quiet")).doesNotContain("steps/s").contains("wrote ");
    }

    private static String onPseudoTerminal(String command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/script", "-qec", command, "/dev/null")
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE);
        pb.environment().put("TERM", "xterm");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String text = new String(out, java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        return text;
    }

    @Test
    void previewsAreWrittenEveryNStepsAndTheLastLooksLikeTheImage(TestReporter reporter) throws IOException {
        Path png = dir.resolve("img.png");
        CliRun run = conditio("generate", "--model", ShapesModelTest.modelDir().toString(), "--prompt",
                "a large blue square", "--steps", "12", "--seed", "4", "--preview-every", "4", "--quiet", "--out",
                png.toString(), "--plugins", TinyFixtures.pluginDir().toString());
        assertThat(run.code()).as(run.err()).isZero();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains("-preview-")).sorted())
                    .containsExactly("img-preview-004.png", "img-preview-008.png", "img-preview-012.png");
        }
        RgbImage last = PngImages.read(dir.resolve("img-preview-012.png"));
        RgbImage image = PngImages.read(png);
        assertThat(last.width()).isEqualTo(image.width());
        double preview = meanAbs(last, image);
        double gray = meanAbs(new RgbImage(image.width(), image.height(), filled(image, 0.5f)), image);
        reporter.publishEntry(String.format(Locale.ROOT,
                "preview vs decoded image: mean abs %.4f (a flat grey: %.4f)", preview, gray));
        assertThat(preview).as("the linear preview is far closer to the VAE's image than flat grey")
                .isLessThan(gray / 2);
        try (Stream<Path> cached = Files.list(dir.resolve("cache"))) {
            assertThat(cached.map(p -> p.getFileName().toString()).toList()).singleElement().asString()
                    .matches("latent-rgb-[0-9a-f]{10}\\.txt");
        }
    }

    @Test
    void theProjectionIsFittedOnceAndReadBackFromTheCache() throws IOException {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
                Pipeline pipeline = conditio.open(ShapesModelTest.modelDir())) {
            Path cache = dir.resolve("c");
            LatentPreview fitted = LatentPreview.forModel(pipeline.folder(), cache);
            Path file;
            try (Stream<Path> files = Files.list(cache)) {
                file = files.findFirst().orElseThrow();
            }
            String lines = Files.readString(file);
            assertThat(lines.lines().filter(l -> !l.startsWith("#")).count())
                    .isEqualTo(pipeline.folder().latentChannels() + 1L);
            LatentPreview read = LatentPreview.forModel(pipeline.folder(), cache);
            assertThat(read.weights()).containsExactly(fitted.weights());
            assertThat(read.bias()).containsExactly(fitted.bias());
            // the second call read the file rather than fitting again: a changed entry is what it returns
            String edited = lines.lines().map(l -> l.startsWith("#") ? l : l.replaceFirst("^\\S+", "0.25"))
                    .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
            Files.writeString(file, edited);
            LatentPreview cached = LatentPreview.forModel(pipeline.folder(), cache);
            for (int ch = 0; ch < pipeline.folder().latentChannels(); ch++) {
                assertThat(cached.weights()[ch * 3]).isEqualTo(0.25f);
                assertThat(cached.weights()[ch * 3 + 1]).isEqualTo(fitted.weights()[ch * 3 + 1]);
            }
            assertThat(cached.bias()[0]).isEqualTo(0.25f);

            GenerationResult r = pipeline.generate(GenerationRequest.builder().setPrompt("a red circle")
                    .optSteps(8).optSeed(2).build());
            RgbImage preview = fitted.render(r.latents());
            assertThat(meanAbs(preview, r.image())).isLessThan(meanAbs(new RgbImage(r.image().width(),
                    r.image().height(), filled(r.image(), 0.5f)), r.image()) / 2);
        }
    }

    private static float[] filled(RgbImage like, float v) {
        float[] a = new float[like.pixels().length];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static double meanAbs(RgbImage a, RgbImage b) {
        double s = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            s += Math.abs(a.pixels()[i] - b.pixels()[i]);
        }
        return s / a.pixels().length;
    }
}
