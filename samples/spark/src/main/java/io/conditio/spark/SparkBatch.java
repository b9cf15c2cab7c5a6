package io.conditio.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.InvalidRequestException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A batch of recipe requests generated on Spark. The driver reads the requests file (one recipe JSON object per
 * line), expands the sweep, skips what an earlier run with the same output already finished, deals the rest into
 * cost-balanced partitions and runs them; executors generate with one shared pipeline per JVM
 * ({@link ExecutorRuntime}).
 *
 * <pre>{@code
 * BatchReport report = SparkBatch.builder()
 *         .requests(Path.of("requests.jsonl")).out(Path.of("out"))
 *         .model(Path.of("models/shapes")).plugins(Path.of("plugins"))
 *         .build().run(spark);
 * }</pre>
 */
public final class SparkBatch {
    /** Output format. */
    public enum Format {
        /** {@code DIR/<id>.png} with the provenance in text chunks */
        PNG,
        /** one Parquet table {@code DIR/images.parquet} with the PNG bytes and settings columns */
        PARQUET
    }

    /** The Parquet table's folder under the output folder. */
    public static final String TABLE = "images.parquet";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("png", DataTypes.BinaryType, false)
            .add("prompt", DataTypes.StringType)
            .add("negative_prompt", DataTypes.StringType)
            .add("seed", DataTypes.LongType)
            .add("steps", DataTypes.IntegerType)
            .add("guidance_scale", DataTypes.DoubleType)
            .add("width", DataTypes.IntegerType)
            .add("height", DataTypes.IntegerType)
            .add("scheduler", DataTypes.StringType)
            .add("settings", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType))
            .add("total_ms", DataTypes.DoubleType)
            .add("manifest", DataTypes.StringType);

    private final Path requests;
    private final Path sweep;
    private final Path out;
    private final Format format;
    private final Path model;
    private final Path plugins;
    private final boolean ship;
    private final int partitions;

    private SparkBatch(Builder b) {
        this.requests = b.requests;
        this.sweep = b.sweep;
        this.out = Objects.requireNonNull(b.out, "out").toAbsolutePath().normalize();
        this.format = b.format;
        this.model = Objects.requireNonNull(b.model, "model").toAbsolutePath().normalize();
        this.plugins = Objects.requireNonNull(b.plugins, "plugins").toAbsolutePath().normalize();
        this.ship = b.ship;
        this.partitions = b.partitions;
        if (requests == null && sweep == null) {
            throw new InvalidRequestException("give a requests file, a sweep file or both");
        }
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the requests and expands the sweep, on the driver.
     *
     * @return the requests in input order, and the records of lines that could not be read (as failures)
     */
    Parsed parse() {
        List<BatchRequest> list = new ArrayList<>();
        Map<String, JsonNode> rejected = new LinkedHashMap<>();
        Sweep s = sweep == null ? null : Sweep.parse(read(sweep));
        List<String> lines;
        Path base;
        if (requests != null) {
            lines = read(requests).lines().toList();
            base = requests.toAbsolutePath().normalize().getParent();
        } else {
            lines = List.of("{\"id\": \"sweep\"}");
            base = sweep.toAbsolutePath().normalize().getParent();
        }
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("//")) {
                continue;
            }
            String where = (requests == null ? "sweep" : requests.getFileName()) + " line " + (i + 1);
            ObjectNode o;
            try {
                o = RecipeMapping.parse(line);
            } catch (InvalidRequestException e) {
                reject(rejected, "line-" + (i + 1), where + ": " + e.getMessage(), line);
                continue;
            }
            String id = o.hasNonNull("id") ? o.get("id").asText() : "r-" + digest(line);
            if (!ID.matcher(id).matches()) {
                reject(rejected, "line-" + (i + 1), where + ": id '" + id + "' must be 1-128 letters, digits, "
                        + "'.', '_' or '-' (it names the output file)", line);
                continue;
            }
            o.put("id", id);
            List<Map.Entry<String, ObjectNode>> expanded = s == null ? List.of(Map.entry(id, o)) : s.expand(id, o);
            for (Map.Entry<String, ObjectNode> e : expanded) {
                Integer first = seen.putIfAbsent(e.getKey(), i + 1);
                if (first != null) {
                    reject(rejected, e.getKey() + "-line-" + (i + 1), where + ": duplicate id '" + e.getKey()
                            + "' (first on line " + first + ")", line);
                    continue;
                }
                list.add(new BatchRequest(e.getKey(), e.getValue().toString(), base.toString(), cost(e.getValue())));
            }
        }
        return new Parsed(list, rejected);
    }

    record Parsed(List<BatchRequest> requests, Map<String, JsonNode> rejected) {
    }

    private static void reject(Map<String, JsonNode> rejected, String id, String error, String line) {
        ObjectNode r = RecipeMapping.JSON.createObjectNode();
        r.put("id", id);
        r.put("status", "failed");
        r.put("error", error);
        r.putNull("output");
        r.put("request", line);
        rejected.put(id, r);
    }

    /** Relative cost: steps × pixels × (2 with a ControlNet), unknowns at the shipped model's defaults. */
    static double cost(JsonNode r) {
        double steps = r.path("steps").asDouble(20);
        double w = r.path("width").asDouble(64);
        double h = r.path("height").asDouble(w);
        double nets = 1 + r.path("parameters").path("controlnets").size();
        return steps * w * h * nets;
    }

    /**
     * Deals requests into partitions of about equal cost: most expensive first, each to the lightest partition.
     *
     * @param todo  the requests
     * @param count the number of partitions
     * @return the partitions, none empty
     */
    static List<List<BatchRequest>> balance(List<BatchRequest> todo, int count) {
        int n = Math.max(1, Math.min(count, todo.size()));
        List<List<BatchRequest>> parts = new ArrayList<>();
        double[] load = new double[n];
        for (int i = 0; i < n; i++) {
            parts.add(new ArrayList<>());
        }
        List<BatchRequest> sorted = new ArrayList<>(todo);
        sorted.sort((a, b) -> Double.compare(b.cost(), a.cost()));
        for (BatchRequest r : sorted) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (load[i] < load[best]) {
                    best = i;
                }
            }
            parts.get(best).add(r);
            load[best] += r.cost();
        }
        parts.removeIf(List::isEmpty);
        return parts;
    }

    /**
     * Runs the batch.
     *
     * @param spark the session (its master decides where the work runs)
     * @return counts and timing
     */
    public BatchReport run(SparkSession spark) {
        Parsed parsed = parse();
        boolean parquet = format == Format.PARQUET;
        Map<String, JsonNode> records = Manifest.read(out);
        Set<String> inTable = parquet ? tableIds(spark) : Set.of();
        if (parquet) {
            readTable(spark, records);
        }
        List<BatchRequest> todo = new ArrayList<>();
        for (BatchRequest r : parsed.requests()) {
            JsonNode done = records.get(r.id());
            boolean isDone = done != null && Manifest.ok(done)
                    && (parquet ? inTable.contains(r.id()) : Files.isRegularFile(out.resolve(r.id() + ".png")));
            if (!isDone) {
                todo.add(r);
            }
        }
        int skipped = parsed.requests().size() - todo.size();
        long t0 = System.nanoTime();
        int generated = 0;
        int failed = parsed.rejected().size();
        parsed.rejected().values().forEach(r -> Manifest.add(records, r));
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("could not create " + out + ": " + e.getMessage(), e);
        }
        if (!todo.isEmpty()) {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            String modelRef = model.toString();
            String pluginRef = plugins.toString();
            if (ship) {
                jsc.sc().addFile(model.toString(), true);
                jsc.sc().addFile(plugins.toString(), true);
                modelRef = model.getFileName().toString();
                pluginRef = plugins.getFileName().toString();
            }
            int count = partitions > 0 ? partitions : jsc.defaultParallelism() * 3;
            List<List<BatchRequest>> groups = balance(todo, count);
            GeneratePartition task = new GeneratePartition(out.toString(), parquet, modelRef, pluginRef, ship);
            JavaRDD<Outcome> outcomes = jsc.parallelize(groups, groups.size())
                    .flatMap(List::iterator)
                    .mapPartitions(task);
            jsc.setJobDescription("conditio: " + todo.size() + " requests in " + groups.size() + " partitions");
            try {
                if (parquet) {
                    Dataset<Row> table = spark.createDataFrame(outcomes.filter(Outcome::ok).map(SparkBatch::row),
                            SCHEMA);
                    // tasks commit straight into the table, so a stopped job keeps its finished partitions
                    spark.sparkContext().hadoopConfiguration()
                            .set("mapreduce.fileoutputcommitter.algorithm.version", "2");
                    table.write().mode(SaveMode.Append).parquet(out.resolve(TABLE).toString());
                } else {
                    outcomes.foreach(o -> { });
                }
            } finally {
                // what executors recorded (all of it, even when the job was stopped) goes into the manifest
                Map<String, JsonNode> after = Manifest.read(out);
                after.values().forEach(r -> Manifest.add(records, r));
                if (parquet) {
                    readTable(spark, records);
                }
                Set<String> ids = new HashSet<>();
                todo.forEach(r -> ids.add(r.id()));
                for (String id : ids) {
                    JsonNode r = records.get(id);
                    if (r != null && Manifest.ok(r)) {
                        generated++;
                    } else if (r != null) {
                        failed++;
                    }
                }
                writeManifest(spark, parsed, records, parquet);
            }
        } else {
            writeManifest(spark, parsed, records, parquet);
        }
        return new BatchReport(parsed.requests().size(), skipped, generated, failed,
                (System.nanoTime() - t0) / 1e9, out.resolve(Manifest.FILE));
    }

    private void writeManifest(SparkSession spark, Parsed parsed, Map<String, JsonNode> records, boolean parquet) {
        List<String> order = new ArrayList<>();
        parsed.requests().forEach(r -> order.add(r.id()));
        order.addAll(parsed.rejected().keySet());
        Set<String> inTable = parquet ? tableIds(spark) : Set.of();
        Manifest.write(out, records, order, r -> !Manifest.ok(r) || (parquet ? inTable.contains(r.get("id").asText())
                : Files.isRegularFile(out.resolve(r.get("id").asText() + ".png"))));
    }

    private Set<String> tableIds(SparkSession spark) {
        Set<String> ids = new HashSet<>();
        if (Files.isDirectory(out.resolve(TABLE))) {
            for (Row r : spark.read().parquet(out.resolve(TABLE).toString()).select("id").collectAsList()) {
                ids.add(r.getString(0));
            }
        }
        return ids;
    }

    private void readTable(SparkSession spark, Map<String, JsonNode> records) {
        if (!Files.isDirectory(out.resolve(TABLE))) {
            return;
        }
        for (Row r : spark.read().parquet(out.resolve(TABLE).toString()).select("manifest").collectAsList()) {
            try {
                Manifest.add(records, RecipeMapping.JSON.readTree(r.getString(0)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static Row row(Outcome o) throws IOException {
        JsonNode m = RecipeMapping.JSON.readTree(o.manifest());
        JsonNode s = m.path("settings");
        Map<String, String> settings = new LinkedHashMap<>();
        s.fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
        return RowFactory.create(o.id(), o.png(), s.path("prompt").asText(), s.path("negative_prompt").asText(),
                m.path("seed").asLong(), s.path("steps").asInt(), s.path("guidance_scale").asDouble(),
                s.path("width").asInt(), s.path("height").asInt(), s.path("scheduler").asText(),
                scala.jdk.javaapi.CollectionConverters.asScala(settings),
                m.path("timings").path("total_ms").asDouble(), o.manifest());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidRequestException("could not read " + file.toAbsolutePath() + ": " + e.getMessage());
        }
    }

    private static String digest(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8))).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Builds a {@link SparkBatch}. */
    public static final class Builder {
        private Path requests;
        private Path sweep;
        private Path out;
        private Format format = Format.PNG;
        private Path model;
        private Path plugins;
        private boolean ship;
        private int partitions;

        private Builder() {
        }

        /**
         * @param file a JSON-lines file, one recipe request per line; relative paths in it are resolved against its
         *             folder
         * @return this builder
         */
        public Builder requests(Path file) {
            this.requests = file;
            return this;
        }

        /**
         * @param file a sweep file: lists per key, expanded into every request
         * @return this builder
         */
        public Builder sweep(Path file) {
            this.sweep = file;
            return this;
        }

        /**
         * @param dir the output folder (a path every executor sees)
         * @return this builder
         */
        public Builder out(Path dir) {
            this.out = dir;
            return this;
        }

        /**
         * @param format PNG files or one Parquet table
         * @return this builder
         */
        public Builder format(Format format) {
            this.format = Objects.requireNonNull(format, "format");
            return this;
        }

        /**
         * @param dir the model folder for requests that name none
         * @return this builder
         */
        public Builder model(Path dir) {
            this.model = dir;
            return this;
        }

        /**
         * @param dir the plugin folder
         * @return this builder
         */
        public Builder plugins(Path dir) {
            this.plugins = dir;
            return this;
        }

        /**
         * @param ship true to copy the model and plugin folders to every executor with
         *             {@code SparkContext.addFile(dir, true)}, false (default) to read them from a path every
         *             executor sees
         * @return this builder
         */
        public Builder ship(boolean ship) {
            this.ship = ship;
            return this;
        }

        /**
         * @param partitions the number of partitions (default: three per core of the cluster)
         * @return this builder
         */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        /** @return the batch */
        public SparkBatch build() {
            return new SparkBatch(this);
        }
    }
}
