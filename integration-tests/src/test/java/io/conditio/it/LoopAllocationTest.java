package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.core.pipeline.Pipeline;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The denoise loop reuses its step buffers: on the shipped model (DDIM, classifier-free guidance) the Java heap the
 * generating thread allocates per extra step stays under 16 KB and does not grow with the latent size, though one
 * latent of a 256 px image is 16 KB on its own. Counted with the thread allocation counter as {@code conditio bench}
 * counts it: (40-step generation − 20-step generation) / 20. The counter counts bytes, not time, so the figure does
 * not depend on the machine's load; the smallest of three rounds is taken so that a one-off allocation (a class
 * loaded late, a JIT deoptimisation) in one round does not decide it.
 */
@ExtendWith(ConditioExtension.class)
class LoopAllocationTest {
    private static final double BAR = 16 * 1024;
    @Model(Model.SHAPES)
    private static Pipeline shapes;
    private static com.sun.management.ThreadMXBean threads;

    @BeforeAll
    static void countAllocations() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        assertThat(mx).as("this JVM's ThreadMXBean").isInstanceOf(com.sun.management.ThreadMXBean.class);
        threads = (com.sun.management.ThreadMXBean) mx;
        assertThat(threads.isThreadAllocatedMemorySupported()).as("thread allocation counting").isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);
    }

    private static GenerationRequest request(int size, int steps) {
        return GenerationRequest.builder().setPrompt("a red circle at the top left").optSize(size, size)
                .optSteps(steps).optSeed(0).build();
    }

    /** @return bytes allocated per extra step at this size, the smallest of three rounds */
    private static double perStep(int size) {
        long id = Thread.currentThread().getId();
        shapes.generate(request(size, 40)); // warm-up: classes loaded, buffers of this size seen once
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            long a0 = threads.getThreadAllocatedBytes(id);
            shapes.generate(request(size, 20));
            long a1 = threads.getThreadAllocatedBytes(id);
            shapes.generate(request(size, 40));
            long a2 = threads.getThreadAllocatedBytes(id);
            best = Math.min(best, ((a2 - a1) - (a1 - a0)) / 20.0);
        }
        return best;
    }

    @Test
    void aStepAllocatesLessThan16KbAtEverySize() {
        double small = perStep(64);
        double large = perStep(256);
        String figures = String.format(Locale.ROOT, "%.0f bytes per step at 64 px, %.0f at 256 px", small, large);
        assertThat(small).as(figures).isLessThan(BAR);
        assertThat(large).as(figures).isLessThan(BAR);
        // 256 px has 16 times the latent values of 64 px: a copy of the latents per step would show as >= 15 KB more
        assertThat(large - small).as("growth with the latent size: " + figures).isLessThan(4096);
    }
}
