package io.conditio.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.ConditioException;
import io.conditio.api.GenerationResult;
import io.conditio.api.StepTimings;
import io.conditio.core.image.PngImages;
import io.conditio.core.recipe.Recipe;
import io.conditio.core.recipe.Reproduction;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * The executor side: generates a partition's requests one after another on this JVM's shared pipeline, writes each
 * PNG (or keeps its bytes for the Parquet table) and its manifest line as soon as it is done. A request that fails is
 * recorded with its error and the partition goes on.
 */
final class GeneratePartition implements FlatMapFunction<Iterator<BatchRequest>, Outcome>, Serializable {
    private static final long serialVersionUID = 1L;

    private final String out;
    private final boolean parquet;
    private final String model;
    private final String plugins;
    private final boolean shipped;

    /**
     * @param out     the output folder (a path every executor sees)
     * @param parquet true to return PNG bytes for the table instead of writing files
     * @param model   the default model folder: a path, or with {@code shipped} the name it was added under
     * @param plugins the plugin folder: a path, or with {@code shipped} the name it was added under
     * @param shipped true when model and plugins were shipped with {@code SparkContext.addFile}
     */
    GeneratePartition(String out, boolean parquet, String model, String plugins, boolean shipped) {
        this.out = out;
        this.parquet = parquet;
        this.model = model;
        this.plugins = plugins;
        this.shipped = shipped;
    }

    @Override
    public Iterator<Outcome> call(Iterator<BatchRequest> requests) {
        TaskContext task = TaskContext.get();
        int threads = task == null ? 1 : Math.max(1, task.cpus());
        Path outDir = Path.of(out);
        Path defaultModel = local(model);
        Path pluginDir = local(plugins);
        String executor = SparkEnv.get() == null ? "?" : SparkEnv.get().executorId();
        List<Outcome> outcomes = new ArrayList<>();
        String part = "part-" + (task == null ? 0 : task.partitionId()) + "-" + (task == null ? 0
                : task.attemptNumber());
        try (Manifest.PartWriter manifest = new Manifest.PartWriter(outDir, part)) {
            while (requests.hasNext()) {
                Outcome o = generate(requests.next(), outDir, defaultModel, pluginDir, threads, executor);
                // in Parquet mode an image is done only once the table is committed: the part file records failures
                if (!parquet || !o.ok()) {
                    manifest.append(o.manifest());
                }
                outcomes.add(o);
            }
        }
        return outcomes.iterator();
    }

    private Path local(String path) {
        return shipped ? Path.of(SparkFiles.get(path)) : Path.of(path);
    }

    private Outcome generate(BatchRequest request, Path outDir, Path defaultModel, Path pluginDir, int threads,
            String executor) {
        long t0 = System.nanoTime();
        ObjectNode record = RecipeMapping.JSON.createObjectNode();
        record.put("id", request.id());
        try {
            Recipe recipe = RecipeMapping.recipe(request);
            ExecutorRuntime.Host host = ExecutorRuntime.host(recipe.model().orElse(defaultModel), pluginDir, threads);
            GenerationResult result = host.pipeline().generate(
                    recipe.toRequestBuilder(host.conditio().parameters()).build());
            Map<String, String> provenance = result.provenance().entries();
            byte[] png = PngImages.encode(result.image(), provenance);
            String file = request.id() + ".png";
            if (!parquet) {
                Path tmp = outDir.resolve("." + file + "." + executor + ".tmp");
                Files.write(tmp, png);
                Files.move(tmp, outDir.resolve(file), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            }
            record.put("status", "ok");
            record.putNull("error");
            record.put("output", parquet ? null : file);
            record.put("seed", Long.parseLong(provenance.get("seed")));
            ObjectNode settings = record.putObject("settings");
            provenance.forEach((k, v) -> {
                // the manifest keeps the request line itself; the PNG's recipe entry inlines its images
                if (!k.startsWith("timing.") && !k.equals(Reproduction.RECIPE_KEY)) {
                    settings.put(k, v);
                }
            });
            timings(record, t0, result.timings());
            finish(record, request, executor);
            return new Outcome(request.id(), true, RecipeMapping.JSON.writeValueAsString(record),
                    parquet ? png : null);
        } catch (RuntimeException | IOException | LinkageError e) {
            record.put("status", "failed");
            record.put("error", describe(e));
            record.putNull("output");
            JsonNode seed = RecipeMapping.JSON.valueToTree(seedOf(request));
            record.set("seed", seed);
            timings(record, t0, null);
            finish(record, request, executor);
            try {
                return new Outcome(request.id(), false, RecipeMapping.JSON.writeValueAsString(record), null);
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
        }
    }

    private static Long seedOf(BatchRequest request) {
        try {
            JsonNode n = RecipeMapping.JSON.readTree(request.json()).get("seed");
            return n != null && n.isIntegralNumber() ? n.asLong() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static void timings(ObjectNode record, long t0, StepTimings t) {
        ObjectNode timings = record.putObject("timings");
        timings.put("total_ms", (System.nanoTime() - t0) / 1e6);
        if (t != null) {
            timings.put("prepare_ms", t.prepareNanos() / 1e6);
            timings.put("loop_ms", t.loopNanos() / 1e6);
            timings.put("unet_ms", t.unetNanos() / 1e6);
            timings.put("decode_ms", t.decodeNanos() / 1e6);
            timings.put("model_calls", t.modelCalls());
        }
    }

    private static void finish(ObjectNode record, BatchRequest request, String executor) {
        record.put("executor", executor);
        record.put("finished_at", Instant.now().toString());
        try {
            record.set("request", RecipeMapping.JSON.readTree(request.json()));
        } catch (IOException e) {
            record.put("request", request.json());
        }
    }

    static String describe(Throwable e) {
        String msg = e.getMessage() == null ? "" : e.getMessage();
        return e instanceof ConditioException || e instanceof UncheckedIOException ? msg
                : e.getClass().getSimpleName() + (msg.isEmpty() ? "" : ": " + msg);
    }
}
