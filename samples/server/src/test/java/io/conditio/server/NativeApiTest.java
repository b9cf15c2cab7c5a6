package io.conditio.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The native API, the queue, limits, auth, CORS, health and metrics over real HTTP on the shipped model. */
class NativeApiTest {
    static ConditioServer server;
    static TestServers.Client client;

    @BeforeAll
    static void start() {
        server = TestServers.start(b -> b.optLimits(Limits.defaults().withMaxSteps(2000)
                .withMaxRequestBytes(2_000_000)));
        client = new TestServers.Client(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String create(TestServers.Client c, String recipe) {
        HttpResponse<String> r = c.post("/v1/generations", recipe);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode n = c.json(r);
        assertThat(r.headers().firstValue("Location")).hasValue("/v1/generations/" + n.get("id").asText());
        return n.get("id").asText();
    }

    private static JsonNode waitFor(TestServers.Client c, String id, String state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode n;
        do {
            n = c.json(c.get("/v1/generations/" + id));
            if (n.get("state").asText().equals(state)) {
                return n;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("generation " + id + " did not reach " + state + ": " + n);
    }

    @Test
    void aGenerationGetsAnIdAtOnceThenItsEventsInOrderThenItsImage() throws Exception {
        String id = create(client, "{\"prompt\": \"a red circle at the top left\", \"seed\": 7, \"steps\": 40}");
        Sse sse = Sse.open(client, id);
        List<Sse.Event> events = sse.finished.get(60, TimeUnit.SECONDS);
        List<String> types = sse.types();
        assertThat(types.get(0)).isEqualTo("queued");
        assertThat(types).containsSubsequence("queued", "started", "step", "image", "done");
        assertThat(types.get(types.size() - 1)).isEqualTo("done");
        int last = 0;
        for (Sse.Event e : events) {
            if (e.type().equals("step")) {
                assertThat(e.data().get("step").asInt()).isGreaterThan(last);
                last = e.data().get("step").asInt();
                assertThat(e.data().get("total_steps").asInt()).isEqualTo(40);
            }
        }
        assertThat(last).isEqualTo(40);
        JsonNode state = client.json(client.get("/v1/generations/" + id));
        assertThat(state.get("state").asText()).isEqualTo("done");
        assertThat(state.get("progress").asDouble()).isEqualTo(1.0);
        assertThat(state.get("outputs").get(0).get("parameters").asText()).contains("Seed: 7,", "Steps: 40,");
        HttpResponse<byte[]> png = client.getBytes("/v1/generations/" + id + "/image");
        assertThat(png.statusCode()).isEqualTo(200);
        assertThat(png.headers().firstValue("Content-Type")).hasValue("image/png");
        assertThat(TestServers.png(png.body()).getWidth()).isEqualTo(64);
        assertThat(TestServers.pngText(png.body(), "seed")).isEqualTo("7");
    }

    @Test
    void aLongGenerationStreamsStepEventsWithPreviews() throws Exception {
        String id = create(client, "{\"prompt\": \"a blue square\", \"seed\": 1, \"steps\": 400}");
        Sse sse = Sse.open(client, id);
        sse.finished.get(120, TimeUnit.SECONDS);
        assertThat(sse.events.stream().filter(e -> e.type().equals("step") && e.data().has("preview")))
                .isNotEmpty().allSatisfy(e -> assertThat(e.data().get("preview").asText())
                        .startsWith("data:image/png;base64,"));
    }

    @Test
    void deleteCancelsARunningGenerationWithinAStepAndItsStreamEndsCancelled() throws Exception {
        String id = create(client, "{\"prompt\": \"a cross\", \"seed\": 1, \"steps\": 900}");
        Sse sse = Sse.open(client, id);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (sse.events.stream().noneMatch(e -> e.type().equals("step")) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        long t0 = System.nanoTime();
        HttpResponse<String> r = client.delete("/v1/generations/" + id);
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode state = client.json(r);
        assertThat(state.get("state").asText()).isEqualTo("cancelled");
        assertThat(state.get("step").asInt()).isLessThan(900);
        assertThat(millis).as("cancelled within a step or so").isLessThan(5000);
        sse.finished.get(10, TimeUnit.SECONDS);
        assertThat(sse.types().get(sse.types().size() - 1)).isEqualTo("cancelled");
        assertThat(client.getBytes("/v1/generations/" + id + "/image").statusCode()).isEqualTo(404);
        // the server keeps serving
        String next = create(client, "{\"prompt\": \"a cross\", \"seed\": 1, \"steps\": 3}");
        waitFor(client, next, "done");
    }

    @Test
    void recipesWithConditioningParametersRun() throws Exception {
        String init = TestServers.dataUrl(TestServers.example("inpaint-init.png"));
        String control = TestServers.dataUrl(TestServers.example("control-triangle-bottom-right.png"));
        String id = create(client, "{\"model\": \"shapes\", \"prompt\": \"a large blue triangle\", \"seed\": 3, "
                + "\"steps\": 10, \"guidance_scale\": 3.0, \"width\": 64, \"height\": 64, \"scheduler\": \"euler\", "
                + "\"parameters\": {\"controlnets\": [{\"model\": \"controlnet\", \"image\": \"" + control + "\", "
                + "\"scale\": 1.0}]}}");
        waitFor(client, id, "done");
        byte[] png = client.getBytes("/v1/generations/" + id + "/image").body();
        assertThat(TestServers.pngText(png, "unet")).isEqualTo("unet-controlnet");
        assertThat(TestServers.pngText(png, "scheduler")).isEqualTo("euler");
        String img2img = create(client, "{\"prompt\": \"a red circle\", \"seed\": 3, \"steps\": 10, "
                + "\"parameters\": {\"init_image\": \"" + init + "\", \"strength\": 0.5}}");
        JsonNode done = waitFor(client, img2img, "done");
        assertThat(done.get("outputs").get(0).get("parameters").asText()).contains("Denoising strength: 0.5");
        String label = create(client, "{\"prompt\": \"\", \"seed\": 3, \"steps\": 10, "
                + "\"parameters\": {\"class_label\": 1}}");
        waitFor(client, label, "done");
    }

    @Test
    void aFailingGenerationFailsWithItsMessageAndTheServerKeepsServing() throws Exception {
        String id = create(client, "{\"prompt\": \"x\", \"steps\": 3, \"scheduler\": \"no-such-scheduler\"}");
        JsonNode n = waitFor(client, id, "failed");
        assertThat(n.get("error").asText()).contains("no-such-scheduler");
        Sse sse = Sse.open(client, id);
        sse.finished.get(10, TimeUnit.SECONDS);
        assertThat(sse.types()).endsWith("failed");
        waitFor(client, create(client, "{\"prompt\": \"x\", \"steps\": 3}"), "done");
    }

    @Test
    void badRecipesAre400WithTheFieldNamedAndUnknownIdsAre404() {
        record Case(String body, String field) {
        }
        for (Case c : List.of(new Case("{\"steps\": 0}", "steps"), new Case("{\"width\": 12}", "width"),
                new Case("{\"model\": \"sdxl\"}", "model"), new Case("{\"promt\": \"typo\"}", "promt"),
                new Case("{\"parameters\": {\"controlnets\": [{\"model\": \"/etc/passwd\"}]}}",
                        "parameters.controlnets[0].model"),
                new Case("{\"parameters\": {\"init_image\": \"data:image/png;base64,AAAA\"}}",
                        "parameters.init_image"))) {
            HttpResponse<String> r = client.post("/v1/generations", c.body());
            assertThat(r.statusCode()).as(c.body()).isEqualTo(400);
            assertThat(client.json(r).get("field").asText()).as(c.body()).isEqualTo(c.field());
        }
        assertThat(client.get("/v1/generations/nope").statusCode()).isEqualTo(404);
        assertThat(client.delete("/v1/generations/nope").statusCode()).isEqualTo(404);
        assertThat(client.json(client.get("/v1/generations/nope")).get("error").asText()).contains("nope");
        assertThat(client.get("/v1/generations/nope/events").statusCode()).as("no Accept header").isEqualTo(406);
    }

    @Test
    void aBodyOverTheLimitIs413AndAnImageOverTheSizeLimitIs400() {
        String big = "{\"prompt\": \"" + "a".repeat(2_100_000) + "\"}";
        HttpResponse<String> r = client.post("/v1/generations", big);
        assertThat(r.statusCode()).isEqualTo(413);
        java.awt.image.BufferedImage huge = new java.awt.image.BufferedImage(4000, 8, 1);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(huge, "png", out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        String url = "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(out.toByteArray());
        HttpResponse<String> img = client.post("/v1/generations", "{\"parameters\": {\"init_image\": \"" + url
                + "\"}}");
        assertThat(img.statusCode()).isEqualTo(400);
        assertThat(client.json(img).get("error").asText()).contains("4000x8");
    }

    @Test
    void listsPluginsWithTheirParameterSchemaModelsAndSchedulers() {
        JsonNode plugins = client.json(client.get("/v1/plugins"));
        assertThat(plugins.get("plugins").toString()).contains("\"id\":\"controlnet\"", "\"id\":\"schedulers\"");
        assertThat(plugins.get("parameters").get("properties").has("init_image")).isTrue();
        assertThat(plugins.get("parameters").get("properties").get("controlnets").get("items").get("properties")
                .get("model").get("enum").toString()).contains("controlnet");
        JsonNode models = client.json(client.get("/v1/models"));
        assertThat(models.get(0).get("name").asText()).isEqualTo("shapes");
        assertThat(client.json(client.get("/v1/schedulers")).toString()).contains("euler-a", "ddim");
    }

    @Test
    void healthAndMetricsInPrometheusText() throws Exception {
        JsonNode health = client.json(client.get("/health"));
        assertThat(health.get("status").asText()).isEqualTo("ok");
        waitFor(client, create(client, "{\"prompt\": \"x\", \"steps\": 3}"), "done");
        HttpResponse<String> m = client.get("/metrics");
        assertThat(m.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(m.body()).contains("conditio_queue_depth ", "conditio_generations_total{outcome=\"done\"}",
                "conditio_step_duration_seconds_bucket", "conditio_http_requests_total");
    }

    @Test
    void corsIsOffByDefault() {
        HttpResponse<String> r = client.send(client.request("/health").header("Origin", "https://evil.example")
                .GET().build());
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        try (ConditioServer small = TestServers.start(b -> b.optMaxQueue(1).optConcurrency(1))) {
            TestServers.Client c = new TestServers.Client(small);
            String running = create(c, "{\"prompt\": \"x\", \"seed\": 1, \"steps\": 900}");
            waitFor(c, running, "running");
            String waiting = create(c, "{\"prompt\": \"x\", \"steps\": 2}");
            assertThat(c.json(c.get("/v1/generations/" + waiting)).get("state").asText()).isEqualTo("queued");
            Sse sse = Sse.open(c, waiting);
            HttpResponse<String> full = c.post("/v1/generations", "{\"prompt\": \"x\", \"steps\": 2}");
            assertThat(full.statusCode()).isEqualTo(429);
            assertThat(full.headers().firstValue("Retry-After")).hasValueSatisfying(v ->
                    assertThat(Integer.parseInt(v)).isPositive());
            HttpResponse<String> a1111 = c.post("/sdapi/v1/txt2img", "{\"prompt\": \"x\", \"steps\": 2}");
            assertThat(a1111.statusCode()).isEqualTo(429);
            c.delete("/v1/generations/" + running);
            waitFor(c, waiting, "done");
            sse.finished.get(30, TimeUnit.SECONDS);
            assertThat(sse.events.get(0).data().get("position").asInt()).isEqualTo(1);
            assertThat(sse.types()).containsSubsequence("queued", "started", "done");
            assertThat(c.get("/metrics").body()).contains("conditio_generations_total{outcome=\"rejected\"} 2.0");
        }
    }

    @Test
    void withAnApiKeyEveryEndpointButHealthNeedsTheBearerToken() {
        try (ConditioServer secured = TestServers.start(b -> b.optApiKey("s3cret").optCorsOrigin(
                "https://app.example"))) {
            TestServers.Client anonymous = new TestServers.Client(secured);
            TestServers.Client wrong = new TestServers.Client(secured, "guess");
            TestServers.Client right = new TestServers.Client(secured, "s3cret");
            assertThat(anonymous.get("/health").statusCode()).isEqualTo(200);
            for (String path : List.of("/sdapi/v1/sd-models", "/v1/models", "/metrics", "/v1/plugins",
                    "/sdapi/v1/progress")) {
                HttpResponse<String> r = anonymous.get(path);
                assertThat(r.statusCode()).as(path).isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
                assertThat(wrong.get(path).statusCode()).as(path).isEqualTo(401);
                assertThat(right.get(path).statusCode()).as(path).isEqualTo(200);
            }
            assertThat(anonymous.post("/sdapi/v1/txt2img", "{}").statusCode()).isEqualTo(401);
            HttpResponse<String> cors = right.send(right.request("/v1/models").header("Origin",
                    "https://app.example").GET().build());
            assertThat(cors.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example");
            HttpResponse<String> other = right.send(right.request("/v1/models").header("Origin",
                    "https://evil.example").GET().build());
            assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        }
    }

    @Test
    void stoppingLetsTheRunningGenerationFinishAndRefusesNewOnes() throws Exception {
        ConditioServer stopping = TestServers.start(b -> b.optShutdownGrace(Duration.ofSeconds(20)));
        TestServers.Client c = new TestServers.Client(stopping);
        String id = create(c, "{\"prompt\": \"x\", \"seed\": 1, \"steps\": 200}");
        waitFor(c, id, "running");
        Sse sse = Sse.open(c, id);
        Thread closer = new Thread(stopping::close);
        closer.start();
        List<Sse.Event> events = sse.finished.get(60, TimeUnit.SECONDS);
        assertThat(events.get(events.size() - 1).type()).isEqualTo("done");
        closer.join(30_000);
        assertThat(closer.isAlive()).isFalse();
        HttpRequest after = c.request("/health").GET().build();
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> c.http.send(after,
                HttpResponse.BodyHandlers.ofString()))).isNotNull();
    }
}
