package io.conditio.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two model folders served by name from one --models directory (the shipped shapes model and the diffusers-tiny
 * sd-tiny fixture): opened on first use, closed when idle, and closed least-recently-used first when opening
 * another would exceed the model memory budget, never while a generation uses them.
 */
class ModelLifecycleTest {
    @TempDir
    static Path models;

    @BeforeAll
    static void folders() throws Exception {
        Files.createSymbolicLink(models.resolve("shapes"), TestServers.shapes().toAbsolutePath().normalize());
        Files.createSymbolicLink(models.resolve("sd-tiny"), TestServers.directory("conditio.tinyModel")
                .toAbsolutePath().normalize());
    }

    private static List<String> open(TestServers.Client c) {
        List<String> out = new ArrayList<>();
        for (JsonNode m : c.json(c.get("/v1/models"))) {
            if (m.get("open").asBoolean()) {
                out.add(m.get("name").asText());
            }
        }
        return out;
    }

    private static long size(TestServers.Client c, String model) {
        for (JsonNode m : c.json(c.get("/v1/models"))) {
            if (m.get("name").asText().equals(model)) {
                return m.get("memory_bytes").asLong();
            }
        }
        throw new AssertionError("no model " + model);
    }

    private static String generate(TestServers.Client c, String recipe) throws InterruptedException {
        HttpResponse<String> r = c.post("/v1/generations", recipe);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return c.json(r).get("id").asText();
    }

    private static JsonNode waitFor(TestServers.Client c, String id, String state) throws InterruptedException {
        return TestServers.waitFor(c, id, state, Duration.ofSeconds(90));
    }

    private static final String TINY = "{\"model\": \"sd-tiny\", \"prompt\": \"a cat\", \"seed\": 1, \"steps\": 2, "
            + "\"width\": 64, \"height\": 64}";

    @Test
    void openingAModelThatWouldExceedTheBudgetClosesTheLeastRecentlyUsedIdleOneButNeverOneInUse() throws Exception {
        long shapesBytes;
        long tinyBytes;
        try (ConditioServer probe = TestServers.start(b -> b.setModel(null).setModelsDirectory(models))) {
            TestServers.Client c = new TestServers.Client(probe);
            shapesBytes = size(c, "shapes");
            tinyBytes = size(c, "sd-tiny");
            assertThat(open(c)).as("nothing opens before it is asked for").isEmpty();
        }
        assertThat(shapesBytes).isGreaterThan(tinyBytes).isGreaterThan(1_000_000);
        long budget = shapesBytes + tinyBytes / 2; // room for either model, not for both
        try (ConditioServer server = TestServers.start(b -> b.setModel(null).setModelsDirectory(models)
                .optModelMemory(budget).optConcurrency(2))) {
            TestServers.Client c = new TestServers.Client(server);
            waitFor(c, generate(c, TINY), "done");
            assertThat(open(c)).containsExactly("sd-tiny");

            // an A1111 client switches models per request; opening shapes closes the idle sd-tiny
            HttpResponse<String> a1111 = c.post("/sdapi/v1/txt2img", "{\"prompt\": \"a red circle\", \"steps\": 2, "
                    + "\"override_settings\": {\"sd_model_checkpoint\": \"shapes\"}}");
            assertThat(a1111.statusCode()).as(a1111.body()).isEqualTo(200);
            assertThat(open(c)).containsExactly("shapes");
            assertThat(c.get("/metrics").body()).contains("conditio_models_closed_total{reason=\"memory\"} 1.0");

            // while shapes runs a generation it stays open, even though both exceed the budget
            String longRun = generate(c, "{\"model\": \"shapes\", \"prompt\": \"a cross\", \"seed\": 1, "
                    + TestServers.LONG_RUN + "}");
            waitFor(c, longRun, "running");
            waitFor(c, generate(c, TINY), "done");
            assertThat(open(c)).containsExactlyInAnyOrder("shapes", "sd-tiny");
            assertThat(c.json(c.get("/v1/generations/" + longRun)).get("state").asText()).isEqualTo("running");
            c.delete("/v1/generations/" + longRun);
            waitFor(c, longRun, "cancelled");

            // both stay open now that nothing runs: a generation on an open model needs no room
            waitFor(c, generate(c, "{\"model\": \"shapes\", \"prompt\": \"x\", \"steps\": 2}"), "done");
            assertThat(open(c)).containsExactlyInAnyOrder("shapes", "sd-tiny");
            assertThat(c.json(c.get("/health")).get("model_memory_budget").asLong()).isEqualTo(budget);
        }
    }

    @Test
    void aModelNobodyUsesForTheIdleTimeIsClosedAndOpensAgainWhenAsked() throws Exception {
        try (ConditioServer server = TestServers.start(b -> b.setModel(null).setModelsDirectory(models)
                .optIdleClose(Duration.ofSeconds(1)))) {
            TestServers.Client c = new TestServers.Client(server);
            String first = generate(c, TINY);
            waitFor(c, first, "done");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!open(c).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(open(c)).as("closed after 1 s idle").isEmpty();
            assertThat(c.get("/metrics").body()).contains("conditio_models_closed_total{reason=\"idle\"} 1.0");
            String again = generate(c, TINY);
            waitFor(c, again, "done");
            byte[] a = c.getBytes("/v1/generations/" + first + "/image").body();
            byte[] b = c.getBytes("/v1/generations/" + again + "/image").body();
            assertThat(TestServers.pixels(TestServers.png(b))).as("the reopened model draws the same")
                    .isEqualTo(TestServers.pixels(TestServers.png(a)));
        }
    }
}
