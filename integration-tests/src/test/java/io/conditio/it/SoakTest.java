package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.ConditioException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.onnx.NativeObjects;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak run ({@code mvn -B verify -Psoak}, not in the default build): 1,000 generations on one pipeline over the
 * diffusers-tiny model folder with its task variants, cycling through the schedulers, txt2img, img2img, inpainting
 * and ControlNet, with a cancelled and a refused request among them. After a warm-up of 100 generations the resident
 * memory ({@code VmRSS} of {@code /proc/self/status}) may not grow by more than {@value #RSS_DRIFT_LIMIT_MB} MB, and
 * no native tensor stays open; after closing, no session either. The figures are printed ({@code SOAK ...} lines).
 */
@Tag("soak")
class SoakTest {
    static final int GENERATIONS = Integer.getInteger("conditio.soak.generations", 1000);
    static final int WARM_UP = 100;
    static final long RSS_DRIFT_LIMIT_MB = 48;

    private static final String[] SCHEDULERS = {"euler-a", "dpm++2m-sde", "kdpm2-a", "ddpm", "dpm++2m", "unipc",
            "euler", "ddim", "heun", "lms", "pndm", "deis", "dpm++2m-karras", "kdpm2", "lcm", "tcd"};

    @Test
    void aThousandGenerationsKeepMemoryFlatAndCloseEverything(@TempDir Path dir,
            TestReporter reporter) throws Exception {
        Path sd = TinyFixtures.model("sd-tiny");
        for (String c : List.of("text_encoder", "tokenizer", "scheduler", "vae_decoder", "vae_encoder", "unet")) {
            Files.createSymbolicLink(dir.resolve(c), sd.resolve(c));
        }
        Files.createSymbolicLink(dir.resolve("unet-inpaint"), TinyFixtures.model("unet-inpaint"));
        Files.createSymbolicLink(dir.resolve("unet-controlnet"), TinyFixtures.model("unet-controlnet"));
        RgbImage init = PngImages.read(TinyFixtures.array("inpaint_init.png"));
        RgbImage mask = PngImages.read(TinyFixtures.array("inpaint_mask.png"));
        RgbImage control = PngImages.read(TinyFixtures.array("control.png"));

        long sessionsBefore = NativeObjects.openSessions();
        List<long[]> samples = new ArrayList<>();
        int ok = 0;
        int refused = 0;
        int cancelled = 0;
        long t0 = System.nanoTime();
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
                Pipeline pipeline = conditio.open(dir)) {
            for (int i = 0; i < GENERATIONS; i++) {
                GenerationRequest.Builder b = GenerationRequest.builder()
                        .setPrompt(i % 3 == 0 ? "a red circle" : "a blue square at the top").optSteps(4).optSeed(i)
                        .optSize(64, 64).optScheduler(SCHEDULERS[i % SCHEDULERS.length]);
                switch (i % 5) {
                    case 1 -> b.optParameter("init_image", init).optParameter("strength", 0.6);
                    case 2 -> b.optParameter("init_image", init).optParameter("mask_image", mask);
                    case 3 -> b.optParameter("controlnets", List.of(Map.of("model", TinyFixtures.model("controlnet"),
                            "image", control, "scale", 0.8)));
                    default -> { }
                }
                try {
                    if (i % 50 == 17) {
                        b.optSteps(-3); // refused before anything is allocated
                    }
                    if (i % 50 == 33) {
                        // cancelled from this thread while its first step's callback waits for the cancel
                        java.util.concurrent.CountDownLatch first = new java.util.concurrent.CountDownLatch(1);
                        java.util.concurrent.CountDownLatch told = new java.util.concurrent.CountDownLatch(1);
                        Future<?> f = pipeline.submit(b.optSteps(20).optAfterStep(s -> {
                            first.countDown();
                            try {
                                told.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }).build());
                        first.await();
                        f.cancel(true);
                        told.countDown();
                        try {
                            f.get();
                        } catch (CancellationException e) {
                            cancelled++;
                        }
                    } else {
                        assertThat(pipeline.generate(b.build()).images()).hasSize(1);
                        ok++;
                    }
                } catch (ConditioException e) {
                    refused++;
                }
                assertThat(NativeObjects.openTensors()).as("tensors open after generation %d", i).isZero();
                if ((i + 1) % 50 == 0) {
                    System.gc();
                    Runtime rt = Runtime.getRuntime();
                    samples.add(new long[] {i + 1, rssKb(), (rt.totalMemory() - rt.freeMemory()) / 1024});
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(NativeObjects.openSessions()).as("sessions open after close").isEqualTo(sessionsBefore);
        assertThat(NativeObjects.openTensors()).isZero();

        long[] warm = samples.stream().filter(s -> s[0] >= WARM_UP).findFirst().orElseThrow();
        long[] last = samples.get(samples.size() - 1);
        long maxRss = samples.stream().filter(s -> s[0] >= WARM_UP).mapToLong(s -> s[1]).max().orElseThrow();
        for (long[] s : samples) {
            reporter.publishEntry(String.format(Locale.ROOT,
                    "SOAK after %4d generations: VmRSS %7.1f MB, heap used after GC %6.1f MB",
                    s[0], s[1] / 1024.0, s[2] / 1024.0));
        }
        reporter.publishEntry(String.format(Locale.ROOT,
                "SOAK %d generations (%d ok, %d refused, %d cancelled) in %.1f s; VmRSS after "
                + "%d: %.1f MB, at the end: %.1f MB, drift %+.1f MB (max %.1f MB); open tensors 0, sessions after "
                + "close %d", GENERATIONS, ok, refused, cancelled, seconds, warm[0], warm[1] / 1024.0,
                last[1] / 1024.0, (last[1] - warm[1]) / 1024.0, maxRss / 1024.0, NativeObjects.openSessions()));
        assertThat(ok + refused + cancelled).isEqualTo(GENERATIONS);
        assertThat(refused).isEqualTo((GENERATIONS + 32) / 50);
        assertThat((maxRss - warm[1]) / 1024).as("resident memory growth after warm-up, MB")
                .isLessThanOrEqualTo(RSS_DRIFT_LIMIT_MB);
    }

    /** @return VmRSS of this process in kB, from /proc/self/status */
    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
