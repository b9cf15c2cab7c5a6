package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.GenerationTimeoutException;
import io.conditio.api.InvalidRequestException;
import io.conditio.core.onnx.NativeObjects;
import io.conditio.core.pipeline.Pipeline;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Pipeline#submit}: a future's cancel, an interrupt of the generating thread and a time limit each stop the
 * generation within one step, release every native tensor, and leave the pipeline usable. The latency is measured
 * in steps (how many steps started after the stop was asked for) and in milliseconds.
 */
@ExtendWith(ConditioExtension.class)
class CancellationAndTimeoutTest {
    private static final int STEPS = 12;
    @Model("sd-tiny")
    private static Pipeline pipeline;
    private static float[] reference;

    @BeforeAll
    static void generateTheReference() {
        reference = pipeline.generate(request().build()).latents().array();
    }

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder().setPrompt("a red circle").optSteps(STEPS).optSeed(3)
                .optScheduler("euler-a");
    }

    private static void assertReleasedAndUsable() {
        assertThat(NativeObjects.openTensors()).as("native tensors left open").isZero();
        assertThat(pipeline.generate(request().build()).latents().array()).containsExactly(reference);
    }

    @ParameterizedTest(name = "cancel({0}) at step 4")
    @ValueSource(booleans = {true, false})
    void cancellingTheFutureStopsWithinOneStep(boolean mayInterrupt, TestReporter reporter) throws Exception {
        CountDownLatch atStep4 = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        List<Integer> started = new CopyOnWriteArrayList<>();
        AtomicLong askedAt = new AtomicLong();
        Future<GenerationResult> f = pipeline.submit(request().optBeforeStep(s -> {
            started.add(s.stepIndex());
            if (s.stepIndex() == 3) {
                atStep4.countDown();
                await(cancelled);
            }
        }).build());
        assertThat(atStep4.await(60, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> canceller = CompletableFuture.runAsync(() -> {
            askedAt.set(System.nanoTime());
            assertThat(f.cancel(mayInterrupt)).isTrue();
            cancelled.countDown();
        });
        canceller.get(60, TimeUnit.SECONDS);
        Throwable thrown = catchThrowable(f::get);
        long latencyMs = (System.nanoTime() - askedAt.get()) / 1_000_000;
        int stepsAfter = started.size() - 4;
        reporter.publishEntry(String.format(Locale.ROOT,
                "cancel(%s): %d steps started after the cancel, %d ms until get() threw", mayInterrupt,
                stepsAfter, latencyMs));

        assertThat(f.isCancelled()).isTrue();
        assertThat(f.isDone()).isTrue();
        assertThat(thrown).isInstanceOf(CancellationException.class);
        assertThat(thrown.getCause()).isInstanceOf(GenerationCancelledException.class)
                .hasMessageContaining("step 4 of " + STEPS);
        assertThat(stepsAfter).as("steps started after the cancel").isZero();
        assertThat(latencyMs).isLessThan(5_000);
        assertReleasedAndUsable();
    }

    @Test
    void interruptingTheGeneratingThreadStopsWithinOneStep(TestReporter reporter) throws Exception {
        CountDownLatch atStep3 = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        List<Integer> started = new CopyOnWriteArrayList<>();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread generating = new Thread(() -> outcome.complete(catchThrowable(() -> pipeline.generate(request()
                .optBeforeStep(s -> started.add(s.stepIndex()))
                .optAfterStep(s -> {
                    if (s.stepIndex() == 2) {
                        atStep3.countDown();
                        awaitUninterruptibly(interrupted);
                    }
                }).build()))));
        generating.start();
        assertThat(atStep3.await(60, TimeUnit.SECONDS)).isTrue();
        long t0 = System.nanoTime();
        generating.interrupt();
        interrupted.countDown();
        Throwable thrown = outcome.get(60, TimeUnit.SECONDS);
        long latencyMs = (System.nanoTime() - t0) / 1_000_000;
        reporter.publishEntry(String.format(Locale.ROOT,
                "interrupt: %d steps started after it, %d ms", started.size() - 3, latencyMs));
        assertThat(thrown).isInstanceOf(GenerationCancelledException.class).hasMessageContaining("interrupted")
                .hasMessageContaining("step 3 of " + STEPS);
        assertThat(started).containsExactly(0, 1, 2);
        assertReleasedAndUsable();
    }

    @Test
    void aTimeLimitStopsTheGenerationWithItsOwnException(TestReporter reporter) throws Exception {
        List<Integer> started = new CopyOnWriteArrayList<>();
        AtomicLong stepStart = new AtomicLong();
        Future<GenerationResult> f = pipeline.submit(request().optTimeout(Duration.ofMillis(400))
                .optBeforeStep(s -> {
                    started.add(s.stepIndex());
                    stepStart.set(System.nanoTime());
                })
                .optAfterStep(s -> sleep(100)).build());
        long t0 = System.nanoTime();
        Throwable thrown = catchThrowable(f::get);
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
        reporter.publishEntry(String.format(Locale.ROOT,
                "timeout 400 ms: stopped after %d ms and %d of %d steps", elapsedMs, started.size(),
                STEPS));
        assertThat(f.isCancelled()).isFalse();
        assertThat(thrown).isInstanceOf(ExecutionException.class);
        assertThat(thrown.getCause()).isInstanceOf(GenerationTimeoutException.class)
                .isNotInstanceOf(GenerationCancelledException.class)
                .hasMessageContaining("time limit of 400 ms")
                .hasMessageMatching("(?s).*at step \\d+ of " + STEPS + ".*");
        // the limit is never enforced early, and it is seen at the end of the step during which it passes: each step
        // sleeps 100 ms, so at most 6 steps start within 400 ms (fewer on a loaded machine, where steps take longer)
        assertThat(elapsedMs).isGreaterThanOrEqualTo(400 - 50);
        assertThat(started.size()).isBetween(1, 6);
        assertReleasedAndUsable();
    }

    @Test
    void aTimeLimitLongEnoughChangesNothing() throws Exception {
        GenerationResult r = pipeline.submit(request().optTimeout(Duration.ofMinutes(5)).build())
                .get(60, TimeUnit.SECONDS);
        assertThat(r.latents().array()).containsExactly(reference);
    }

    @Test
    void aTimeLimitMustBePositive() {
        assertThat(catchThrowable(() -> request().optTimeout(Duration.ZERO)))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("timeout must be positive");
        assertThat(catchThrowable(() -> request().optTimeout(Duration.ofSeconds(-1))))
                .isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void aGenerationCancelledBeforeItStartsNeverRuns() throws Exception {
        List<Runnable> queued = new CopyOnWriteArrayList<>();
        Executor later = queued::add;
        List<Integer> started = new CopyOnWriteArrayList<>();
        Future<GenerationResult> f = pipeline.submit(request().optBeforeStep(s -> started.add(s.stepIndex()))
                .build(), later);
        assertThat(f.isDone()).isFalse();
        assertThat(f.cancel(true)).isTrue();
        queued.forEach(Runnable::run);
        Throwable thrown = catchThrowable(f::get);
        assertThat(thrown).isInstanceOf(CancellationException.class).hasNoCause()
                .hasMessageContaining("before it started");
        assertThat(started).isEmpty();
        assertThat(f.cancel(true)).as("a second cancel").isFalse();
    }

    @Test
    void submittedGenerationsGiveTheSameResultsAsBlockingOnes() throws Exception {
        Future<GenerationResult> a = pipeline.submit(request().build());
        Future<GenerationResult> b = pipeline.submit(request().optSeed(4).build());
        assertThat(a.get(60, TimeUnit.SECONDS).latents().array()).containsExactly(reference);
        assertThat(b.get(60, TimeUnit.SECONDS).latents().array())
                .containsExactly(pipeline.generate(request().optSeed(4).build()).latents().array());
        assertThat(a.cancel(true)).as("cancel after the end").isFalse();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await(60, TimeUnit.SECONDS);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
