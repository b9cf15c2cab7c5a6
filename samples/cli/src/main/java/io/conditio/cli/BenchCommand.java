package io.conditio.cli;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.core.Conditio;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.onnx.Replay;
import io.conditio.core.pipeline.Pipeline;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code conditio bench}: the denoise loop's time per UNet call next to its floor, the same UNet calls replayed bare
 * (the feeds recorded from one real generation, made native tensors once, outputs pinned), in the same process after
 * warm-up, loop and replay interleaved round by round so both see the same machine load. Also the Java heap the
 * loop allocates per step, from the thread allocation counter: (40-step generation − 20-step generation) / 20.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure the denoise loop's time per UNet call against the same UNet calls replayed bare, and "
                + "the Java heap it allocates per step.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model folder (" + ConditioCli.MODEL_DEFAULT + ").")
    Path model;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "a red circle on a white background")
    String prompt;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "20", description = "Steps per generation.")
    int steps;

    @Option(names = "--size", paramLabel = "PX", split = ",",
            description = "Square image sizes to measure, e.g. 64,128,256,512 (default: the model's size).")
    List<Integer> sizes;

    @Option(names = "--scheduler", paramLabel = "NAME", description = "Scheduler (default: the model folder's).")
    String scheduler;

    @Option(names = "--num-images", paramLabel = "N", split = ",",
            description = "Images per prompt to measure, each count as one UNet batch, e.g. 1,2,4 (default: 1).")
    List<Integer> imageCounts;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "3", description = "Untimed generations first.")
    int warmup;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "10",
            description = "Timed rounds (one generation and one replay each).")
    int runs;

    @Option(names = "--no-alloc", negatable = false,
            description = "Skip the heap-per-step measurement (it runs 20- and 40-step generations).")
    boolean noAlloc;

    @Option(names = "--json", negatable = false,
            description = "Print one JSON object per size instead of the table.")
    boolean json;

    @Option(names = "--concurrency", paramLabel = "N", split = ",",
            description = "Also measure images/s with N generations at once on the one pipeline, e.g. 1,2,4"
                    + " (each of the N threads makes --runs images after one untimed round).")
    List<Integer> concurrency;

    @Option(names = "--plugins", paramLabel = "DIR", description = "Plugin directory.")
    Path plugins;

    /** One size's figures; times in ms, medians over the rounds. */
    record Figures(String scheduler, int width, int height, int images, int steps, int unetCalls, double totalMs,
                   double loopMsPerCall,
                   double unetInLoopMs, double replayMsPerCall, double ratio, double heapBytesPerStep, int rounds,
                   Map<Integer, Double> imagesPerSecond) {
    }

    @Mixin
    SessionFlags sessionFlags = new SessionFlags();

    @Override
    public Integer call() throws Exception {
        return sessionFlags.around(this::execute);
    }

    private Integer execute() {
        PrintWriter out = spec.commandLine().getOut();
        if (runs < 1) {
            throw new InvalidRequestException("--runs " + runs + ": at least 1 timed run is needed");
        }
        if (steps < 1) {
            throw new InvalidRequestException("--steps " + steps + ": at least 1 step is needed");
        }
        if (concurrency != null) {
            for (int n : concurrency) {
                if (n < 1) {
                    throw new InvalidRequestException("--concurrency " + n + ": expected a positive number of"
                            + " generations at once");
                }
            }
        }
        if (imageCounts != null) {
            for (int n : imageCounts) {
                if (n < 1 || n > GenerationRequest.MAX_IMAGES_PER_PROMPT) {
                    throw new InvalidRequestException("--num-images " + n + ": expected 1 to "
                            + GenerationRequest.MAX_IMAGES_PER_PROMPT + " images per prompt");
                }
            }
        }
        if (sizes != null) {
            for (int s : sizes) {
                if (s < 8 || s % 8 != 0) {
                    throw new InvalidRequestException("--size " + s + ": expected a positive multiple of 8 pixels");
                }
            }
        }
        try (Conditio conditio = Conditio.start(List.of(ConditioCli.pluginDirectory(plugins)));
                Pipeline pipeline = conditio.open(ConditioCli.modelDirectory(model))) {
            List<Integer> todo = sizes == null || sizes.isEmpty() ? java.util.Collections.singletonList(null) : sizes;
            List<Integer> counts = imageCounts == null || imageCounts.isEmpty() ? List.of(1) : imageCounts;
            boolean header = false;
            for (Integer size : todo) {
                for (int images : counts) {
                    header = report(out, pipeline, measure(pipeline, size, images), header);
                }
            }
            if (!json) {
                out.println("loop per step = the loop's time / UNet calls; replayed UNet = the same calls on the "
                        + "generation's recorded inputs, bare; ratio = median of loop/replay per round"
                        + (concurrency == null || concurrency.isEmpty() ? "" : "; images/s @N = N generations at"
                        + " once on the one pipeline, wall clock"));
            }
        }
        return 0;
    }

    /** Prints one measurement as a JSON line or a table row (with the table's header first). */
    private boolean report(PrintWriter out, Pipeline pipeline, Figures f, boolean header) {
        if (json) {
            out.println(json(f, pipeline));
        } else {
            if (!header) {
                out.printf(Locale.ROOT, "model %s, %d steps (%d UNet calls), scheduler %s, %d warm-up"
                        + " generations + %d timed rounds; times are medians%n", pipeline.folder().root(),
                        steps, f.unetCalls(), f.scheduler(), warmup, runs);
                out.printf(Locale.ROOT, "%9s %6s %12s %15s %15s %10s %7s %12s%s%n", "size", "images", "generation",
                        "loop per step", "UNet in loop", "replayed UNet", "ratio", "heap/step", throughputHeader(f));
            }
            out.printf(Locale.ROOT, "%9s %6d %9.2f ms %12.3f ms %12.3f ms %10.3f ms %7.3f %12s%s%n",
                    f.width() + "x" + f.height(), f.images(), f.totalMs(), f.loopMsPerCall(), f.unetInLoopMs(),
                    f.replayMsPerCall(), f.ratio(), f.heapBytesPerStep() < 0 ? "-"
                            : String.format(Locale.ROOT, "%.1f KB", f.heapBytesPerStep() / 1024),
                    throughputCells(f));
        }
        out.flush();
        return true;
    }

    private GenerationRequest request(Integer size, int images, int stepCount) {
        GenerationRequest.Builder b = GenerationRequest.builder().setPrompt(prompt).optSteps(stepCount).optSeed(0)
                .optImagesPerPrompt(images);
        if (size != null) {
            b.optSize(size, size);
        }
        if (scheduler != null) {
            b.optScheduler(scheduler);
        }
        return b.build();
    }

    private Figures measure(Pipeline pipeline, Integer size, int images) {
        GenerationRequest request = request(size, images, steps);
        GenerationResult last = null;
        for (int i = 0; i < Math.max(1, warmup); i++) {
            last = pipeline.generate(request);
        }
        OnnxModel unet = pipeline.folder().model("unet");
        double[] total = new double[runs];
        double[] loop = new double[runs];
        double[] inLoop = new double[runs];
        double[] replayed = new double[runs];
        double[] ratio = new double[runs];
        GenerationResult[] recorded = new GenerationResult[1];
        try (Replay replay = Replay.record(unet, () -> recorded[0] = pipeline.generate(request))) {
            for (int i = 0; i < warmup; i++) {
                replay.run();
            }
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                last = pipeline.generate(request);
                total[i] = (System.nanoTime() - t0) / 1e6;
                long floor = replay.run();
                int calls = Math.max(1, last.timings().modelCalls());
                loop[i] = last.timings().meanStepMillis();
                inLoop[i] = last.timings().meanUnetMillis();
                replayed[i] = floor / 1e6 / replay.calls();
                ratio[i] = last.timings().loopNanos() / (double) floor * replay.calls() / calls;
            }
        }
        double heap = noAlloc ? -1 : heapPerStep(pipeline, size, images);
        Map<Integer, Double> throughput = new LinkedHashMap<>();
        if (concurrency != null) {
            for (int n : concurrency) {
                throughput.put(n, imagesPerSecond(pipeline, request, n));
            }
        }
        return new Figures(String.valueOf(last.provenance().get("scheduler")), last.image().width(),
                last.image().height(), images, steps, last.timings().modelCalls(), median(total), median(loop),
                median(inLoop), median(replayed), median(ratio), heap, runs, throughput);
    }

    /**
     * Images per second with {@code n} generations at once on the pipeline: n threads, each making one untimed image
     * and then {@code runs} timed ones, started together; all images over the wall time from start to the last one.
     */
    private double imagesPerSecond(Pipeline pipeline, GenerationRequest request, int n) {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(n + 1);
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < n; t++) {
                done.add(pool.submit(() -> {
                    pipeline.generate(request);
                    start.await();
                    for (int i = 0; i < runs; i++) {
                        pipeline.generate(request);
                    }
                    return null;
                }));
            }
            start.await();
            long t0 = System.nanoTime();
            for (java.util.concurrent.Future<?> f : done) {
                f.get();
            }
            return n * (double) runs / ((System.nanoTime() - t0) / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring " + n + " generations at once", e);
        } catch (java.util.concurrent.BrokenBarrierException e) {
            throw new IllegalStateException("a generation failed while measuring " + n + " at once", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("a generation failed while measuring " + n + " at once: "
                    + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static String throughputHeader(Figures f) {
        StringBuilder b = new StringBuilder();
        f.imagesPerSecond().keySet().forEach(n -> b.append(String.format(Locale.ROOT, " %11s", "images/s @" + n)));
        return b.toString();
    }

    private static String throughputCells(Figures f) {
        StringBuilder b = new StringBuilder();
        f.imagesPerSecond().values().forEach(v -> b.append(String.format(Locale.ROOT, " %11.2f", v)));
        return b.toString();
    }

    /** Bytes the generating thread allocates per extra step: (40 steps − 20 steps) / 20, median of 3. */
    private double heapPerStep(Pipeline pipeline, Integer size, int images) {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        if (!(mx instanceof com.sun.management.ThreadMXBean threads) || !threads.isThreadAllocatedMemorySupported()) {
            return -1;
        }
        threads.setThreadAllocatedMemoryEnabled(true);
        long id = Thread.currentThread().getId();
        GenerationRequest twenty = request(size, images, 20);
        GenerationRequest forty = request(size, images, 40);
        pipeline.generate(forty);
        double[] perStep = new double[3];
        for (int i = 0; i < perStep.length; i++) {
            long a0 = threads.getThreadAllocatedBytes(id);
            pipeline.generate(twenty);
            long a1 = threads.getThreadAllocatedBytes(id);
            pipeline.generate(forty);
            long a2 = threads.getThreadAllocatedBytes(id);
            perStep[i] = ((a2 - a1) - (a1 - a0)) / 20.0;
        }
        return median(perStep);
    }

    private static String json(Figures f, Pipeline pipeline) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("model", pipeline.folder().root().toString());
        m.put("scheduler", f.scheduler());
        m.put("width", f.width());
        m.put("height", f.height());
        m.put("images_per_prompt", f.images());
        m.put("steps", f.steps());
        m.put("unet_calls", f.unetCalls());
        m.put("rounds", f.rounds());
        m.put("generation_ms", round(f.totalMs()));
        m.put("loop_ms_per_step", round(f.loopMsPerCall()));
        m.put("unet_in_loop_ms", round(f.unetInLoopMs()));
        m.put("replayed_unet_ms", round(f.replayMsPerCall()));
        m.put("ratio", round(f.ratio()));
        m.put("heap_bytes_per_step", f.heapBytesPerStep() < 0 ? null : Math.round(f.heapBytesPerStep()));
        if (!f.imagesPerSecond().isEmpty()) {
            Map<String, Object> ips = new LinkedHashMap<>();
            f.imagesPerSecond().forEach((n, v) -> ips.put(Integer.toString(n), round(v)));
            m.put("images_per_second", ips);
        }
        io.conditio.core.onnx.SessionSettings s = pipeline.folder().sessionSettings();
        m.put("intra_op_threads", s.intraOpThreads());
        m.put("device", pipeline.folder().model("unet").device().toString());
        return io.conditio.core.json.Json.write(m);
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
