package io.conditio.cli;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.Model;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.core.Conditio;
import io.conditio.core.onnx.Binding;
import io.conditio.core.pipeline.Pipeline;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code conditio bench}: the per-step time of the denoise loop next to the time of a bare UNet call with the same
 * input shapes, measured in the same process after warm-up. Reports medians over the timed runs.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure the denoise loop's per-step time against bare UNet calls on one model.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model folder (default: $CONDITIO_MODEL, else the shipped shapes model).")
    Path model;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "a red circle on a white background")
    String prompt;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "20", description = "Steps per generation.")
    int steps;

    @Option(names = "--scheduler", paramLabel = "NAME", description = "Scheduler (default: the model folder's).")
    String scheduler;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "3", description = "Untimed generations first.")
    int warmup;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "10", description = "Timed generations.")
    int runs;

    @Option(names = "--plugins", paramLabel = "DIR", description = "Plugin directory.")
    Path plugins;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (runs < 1) {
            throw new io.conditio.api.InvalidRequestException("--runs " + runs + ": at least 1 timed run is needed");
        }
        try (Conditio conditio = Conditio.start(List.of(ConditioCli.pluginDirectory(plugins)));
                Pipeline pipeline = conditio.open(ConditioCli.modelDirectory(model))) {
            GenerationRequest.Builder b = GenerationRequest.builder().setPrompt(prompt).optSteps(steps).optSeed(0);
            if (scheduler != null) {
                b.optScheduler(scheduler);
            }
            GenerationRequest request = b.build();
            GenerationResult last = null;
            for (int i = 0; i < warmup; i++) {
                last = pipeline.generate(request);
            }
            double[] step = new double[runs];
            double[] unetInLoop = new double[runs];
            double[] total = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                last = pipeline.generate(request);
                total[i] = (System.nanoTime() - t0) / 1e6;
                step[i] = last.timings().meanStepMillis();
                unetInLoop[i] = last.timings().meanUnetMillis();
            }
            Model unet = pipeline.folder().model("unet");
            Map<String, Tensor> feed = syntheticFeed(unet, last.latents().shape());
            int calls = Math.max(1, last.timings().modelCalls());
            double[] bare = new double[runs * calls];
            double[] bound = new double[runs * calls];
            try (Binding binding = pipeline.folder().model("unet").bind()) {
                for (int i = 0; i < warmup * calls; i++) {
                    unet.run(feed);
                    binding.run(feed);
                }
                // interleaved, so both see the same machine load
                for (int i = 0; i < bare.length; i++) {
                    long t0 = System.nanoTime();
                    unet.run(feed);
                    long t1 = System.nanoTime();
                    binding.run(feed);
                    long t2 = System.nanoTime();
                    bare[i] = (t1 - t0) / 1e6;
                    bound[i] = (t2 - t1) / 1e6;
                }
            }
            out.printf(Locale.ROOT, "model %s, %d steps (%d UNet calls), scheduler %s, %d warm-up + %d timed runs%n",
                    pipeline.folder().root(), steps, calls, last.provenance().get("scheduler"), warmup, runs);
            out.printf(Locale.ROOT, "generation total      median %8.2f ms%n", median(total));
            out.printf(Locale.ROOT, "loop per step         median %8.3f ms%n", median(step));
            out.printf(Locale.ROOT, "UNet call in the loop median %8.3f ms%n", median(unetInLoop));
            out.printf(Locale.ROOT, "bare UNet call        median %8.3f ms  (batch %d, %d calls)%n", median(bare),
                    (Integer) ((FloatTensor) feed.get("sample")).dim(0), bare.length);
            out.printf(Locale.ROOT, "bare UNet call, bound buffers median %8.3f ms%n", median(bound));
            out.printf(Locale.ROOT, "loop overhead per step        %8.3f ms%n", median(step) - median(bound));
        }
        return 0;
    }

    /** Inputs with the loop's shapes: guidance batch of 2, the latent size, 77 tokens of the encoder width. */
    private static Map<String, Tensor> syntheticFeed(Model unet, int[] latentShape) {
        Map<String, Tensor> feed = new LinkedHashMap<>();
        for (TensorSpec s : unet.inputs().values()) {
            long[] declared = s.shape();
            int[] shape = new int[declared.length];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = declared[i] > 0 ? (int) declared[i] : 1;
            }
            switch (s.name()) {
                case "sample" -> shape = new int[] {2, shape[1], latentShape[2], latentShape[3]};
                case "timestep" -> shape = shape.length == 0 ? new int[0] : new int[] {2};
                case "encoder_hidden_states" -> {
                    shape[0] = 2;
                    shape[1] = declared[1] > 0 ? (int) declared[1] : 77;
                }
                default -> {
                    if (shape.length > 0) {
                        shape[0] = 2;
                    }
                }
            }
            FloatTensor t = FloatTensor.zeros(shape);
            Arrays.fill(t.array(), s.name().equals("timestep") ? 500f : 0.1f);
            feed.put(s.name(), t);
        }
        return feed;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
