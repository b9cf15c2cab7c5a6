package io.conditio.bench;

import io.conditio.core.onnx.Replay;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor: the 20 UNet calls of one real 20-step generation, their feeds recorded and made native tensors once,
 * replayed as bare ONNX Runtime calls into outputs allocated once. Reported per UNet call (one per DDIM step), for
 * {@code images} images per prompt as {@link LoopBenchmark} makes them (one UNet batch of 2 × images with guidance).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class UnetReplayBenchmark {
    static final int STEPS = 20;

    @Param({"64", "128", "256", "512"})
    public int size;

    @Param({"1", "2", "4"})
    public int images;

    private Fixture fixture;
    private Replay replay;

    @Setup(Level.Trial)
    public void record() {
        fixture = new Fixture();
        replay = Replay.record(fixture.pipeline.folder().model("unet"),
                () -> fixture.pipeline.generate(Fixture.request(size, STEPS, images)));
        if (replay.calls() != STEPS) {
            throw new IllegalStateException("recorded " + replay.calls() + " UNet calls; DDIM at " + STEPS
                    + " steps makes " + STEPS);
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        replay.close();
        fixture.close();
    }

    @Benchmark
    @OperationsPerInvocation(STEPS)
    public long unetCall() {
        return replay.run();
    }
}
