package io.conditio.bench;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One whole generation (prompt encoding, the denoise loop, VAE decoding) at 20 and at 40 steps. The loop's cost per
 * step is the difference over 20 steps: {@code (generate@40 − generate@20) / 20}, for the time and, with
 * {@code -prof gc}, for {@code gc.alloc.rate.norm} (bytes per generation), so what is paid once per generation
 * cancels out. Compare it with {@link UnetReplayBenchmark}, the floor. {@code images} is the number of images per
 * prompt, made as one UNet batch.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class LoopBenchmark {
    @Param({"64", "128", "256", "512"})
    public int size;

    @Param({"20", "40"})
    public int steps;

    @Param({"1", "2", "4"})
    public int images;

    private Fixture fixture;
    private GenerationRequest request;

    @Setup(Level.Trial)
    public void open() {
        fixture = new Fixture();
        request = Fixture.request(size, steps, images);
        fixture.pipeline.generate(request);
    }

    @TearDown(Level.Trial)
    public void close() {
        fixture.close();
    }

    @Benchmark
    public GenerationResult generate() {
        return fixture.pipeline.generate(request);
    }
}
