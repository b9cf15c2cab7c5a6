package io.conditio.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.conditio.api.RgbImage;
import io.conditio.cli.ConditioCli;
import io.conditio.core.image.PngImages;
import io.conditio.core.recipe.Reproduction;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batch job in {@code local[2]} on the shipped model with the built plugin jars: 16 requests over two schedulers
 * and two conditioning methods (text, class label; one also with a ControlNet whose control image is a path
 * relative to the requests file) plus one that fails. Each image must be bit-identical to what {@code conditio
 * generate} (the CLI's own command, run in this JVM) writes for the same settings.
 */
class SparkBatchTest {
    static SparkSession spark;
    static Path model;
    static Path plugins;

    @BeforeAll
    static void start() {
        model = directory("conditio.shapesModel");
        plugins = directory("conditio.plugins");
        spark = SparkSession.builder().master("local[2]").appName("conditio-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    static Path directory(String property) {
        String v = System.getProperty(property);
        assertThat(v).as("system property " + property + " (set by the build)").isNotNull();
        Path p = Path.of(v);
        assertThat(p).isDirectory();
        return p;
    }

    /** One request: the JSON line and the CLI flags that mean the same. */
    record Case(String id, String json, List<String> flags) {
    }

    static List<Case> cases(Path work) throws Exception {
        Files.copy(directory("conditio.examples").resolve("control-triangle-bottom-right.png"),
                work.resolve("control.png"));
        String[] prompts = {"a red circle at the top left", "a large blue triangle", "a green square at the bottom",
            "a yellow cross at the center"};
        String[] schedulers = {"euler-a", "ddim"};
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String id = "req-" + i;
            String prompt = prompts[i % 4];
            String scheduler = schedulers[(i / 2) % 2];
            long seed = 100 + i;
            StringBuilder json = new StringBuilder("{\"id\": \"" + id + "\", \"prompt\": \"" + prompt
                    + "\", \"seed\": " + seed + ", \"steps\": 6, \"scheduler\": \"" + scheduler + "\"");
            List<String> flags = new ArrayList<>(List.of("--prompt", prompt, "--seed", Long.toString(seed),
                    "--steps", "6", "--scheduler", scheduler));
            if (i >= 8 && i < 15) {
                int label = i % 4;
                json.append(", \"parameters\": {\"class_label\": ").append(label).append('}');
                flags.addAll(List.of("--class-label", Integer.toString(label)));
            } else if (i == 15) {
                json.append(", \"guidance_scale\": 2.5, \"parameters\": {\"controlnets\": [{\"model\": \"")
                        .append(model.resolve("controlnet").toAbsolutePath())
                        .append("\", \"image\": \"control.png\", \"scale\": 0.9}]}");
                flags.addAll(List.of("--guidance", "2.5", "--controlnet", model.resolve("controlnet").toString(),
                        "--control-image", work.resolve("control.png").toString(), "--control-scale", "0.9"));
            }
            json.append('}');
            cases.add(new Case(id, json.toString(), flags));
        }
        return cases;
    }

    static Path writeRequests(Path work, List<Case> cases, String... extra) throws Exception {
        List<String> lines = new ArrayList<>();
        cases.forEach(c -> lines.add(c.json()));
        lines.addAll(List.of(extra));
        Path file = work.resolve("requests.jsonl");
        Files.write(file, lines);
        return file;
    }

    static RgbImage cli(Path out, List<String> flags) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--plugins",
                plugins.toString(), "--out", out.toString()));
        args.addAll(flags);
        StringWriter err = new StringWriter();
        int code = ConditioCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err),
                args.toArray(String[]::new));
        assertThat(code).as("conditio %s: %s", args, err).isZero();
        return PngImages.read(out);
    }

    static Map<String, JsonNode> manifest(Path out) throws Exception {
        Map<String, JsonNode> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out.resolve(Manifest.FILE))) {
            JsonNode n = RecipeMapping.JSON.readTree(line);
            assertThat(m.put(n.get("id").asText(), n)).as("one line per id").isNull();
        }
        return m;
    }

    @Test
    void generatesTheSameBitsAsTheCliRecordsFailuresAndResumes(@TempDir Path work) throws Exception {
        List<Case> cases = cases(work);
        Path requests = writeRequests(work, cases,
                "{\"id\": \"bad-scheduler\", \"prompt\": \"a red circle\", \"steps\": 4, \"scheduler\": \"no-such\"}",
                "{\"id\": \"not json\"",
                "{\"id\": \"bad-param\", \"prompt\": \"a red circle\", \"steps\": 4,"
                        + " \"parameters\": {\"class_lable\": 3}}");
        Path out = work.resolve("out");
        SparkBatch batch = SparkBatch.builder().requests(requests).out(out).model(model).plugins(plugins).build();
        int openedBefore = ExecutorRuntime.pipelinesOpened();
        boolean modelOpenBefore = ExecutorRuntime.openModels().contains(model.toAbsolutePath().normalize());

        BatchReport first = batch.run(spark);

        assertThat(first.requests()).isEqualTo(18);
        assertThat(first.generated()).as("%s", Files.exists(out.resolve(Manifest.FILE))
                ? Files.readString(out.resolve(Manifest.FILE)) : "no manifest").isEqualTo(16);
        assertThat(first.failed()).isEqualTo(3);
        assertThat(ExecutorRuntime.pipelinesOpened() - openedBefore)
                .as("one pipeline for the JVM, however many tasks").isEqualTo(modelOpenBefore ? 0 : 1);
        Map<String, JsonNode> manifest = manifest(out);
        assertThat(manifest).hasSize(19);
        assertThat(manifest.get("bad-param").get("error").asText()).as("validated by the plugins' declarations")
                .contains("class_lable").contains("class_label");
        assertThat(manifest.get("bad-scheduler").get("status").asText()).isEqualTo("failed");
        assertThat(manifest.get("bad-scheduler").get("error").asText()).contains("no-such");
        assertThat(manifest.get("line-18").get("error").asText()).contains("line 18").contains("not JSON");
        assertThat(out.resolve("bad-scheduler.png")).doesNotExist();

        Map<String, FileTime> written = new HashMap<>();
        for (Case c : cases) {
            Path png = out.resolve(c.id() + ".png");
            JsonNode record = manifest.get(c.id());
            assertThat(record.get("status").asText()).as(c.id()).isEqualTo("ok");
            assertThat(record.get("output").asText()).isEqualTo(c.id() + ".png");
            assertThat(record.get("timings").get("model_calls").asInt()).isPositive();
            RgbImage expected = cli(work.resolve("cli").resolve(c.id() + ".png"), c.flags());
            RgbImage actual = PngImages.read(png);
            assertThat(actual.width()).isEqualTo(expected.width());
            assertThat(actual.pixels()).as("%s: the same pixels as conditio generate %s", c.id(), c.flags())
                    .isEqualTo(expected.pixels());
            Map<String, String> text = PngImages.readText(png);
            Map<String, String> cliText = PngImages.readText(work.resolve("cli").resolve(c.id() + ".png"));
            for (String key : List.of("seed", "steps", "scheduler", "scheduler.config", "guidance", "plugins",
                    "width", "height", "prompt")) {
                assertThat(text.get(key)).as("%s provenance %s", c.id(), key).isEqualTo(cliText.get(key));
            }
            assertThat(record.get("settings").get("scheduler.config").asText())
                    .isEqualTo(text.get("scheduler.config"));
            assertThat(text).as("the PNG carries the recipe").containsKey(Reproduction.RECIPE_KEY);
            assertThat(record.get("settings").has(Reproduction.RECIPE_KEY))
                    .as("the manifest keeps the request line, not the recipe with its images inlined").isFalse();
            written.put(c.id(), Files.getLastModifiedTime(png));
        }
        // the two methods and the two schedulers really give different pictures
        assertThat(PngImages.read(out.resolve("req-0.png")).pixels())
                .isNotEqualTo(PngImages.read(out.resolve("req-8.png")).pixels());

        BatchReport second = batch.run(spark);

        assertThat(second.skipped()).isEqualTo(16);
        assertThat(second.generated()).isZero();
        assertThat(second.failed()).as("the failures are tried again").isEqualTo(3);
        for (Case c : cases) {
            assertThat(Files.getLastModifiedTime(out.resolve(c.id() + ".png"))).as(c.id())
                    .isEqualTo(written.get(c.id()));
        }
        assertThat(manifest(out)).hasSize(19);
        assertThat(manifest(out).get("req-3").get("finished_at")).isEqualTo(manifest.get("req-3").get("finished_at"));
        assertThat(out.resolve(Manifest.PARTS)).doesNotExist();
    }

    @Test
    void parquetTableHoldsTheSameImagesAndASweepExpandsOnTheDriver(@TempDir Path work) throws Exception {
        Path requests = work.resolve("requests.jsonl");
        Files.writeString(requests, "{\"id\": \"base\", \"prompt\": \"a large blue triangle\", \"steps\": 5}\n");
        Path sweep = work.resolve("sweep.json");
        Files.writeString(sweep, "{\"seed\": [7, 8], \"scheduler\": [\"euler\", \"dpm++2m\"]}");
        Path out = work.resolve("out");
        SparkBatch batch = SparkBatch.builder().requests(requests).sweep(sweep).out(out).model(model)
                .plugins(plugins).format(SparkBatch.Format.PARQUET).build();

        BatchReport report = batch.run(spark);

        assertThat(report.generated()).isEqualTo(4);
        List<Row> rows = spark.read().parquet(out.resolve(SparkBatch.TABLE).toString())
                .select("id", "png", "seed", "scheduler", "steps").collectAsList();
        assertThat(rows).hasSize(4);
        Map<String, JsonNode> manifest = manifest(out);
        assertThat(manifest).hasSize(4);
        for (Row r : rows) {
            String id = r.getString(0);
            assertThat(id).matches("base-[0-9a-f]{10}");
            assertThat(manifest.get(id).get("status").asText()).isEqualTo("ok");
            Path png = work.resolve(id + ".png");
            Files.write(png, (byte[]) r.get(1));
            RgbImage expected = cli(work.resolve("cli-" + id + ".png"), List.of("--prompt", "a large blue triangle",
                    "--steps", "5", "--seed", Long.toString(r.getLong(2)), "--scheduler", r.getString(3)));
            assertThat(PngImages.read(png).pixels()).as(id).isEqualTo(expected.pixels());
        }
        assertThat(rows.stream().map(r -> r.getLong(2) + "/" + r.getString(3)).distinct().count()).isEqualTo(4);

        BatchReport again = batch.run(spark);
        assertThat(again.skipped()).isEqualTo(4);
        assertThat(again.generated()).isZero();
        assertThat(spark.read().parquet(out.resolve(SparkBatch.TABLE).toString()).count()).isEqualTo(4);
    }

    @Test
    void shippedFoldersAreCopiedToTheExecutorsAndGiveTheSameBits(@TempDir Path work) throws Exception {
        // a staging copy, so the executors can only have read the model and the plugins through SparkFiles
        Path staging = work.resolve("staging");
        Path stagedModel = copyTree(model, staging.resolve("shapes-shipped"));
        Path stagedPlugins = copyTree(plugins, staging.resolve("plugins-shipped"));
        Path requests = work.resolve("requests.jsonl");
        Files.write(requests, List.of(
                "{\"id\": \"ship-a\", \"prompt\": \"a yellow cross\", \"seed\": 5, \"steps\": 4}",
                "{\"id\": \"ship-b\", \"prompt\": \"a red circle\", \"seed\": 6, \"steps\": 4,"
                        + " \"scheduler\": \"ddim\", \"parameters\": {\"class_label\": 0}}"));
        Path out = work.resolve("out");
        SparkBatch batch = SparkBatch.builder().requests(requests).out(out).model(stagedModel)
                .plugins(stagedPlugins).ship(true).build();

        BatchReport report = batch.run(spark);

        assertThat(report.generated()).as("%s", report).isEqualTo(2);
        Path sparkFiles = Path.of(org.apache.spark.SparkFiles.getRootDirectory()).toAbsolutePath().normalize();
        assertThat(ExecutorRuntime.openModels()).as("the executors opened the shipped copy, not the staging folder")
                .anySatisfy(p -> assertThat(p).startsWith(sparkFiles).endsWith(Path.of("shapes-shipped")))
                .noneSatisfy(p -> assertThat(p).startsWith(staging.toAbsolutePath().normalize()));
        assertThat(PngImages.read(out.resolve("ship-a.png")).pixels())
                .isEqualTo(cli(work.resolve("cli-a.png"), List.of("--prompt", "a yellow cross", "--seed", "5",
                        "--steps", "4")).pixels());
        assertThat(PngImages.read(out.resolve("ship-b.png")).pixels())
                .isEqualTo(cli(work.resolve("cli-b.png"), List.of("--prompt", "a red circle", "--seed", "6",
                        "--steps", "4", "--scheduler", "ddim", "--class-label", "0")).pixels());
    }

    static Path copyTree(Path from, Path to) throws Exception {
        try (var files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }
}
