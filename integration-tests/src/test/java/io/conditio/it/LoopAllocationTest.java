package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.RgbImage;
import io.conditio.core.pipeline.Pipeline;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The denoise loop reuses its step buffers: on the shipped model the Java heap the generating thread allocates per
 * extra step stays under 16 KB and does not grow with the latent size, though one latent of a 256 px image is 16 KB
 * on its own. Checked for the default run (DDIM, classifier-free guidance), for schedulers of each family (ancestral,
 * multistep solvers, a second-order sampler), for a guidance modifier and for inpainting's mask blend. Counted with
 * the thread allocation counter as {@code conditio bench} counts it: (40-step generation − 20-step generation) / 20.
 * The counter counts bytes, not time, so the figure does not depend on the machine's load; the smallest of three
 * rounds is taken so that a one-off allocation (a class loaded late, a JIT deoptimisation) in one round does not
 * decide it.
 */
@ExtendWith(ConditioExtension.class)
class LoopAllocationTest {
    private static final double BAR = 16 * 1024;
    @Model(Model.SHAPES)
    private static Pipeline shapes;
    private static com.sun.management.ThreadMXBean threads;

    /** The runs measured: what each adds to the default request at a given size. */
    enum Run {
        DEFAULT((b, size) -> { }),
        EULER_ANCESTRAL((b, size) -> b.optScheduler("euler-a")),
        DPM_SOLVER_MULTISTEP((b, size) -> b.optScheduler("dpm++2m")),
        UNIPC((b, size) -> b.optScheduler("unipc")),
        HEUN((b, size) -> b.optScheduler("heun")),
        GUIDANCE_ANNEAL((b, size) -> b.optParameter("guidance_anneal", "cosine")),
        GUIDANCE_INTERVAL((b, size) -> b.optParameter("guidance_interval", List.of(0.2, 0.8))),
        INPAINTING((b, size) -> b.optParameter("init_image", gradient(size)).optParameter("mask_image", rightHalf(size))
                .optParameter("mask_blend", true));

        private final BiConsumer<GenerationRequest.Builder, Integer> options;

        Run(BiConsumer<GenerationRequest.Builder, Integer> options) {
            this.options = options;
        }
    }

    @BeforeAll
    static void countAllocations() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        assertThat(mx).as("this JVM's ThreadMXBean").isInstanceOf(com.sun.management.ThreadMXBean.class);
        threads = (com.sun.management.ThreadMXBean) mx;
        assertThat(threads.isThreadAllocatedMemorySupported()).as("thread allocation counting").isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);
    }

    private static GenerationRequest request(Run run, int size, int steps) {
        GenerationRequest.Builder b = GenerationRequest.builder().setPrompt("a red circle at the top left")
                .optSize(size, size).optSteps(steps).optSeed(0);
        run.options.accept(b, size);
        return b.build();
    }

    /** An init image: a gradient from black at the top left to white at the bottom right. */
    private static RgbImage gradient(int size) {
        float[] px = new float[size * size * 3];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                java.util.Arrays.fill(px, (y * size + x) * 3, (y * size + x) * 3 + 3, (x + y) / (2f * size));
            }
        }
        return new RgbImage(size, size, px);
    }

    /** A mask that repaints the right half. */
    private static RgbImage rightHalf(int size) {
        float[] px = new float[size * size * 3];
        for (int y = 0; y < size; y++) {
            java.util.Arrays.fill(px, (y * size + size / 2) * 3, (y * size + size) * 3, 1f);
        }
        return new RgbImage(size, size, px);
    }

    /** @return bytes allocated per extra step at this size, the smallest of three rounds */
    private static double perStep(Run run, int size) {
        long id = Thread.currentThread().getId();
        shapes.generate(request(run, size, 40)); // warm-up: classes loaded, buffers of this size seen once
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            long a0 = threads.getThreadAllocatedBytes(id);
            shapes.generate(request(run, size, 20));
            long a1 = threads.getThreadAllocatedBytes(id);
            shapes.generate(request(run, size, 40));
            long a2 = threads.getThreadAllocatedBytes(id);
            best = Math.min(best, ((a2 - a1) - (a1 - a0)) / 20.0);
        }
        return best;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Run.class)
    void aStepAllocatesLessThan16KbAtEverySize(Run run, TestReporter reporter) {
        double small = perStep(run, 64);
        double large = perStep(run, 256);
        String figures = String.format(Locale.ROOT, "%s: %.0f bytes per step at 64 px, %.0f at 256 px",
                run.name().toLowerCase(Locale.ROOT), small, large);
        reporter.publishEntry("HEAP/STEP " + figures);
        assertThat(small).as(figures).isLessThan(BAR);
        assertThat(large).as(figures).isLessThan(BAR);
        // 256 px has 16 times the latent values of 64 px: a copy of the latents per step would show as >= 15 KB more
        assertThat(large - small).as("growth with the latent size: " + figures).isLessThan(4096);
    }
}
