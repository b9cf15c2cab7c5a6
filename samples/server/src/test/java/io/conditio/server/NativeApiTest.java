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
        return TestServers.waitFor(c, id, state, Duration.ofSeconds(60));
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
        String id = null;
        HttpResponse<String> r = null;
        Sse sse = null;
        long millis = 0;
        // a generation that a busy machine lets finish before the DELETE arrives proves nothing: start another
        for (int attempt = 0; attempt < 3; attempt++) {
            id = create(client, "{\"prompt\": \"a cross\", \"seed\": 1, " + TestServers.LONG_RUN + "}");
            sse = Sse.open(client, id);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Sse s = sse;
            while (s.events.stream().noneMatch(e -> e.type().equals("step")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            long t0 = System.nanoTime();
            r = client.delete("/v1/generations/" + id);
            millis = (System.nanoTime() - t0) / 1_000_000;
            if (r.statusCode() != 200 || !client.json(r).get("state").asText().equals("done")) {
                break;
            }
        }
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
        String adapter = create(client, "{\"prompt\": \"a red circle\", \"seed\": 3, \"steps\": 10, "
                + "\"parameters\": {\"t2i_adapters\": [{\"model\": \"t2i-adapter\", \"image\": \""
                + TestServers.dataUrl(TestServers.example("sketch-circle-22-40.png")) + "\"}]}}");
        waitFor(client, adapter, "done");
        byte[] adapted = client.getBytes("/v1/generations/" + adapter + "/image").body();
        assertThat(TestServers.pngText(adapted, "unet")).isEqualTo("unet-adapter");
    }

    private static byte[] example(String file) throws java.io.IOException {
        return java.nio.file.Files.readAllBytes(TestServers.example(file));
    }

    @Test
    void imagesMayArriveAsMultipartPartsNamedByTheirParameterAndGiveTheSamePixelsAsDataUrls() throws Exception {
        String recipe = "{\"prompt\": \"a red circle\", \"seed\": 3, \"steps\": 10, \"parameters\": {\"strength\": 0.5}}";
        HttpResponse<String> r = client.postMultipart("/v1/generations", new java.util.LinkedHashMap<>(
                java.util.Map.of("recipe", recipe, "init_image", example("inpaint-init.png"))));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode done = waitFor(client, client.json(r).get("id").asText(), "done");
        assertThat(done.get("outputs").get(0).get("parameters").asText()).contains("Denoising strength: 0.5");
        String json = create(client, "{\"prompt\": \"a red circle\", \"seed\": 3, \"steps\": 10, \"parameters\": "
                + "{\"strength\": 0.5, \"init_image\": \"" + TestServers.dataUrl(TestServers.example("inpaint-init.png"))
                + "\"}}");
        waitFor(client, json, "done");
        byte[] fromParts = client.getBytes("/v1/generations/" + done.get("id").asText() + "/image").body();
        byte[] fromJson = client.getBytes("/v1/generations/" + json + "/image").body();
        assertThat(TestServers.pixels(TestServers.png(fromParts))).isEqualTo(TestServers.pixels(TestServers.png(fromJson)));

        // a ControlNet's control image as a part, the unit's other keys in the recipe
        HttpResponse<String> cn = client.postMultipart("/v1/generations", new java.util.LinkedHashMap<>(java.util.Map.of(
                "recipe", "{\"prompt\": \"a large blue triangle\", \"seed\": 4, \"steps\": 8, \"parameters\": "
                        + "{\"controlnets\": [{\"model\": \"controlnet\", \"scale\": 1.0}]}}",
                "parameters.controlnets[0].image", example("control-triangle-bottom-right.png"))));
        assertThat(cn.statusCode()).as(cn.body()).isEqualTo(202);
        waitFor(client, client.json(cn).get("id").asText(), "done");
        byte[] png = client.getBytes("/v1/generations/" + client.json(cn).get("id").asText() + "/image").body();
        assertThat(TestServers.pngText(png, "unet")).isEqualTo("unet-controlnet");
    }

    @Test
    void badMultipartRequestsAre400WithThePartNamed() throws Exception {
        record Case(java.util.Map<String, Object> parts, String field) {
        }
        byte[] init = example("inpaint-init.png");
        for (Case c : List.of(
                new Case(java.util.Map.of("recipe", "{\"prompt\": \"x\"}", "prompt", "x"), "prompt"),
                new Case(java.util.Map.of("recipe", "not json"), "recipe"),
                new Case(java.util.Map.of("init_image", "not an image".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                        "parameters.init_image"),
                new Case(java.util.Map.of("recipe", "{\"parameters\": {\"init_image\": \""
                        + TestServers.dataUrl(TestServers.example("inpaint-init.png")) + "\"}}", "init_image", init),
                        "parameters.init_image"),
                new Case(java.util.Map.of("controlnets[3].image", init), "parameters.controlnets[3].image"),
                new Case(java.util.Map.of("../../etc/passwd", init), "parameters.../../etc/passwd"))) {
            HttpResponse<String> r = client.postMultipart("/v1/generations", c.parts());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(client.json(r).get("field").asText()).as(r.body()).isEqualTo(c.field());
        }
    }

    @Test
    void eventsReachOnlyTheClientOfTheirGenerationAndTheQueueRunsInArrivalOrder() throws Exception {
        try (ConditioServer one = TestServers.start(b -> b.optConcurrency(1))) {
            TestServers.Client c = new TestServers.Client(one);
            String first = create(c, "{\"prompt\": \"a cross\", \"seed\": 1, \"steps\": 120}");
            String second = create(c, "{\"prompt\": \"a circle\", \"seed\": 2, \"steps\": 30}");
            String third = create(c, "{\"prompt\": \"a square\", \"seed\": 3, \"steps\": 30}");
            Sse a = Sse.open(c, first);
            Sse b = Sse.open(c, second);
            Sse d = Sse.open(c, third);
            List<Sse.Event> ea = a.finished.get(120, TimeUnit.SECONDS);
            List<Sse.Event> eb = b.finished.get(120, TimeUnit.SECONDS);
            List<Sse.Event> ed = d.finished.get(120, TimeUnit.SECONDS);
            assertThat(ea).allSatisfy(e -> assertThat(e.data().get("id").asText()).isEqualTo(first));
            assertThat(eb).allSatisfy(e -> assertThat(e.data().get("id").asText()).isEqualTo(second));
            assertThat(ed).allSatisfy(e -> assertThat(e.data().get("id").asText()).isEqualTo(third));
            assertThat(eb.stream().filter(e -> e.type().equals("step")).map(e -> e.data().get("total_steps").asInt()))
                    .containsOnly(30);
            assertThat(ea.stream().filter(e -> e.type().equals("step")).map(e -> e.data().get("total_steps").asInt()))
                    .containsOnly(120);
            // the third waited behind the second: its position went from 2 to 1 (or it was replayed at 1)
            assertThat(ed.get(0).type()).isEqualTo("queued");
            java.time.Instant started1 = java.time.Instant.parse(c.json(c.get("/v1/generations/" + first))
                    .get("started").asText());
            java.time.Instant started2 = java.time.Instant.parse(c.json(c.get("/v1/generations/" + second))
                    .get("started").asText());
            java.time.Instant finished1 = java.time.Instant.parse(c.json(c.get("/v1/generations/" + first))
                    .get("finished").asText());
            java.time.Instant started3 = java.time.Instant.parse(c.json(c.get("/v1/generations/" + third))
                    .get("started").asText());
            java.time.Instant finished2 = java.time.Instant.parse(c.json(c.get("/v1/generations/" + second))
                    .get("finished").asText());
            assertThat(started2).as("one at a time, in arrival order").isAfterOrEqualTo(finished1)
                    .isAfter(started1);
            assertThat(started3).isAfterOrEqualTo(finished2);
        }
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
                        "parameters.init_image"),
                // nothing that names a path on the server is taken, whatever the plugin declares
                new Case("{\"parameters\": {\"init_image\": \"/etc/hosts\"}}", "parameters.init_image"),
                new Case("{\"parameters\": {\"lora\": \"/tmp/x.safetensors:0.8\"}}", "parameters.lora"),
                new Case("{\"parameters\": {\"embeddings\": \"/tmp/e.pt:tok\"}}", "parameters.embeddings"),
                new Case("{\"parameters\": {\"prompt_embeds\": \"/tmp/e.npy\"}}", "parameters.prompt_embeds"),
                new Case("{\"parameters\": {\"controlnets\": [{\"model\": \"controlnet\", \"image\": \""
                        + TestServers.dataUrl(TestServers.example("control-triangle-bottom-right.png")) + "\", "
                        + "\"preprocess\": \"depth\", \"preprocess_models\": [\"/tmp/midas.onnx\"]}]}}",
                        "parameters.controlnets[0].preprocess_models"),
                new Case("{\"parameters\": {\"strenght\": 0.5}}", "parameters.strenght"),
                new Case("{\"parameters\": {\"strength\": 1.5}}", "parameters"),
                new Case("{\"steps\": \"ten\"}", "steps"))) {
            HttpResponse<String> r = client.post("/v1/generations", c.body());
            assertThat(r.statusCode()).as(c.body()).isEqualTo(400);
            assertThat(client.json(r).get("field").asText()).as(c.body()).isEqualTo(c.field());
        }
        HttpResponse<String> typo = client.post("/v1/generations", "{\"parameters\": {\"strenght\": 0.5}}");
        assertThat(client.json(typo).get("error").asText()).contains("did you mean 'strength'");
        assertThat(client.get("/v1/generations/nope").statusCode()).isEqualTo(404);
        assertThat(client.delete("/v1/generations/nope").statusCode()).isEqualTo(404);
        assertThat(client.json(client.get("/v1/generations/nope")).get("error").asText()).contains("nope");
        assertThat(client.get("/v1/generations/nope/events").statusCode()).as("no Accept header").isEqualTo(406);
    }

    @Test
    void aBodyOverTheLimitIs413AndAnImageOverTheSizeLimitIs400() {
        // The request's headers announce a body over the limit and the body is never sent: the server must answer
        // from the headers alone. (A client uploading the whole body races that answer, which closes the connection.)
        java.net.URI uri = java.net.URI.create(server.url());
        String status;
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("POST /v1/generations HTTP/1.1\r\nHost: " + uri.getAuthority()
                    + "\r\nContent-Type: application/json\r\nContent-Length: 2100000\r\n\r\n{\"prompt\": \"")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            status = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII)).readLine();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(status).startsWith("HTTP/1.1 413");
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
        // the plugins' own declarations, less what would carry a path from a client
        JsonNode props = plugins.get("parameters").get("properties");
        assertThat(props.get("strength").get("maximum").asDouble()).isEqualTo(1.0);
        assertThat(props.get("class_label").get("x-conditio-owners").toString()).contains("film");
        assertThat(props.has("lora")).isFalse();
        assertThat(props.has("embeddings")).isFalse();
        assertThat(props.has("prompt_embeds")).isFalse();
        assertThat(props.get("controlnets").get("items").get("properties").has("preprocess_models")).isFalse();
        assertThat(props.get("t2i_adapters").get("items").get("properties").get("model").get("enum").toString())
                .contains("t2i-adapter");
        assertThat(props.get("init_image").get("$comment").asText()).contains("multipart");
        assertThat(plugins.get("recipe_schema").get("properties").get("model").get("enum").toString())
                .contains("shapes");
        JsonNode models = client.json(client.get("/v1/models"));
        assertThat(models.get(0).get("name").asText()).isEqualTo("shapes");
        assertThat(models.get(0).get("t2i_adapters").toString()).contains("t2i-adapter");
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
            String running = create(c, "{\"prompt\": \"x\", \"seed\": 1, " + TestServers.LONG_RUN + "}");
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
    void aGenerationStillRunningWhenTheGracePeriodEndsIsCancelledAndTheServerStops() throws Exception {
        ConditioServer stopping = TestServers.start(b -> b.optShutdownGrace(Duration.ofMillis(300)));
        TestServers.Client c = new TestServers.Client(stopping);
        String id = create(c, "{\"prompt\": \"x\", \"seed\": 1, " + TestServers.LONG_RUN + "}");
        String waiting = create(c, "{\"prompt\": \"x\", \"seed\": 2, \"steps\": 5}");
        waitFor(c, id, "running");
        Sse sse = Sse.open(c, id);
        Sse queued = Sse.open(c, waiting);
        long t0 = System.nanoTime();
        stopping.close();
        long millis = (System.nanoTime() - t0) / 1_000_000;
        List<Sse.Event> events = sse.finished.get(30, TimeUnit.SECONDS);
        assertThat(events.get(events.size() - 1).type()).isEqualTo("cancelled");
        assertThat(events.stream().filter(e -> e.type().equals("step")).count()).isLessThan(900);
        assertThat(queued.finished.get(30, TimeUnit.SECONDS)).last().satisfies(e ->
                assertThat(e.type()).as("a waiting job is dropped").isEqualTo("cancelled"));
        assertThat(millis).as("grace 300 ms, then cancelled within a step").isLessThan(15_000);
    }

    @Test
    void stoppingLetsTheRunningGenerationFinishAndRefusesNewOnes() throws Exception {
        ConditioServer stopping = TestServers.start(b -> b.optShutdownGrace(Duration.ofSeconds(20)));
        TestServers.Client c = new TestServers.Client(stopping);
        String id = create(c, "{\"prompt\": \"x\", \"seed\": 1, \"steps\": 300}");
        waitFor(c, id, "running");
        Sse sse = Sse.open(c, id);
        Thread closer = new Thread(stopping::close);
        closer.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (c.get("/health").statusCode() != 503 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(c.json(c.get("/health")).get("status").asText()).isEqualTo("stopping");
        HttpResponse<String> refused = c.post("/v1/generations", "{\"prompt\": \"x\", \"steps\": 2}");
        assertThat(refused.statusCode()).as("new work while stopping").isEqualTo(503);
        assertThat(c.post("/sdapi/v1/txt2img", "{\"prompt\": \"x\", \"steps\": 2}").statusCode()).isEqualTo(503);
        assertThat(c.json(c.get("/v1/generations/" + id)).get("state").asText()).as("still running in the grace "
                + "period").isEqualTo("running");
        List<Sse.Event> events = sse.finished.get(60, TimeUnit.SECONDS);
        assertThat(events.get(events.size() - 1).type()).isEqualTo("done");
        closer.join(30_000);
        assertThat(closer.isAlive()).isFalse();
        HttpRequest after = c.request("/health").GET().build();
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> c.http.send(after,
                HttpResponse.BodyHandlers.ofString()))).isNotNull();
    }
}
