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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Images per second with 1, 2 and 4 generations at once on one shared pipeline (20 DDIM steps each): JMH's
 * throughput summed over the threads, in images/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 4)
@Fork(1)
@State(Scope.Benchmark)
public class ConcurrencyBenchmark {
    @Param({"64", "256"})
    public int size;

    private Fixture fixture;
    private GenerationRequest request;

    @Setup(Level.Trial)
    public void open() {
        fixture = new Fixture();
        request = Fixture.request(size, 20);
        fixture.pipeline.generate(request);
    }

    @TearDown(Level.Trial)
    public void close() {
        fixture.close();
    }

    @Benchmark
    @Threads(1)
    public GenerationResult concurrent1() {
        return fixture.pipeline.generate(request);
    }

    @Benchmark
    @Threads(2)
    public GenerationResult concurrent2() {
        return fixture.pipeline.generate(request);
    }

    @Benchmark
    @Threads(4)
    public GenerationResult concurrent4() {
        return fixture.pipeline.generate(request);
    }
}
