package io.conditio.core.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationTimeoutException;
import io.conditio.core.testing.Fixtures;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A stop signal ends an ONNX Runtime call in flight through the run options' terminate flag. The model is a chain of
 * 400 MatMul+Tanh nodes whose uninterrupted run takes tens of seconds at this batch size; a terminated run must end
 * within a small fraction of that.
 */
class CancellationTest {
    /** Uninterrupted, 400 nodes of 2048x256x256 multiply-adds: about 110 GFLOP, far longer than the bound below. */
    private static final int ROWS = 2048;
    /** The bound on the time from the stop to the exception; one node takes a few milliseconds. */
    private static final long MAX_LATENCY_MS = 2_000;

    private static OnnxModel slow;

    @BeforeAll
    static void open() {
        slow = OnnxModel.open("slow", Fixtures.resource("onnx/slow-matmul.onnx"));
    }

    @AfterAll
    static void close() {
        slow.close();
    }

    private static FloatTensor input() {
        return FloatTensor.full(0.5f, ROWS, 256);
    }

    /** Runs the slow model on a new thread under the signal; completes with what the run threw. */
    private static CompletableFuture<Throwable> runInBackground(Cancellation c, AtomicReference<Thread> thread) {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (Cancellation.Scope scope = c.enter()) {
                slow.run(Map.of("x", input()));
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        }, "slow-run");
        thread.set(t);
        t.start();
        return outcome;
    }

    private static void awaitInFlight(Cancellation c) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (c.callsInFlight() == 0) {
            assertThat(System.nanoTime()).as("the run did not start").isLessThan(until);
            Thread.sleep(5);
        }
        Thread.sleep(50);
    }

    @Test
    void cancelTerminatesTheCallInFlight() throws Exception {
        Cancellation c = Cancellation.start(Optional.empty());
        c.stage("step 3 of 20");
        CompletableFuture<Throwable> outcome = runInBackground(c, new AtomicReference<>());
        awaitInFlight(c);
        long t0 = System.nanoTime();
        c.cancel();
        Throwable thrown = outcome.get(60, TimeUnit.SECONDS);
        long latencyMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("in-flight cancel latency: " + latencyMs + " ms");
        assertThat(thrown).isInstanceOf(GenerationCancelledException.class)
                .hasMessageContaining("cancelled at step 3 of 20");
        assertThat(thrown.getCause()).as("ONNX Runtime's report of the terminated run").isNotNull();
        assertThat(latencyMs).isLessThan(MAX_LATENCY_MS);
        assertThat(c.callsInFlight()).isZero();
    }

    @Test
    void interruptingTheThreadTerminatesTheCallInFlight() throws Exception {
        Cancellation c = Cancellation.start(Optional.empty());
        AtomicReference<Thread> thread = new AtomicReference<>();
        CompletableFuture<Throwable> outcome = runInBackground(c, thread);
        awaitInFlight(c);
        long t0 = System.nanoTime();
        thread.get().interrupt();
        Throwable thrown = outcome.get(60, TimeUnit.SECONDS);
        long latencyMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("in-flight interrupt latency: " + latencyMs + " ms");
        assertThat(thrown).isInstanceOf(GenerationCancelledException.class).hasMessageContaining("interrupted");
        assertThat(latencyMs).isLessThan(MAX_LATENCY_MS);
    }

    @Test
    void aPassedDeadlineTerminatesTheCallInFlight() throws Exception {
        // well under one run of the slow model (about 300 ms on an idle 2-core machine), so the limit passes in flight
        long limitMs = 100;
        long t0 = System.nanoTime();
        Cancellation c = Cancellation.start(Optional.of(Duration.ofMillis(limitMs)));
        Throwable thrown = runInBackground(c, new AtomicReference<>()).get(60, TimeUnit.SECONDS);
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("in-flight timeout: stopped " + (elapsedMs - limitMs) + " ms after the " + limitMs
                + " ms limit");
        assertThat(thrown).isInstanceOf(GenerationTimeoutException.class)
                .isNotInstanceOf(GenerationCancelledException.class)
                .hasMessageContaining("time limit of " + limitMs + " ms");
        assertThat(elapsedMs).isGreaterThanOrEqualTo(limitMs).isLessThan(limitMs + MAX_LATENCY_MS);
    }

    @Test
    void aStoppedSignalRefusesTheNextCallBeforeItStarts() {
        Cancellation c = Cancellation.start(Optional.empty());
        c.cancel();
        try (Cancellation.Scope scope = c.enter()) {
            long t0 = System.nanoTime();
            Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(
                    () -> slow.run(Map.of("x", input())));
            assertThat(thrown).isInstanceOf(GenerationCancelledException.class);
            assertThat(thrown.getCause()).as("refused before ONNX Runtime ran").isNull();
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(MAX_LATENCY_MS);
        }
    }

    @Test
    void withoutASignalCallsRunAsBefore() {
        assertThat(Cancellation.current()).isEmpty();
        Map<String, io.conditio.api.Tensor> out = slow.run(Map.of("x", FloatTensor.full(0.5f, 1, 256)));
        assertThat(out.get("y").shape()).containsExactly(1, 256);
    }
}
