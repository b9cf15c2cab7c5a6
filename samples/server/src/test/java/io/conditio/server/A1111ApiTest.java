package io.conditio.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The AUTOMATIC1111-compatible endpoints over real HTTP, on the shipped model, with bodies as clients send them. */
class A1111ApiTest {
    static ConditioServer server;
    static TestServers.Client client;

    @BeforeAll
    static void start() {
        server = TestServers.start(b -> { });
        client = new TestServers.Client(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return client.json(r);
    }

    private static JsonNode info(JsonNode response) {
        try {
            return JsonFields.MAPPER.readTree(response.get("info").asText());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void txt2imgAnswersWithAPngThatCarriesItsParametersAndAnInfoString() {
        JsonNode r = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a red circle at the top left\", "
                + "\"negative_prompt\": \"blue\", \"seed\": 11, \"steps\": 8, \"cfg_scale\": 3, \"width\": 64, "
                + "\"height\": 64, \"sampler_name\": \"Euler a\"}"));
        assertThat(r.get("images")).hasSize(1);
        byte[] png = Base64.getDecoder().decode(r.get("images").get(0).asText());
        assertThat(TestServers.png(png).getWidth()).isEqualTo(64);
        String parameters = TestServers.pngText(png, "parameters");
        assertThat(parameters).startsWith("a red circle at the top left\nNegative prompt: blue\nSteps: 8, "
                + "Sampler: Euler a, Schedule type: Automatic, CFG scale: 3, Seed: 11, Size: 64x64, Model hash: ");
        assertThat(TestServers.pngText(png, "scheduler")).isEqualTo("euler-a");
        assertThat(TestServers.pngText(png, "model")).as("no server path in the image").isEqualTo("shapes");
        assertThat(r.get("parameters").get("prompt").asText()).isEqualTo("a red circle at the top left");
        JsonNode info = info(r);
        assertThat(info.get("seed").asLong()).isEqualTo(11);
        assertThat(info.get("all_seeds")).hasSize(1);
        assertThat(info.get("infotexts").get(0).asText()).isEqualTo(parameters);
        assertThat(info.get("sampler_name").asText()).isEqualTo("Euler a");
        assertThat(info.get("conditio").get("ignored")).isEmpty();
    }

    @Test
    void batchSizeAndNIterMakeOneImagePerSeedCountingUpAsA1111DoesInOneUnetBatchPerIteration() {
        JsonNode batch = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a green square\", \"seed\": 40, "
                + "\"steps\": 4, \"batch_size\": 2, \"n_iter\": 2}"));
        assertThat(batch.get("images")).hasSize(4);
        JsonNode info = info(batch);
        assertThat(info.get("all_seeds").toString()).isEqualTo("[40,41,42,43]");
        JsonNode single = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a green square\", \"seed\": 42, "
                + "\"steps\": 4}"));
        assertThat(TestServers.pixels(TestServers.png(batch.get("images").get(2).asText())))
                .isEqualTo(TestServers.pixels(TestServers.png(single.get("images").get(0).asText())));
        assertThat(TestServers.pixels(TestServers.png(batch.get("images").get(0).asText())))
                .isNotEqualTo(TestServers.pixels(TestServers.png(single.get("images").get(0).asText())));
        // each batch_size group ran as one UNet batch: its images say their batch position, as A1111's do
        for (int i = 0; i < 4; i++) {
            assertThat(info.get("infotexts").get(i).asText()).contains("Seed: " + (40 + i) + ",")
                    .contains("Batch size: 2, Batch pos: " + (i % 2));
        }
        JsonNode last = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a green square\", \"seed\": 43, "
                + "\"steps\": 4}"));
        assertThat(TestServers.pixels(TestServers.png(batch.get("images").get(3).asText())))
                .as("the second image of a batch is its seed's image alone")
                .isEqualTo(TestServers.pixels(TestServers.png(last.get("images").get(0).asText())));
    }

    @Test
    void seedMinusOnePicksARandomSeedAndReportsIt() {
        JsonNode info = info(ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a cross\", \"seed\": -1, "
                + "\"steps\": 2}")));
        assertThat(info.get("seed").asLong()).isBetween(0L, (1L << 32) - 1);
        assertThat(info.get("infotexts").get(0).asText()).contains("Seed: " + info.get("seed").asLong() + ",");
    }

    /** The body the widely used webuiapi Python client sends for txt2img with its defaults. */
    static final String WEBUIAPI_TXT2IMG = "{\"enable_hr\": false, \"denoising_strength\": 0.7, "
            + "\"firstphase_width\": 0, \"firstphase_height\": 0, \"hr_scale\": 2, \"hr_upscaler\": \"Latent\", "
            + "\"hr_second_pass_steps\": 0, \"hr_resize_x\": 0, \"hr_resize_y\": 0, \"hr_checkpoint_name\": null, "
            + "\"hr_sampler_name\": null, \"hr_prompt\": \"\", \"hr_negative_prompt\": \"\", "
            + "\"prompt\": \"a yellow triangle\", \"styles\": [], \"seed\": 5, \"subseed\": -1, "
            + "\"subseed_strength\": 0.0, \"seed_resize_from_h\": 0, \"seed_resize_from_w\": 0, "
            + "\"sampler_name\": \"Euler a\", \"scheduler\": null, \"batch_size\": 1, \"n_iter\": 1, \"steps\": 6, "
            + "\"cfg_scale\": 7.0, \"width\": 64, \"height\": 64, \"restore_faces\": false, \"tiling\": false, "
            + "\"do_not_save_samples\": false, \"do_not_save_grid\": false, \"negative_prompt\": \"\", "
            + "\"eta\": 1.0, \"s_min_uncond\": 0, \"s_churn\": 0, \"s_tmax\": 0, \"s_tmin\": 0, \"s_noise\": 1, "
            + "\"override_settings\": {}, \"override_settings_restore_afterwards\": true, \"script_args\": [], "
            + "\"script_name\": null, \"send_images\": true, \"save_images\": false, \"alwayson_scripts\": {}, "
            + "\"sampler_index\": \"Euler a\"}";

    @Test
    void aWebuiapiClientBodyWithAllItsDefaultsRunsWithNothingIgnored() {
        JsonNode r = ok(client.post("/sdapi/v1/txt2img", WEBUIAPI_TXT2IMG));
        assertThat(r.get("images")).hasSize(1);
        JsonNode info = info(r);
        assertThat(info.get("conditio").get("ignored")).as(info.toString()).isEmpty();
        assertThat(info.get("cfg_scale").asDouble()).isEqualTo(7.0);
    }

    @Test
    void fieldsThatWouldChangeTheImageInA1111AreListedAsIgnoredAndTheImageIsTheSame() {
        String plain = "{\"prompt\": \"a red cross\", \"seed\": 9, \"steps\": 4}";
        String asked = "{\"prompt\": \"a red cross\", \"seed\": 9, \"steps\": 4, \"restore_faces\": true, "
                + "\"enable_hr\": true, \"hr_scale\": 2, \"styles\": [\"cinematic\"], \"subseed_strength\": 0.3, "
                + "\"alwayson_scripts\": {\"adetailer\": {\"args\": [true]}}, \"made_up_field\": 1, "
                + "\"override_settings\": {\"sd_model_checkpoint\": \"shapes [0123456789]\", \"eta_noise_seed_delta\": 31337}}";
        JsonNode a = ok(client.post("/sdapi/v1/txt2img", plain));
        JsonNode b = ok(client.post("/sdapi/v1/txt2img", asked));
        JsonNode ignored = info(b).get("conditio").get("ignored");
        List<String> names = new ArrayList<>();
        ignored.fieldNames().forEachRemaining(names::add);
        assertThat(names).contains("restore_faces", "enable_hr", "styles", "subseed_strength",
                "alwayson_scripts.adetailer", "made_up_field", "override_settings.eta_noise_seed_delta");
        assertThat(info(b).get("conditio").get("mapped").has("override_settings.sd_model_checkpoint")).isTrue();
        assertThat(TestServers.pixels(TestServers.png(b.get("images").get(0).asText())))
                .isEqualTo(TestServers.pixels(TestServers.png(a.get("images").get(0).asText())));
    }

    @Test
    void karrasSchedulesRunTheSchedulersKarrasSigmas() {
        JsonNode suffixed = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a circle\", \"seed\": 3, "
                + "\"steps\": 5, \"sampler_name\": \"DPM++ 2M Karras\"}"));
        JsonNode separate = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a circle\", \"seed\": 3, "
                + "\"steps\": 5, \"sampler_name\": \"DPM++ 2M\", \"scheduler\": \"Karras\"}"));
        assertThat(info(separate).get("infotexts").get(0).asText()).contains("Schedule type: Karras");
        assertThat(TestServers.pixels(TestServers.png(suffixed.get("images").get(0).asText())))
                .isEqualTo(TestServers.pixels(TestServers.png(separate.get("images").get(0).asText())));
        JsonNode euler = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a circle\", \"seed\": 3, "
                + "\"steps\": 5, \"sampler_name\": \"Euler\", \"scheduler\": \"karras\"}"));
        assertThat(TestServers.pngText(Base64.getDecoder().decode(euler.get("images").get(0).asText()),
                "scheduler.config")).contains("\"use_karras_sigmas\":true");
        JsonNode ancestral = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a circle\", \"seed\": 3, "
                + "\"steps\": 5, \"sampler_name\": \"Euler a\", \"scheduler\": \"Karras\"}"));
        assertThat(info(ancestral).get("conditio").get("ignored").has("scheduler")).isTrue();
    }

    @Test
    void img2imgInpaintsTheMaskedAreaOfTheInitImage() {
        String init = TestServers.dataUrl(TestServers.example("inpaint-init.png"));
        String mask = TestServers.dataUrl(TestServers.example("inpaint-mask-bottom-right.png"));
        String body = "{\"init_images\": [\"" + init + "\"], \"mask\": \"" + mask + "\", \"prompt\": "
                + "\"a large green square at the bottom right\", \"seed\": 2, \"steps\": 20, \"denoising_strength\": 1.0, "
                + "\"mask_blur\": 0, \"inpainting_fill\": 1, \"inpaint_full_res\": false, \"resize_mode\": 0, "
                + "\"inpainting_mask_invert\": %d, \"include_init_images\": false}";
        JsonNode r = ok(client.post("/sdapi/v1/img2img", body.formatted(0)));
        JsonNode info = info(r);
        assertThat(info.get("is_using_inpainting_conditioning").asBoolean()).isTrue();
        assertThat(info.get("conditio").get("ignored")).as(info.toString()).isEmpty();
        assertThat(r.get("parameters").get("init_images").isNull()).isTrue();
        var out = TestServers.png(r.get("images").get(0).asText());
        var initImg = TestServers.png(Base64.getDecoder().decode(init.substring(init.indexOf(',') + 1)));
        // the top-left quarter is outside the mask: kept; the bottom-right is repainted green-ish
        assertThat(meanDifference(out, initImg, 0, 0, 24)).isLessThan(12.0);
        int[] c = mean(out, 44, 44, 16);
        assertThat(c[1]).isGreaterThan(c[0]).isGreaterThan(c[2]);
        JsonNode inverted = ok(client.post("/sdapi/v1/img2img", body.formatted(1)));
        var inv = TestServers.png(inverted.get("images").get(0).asText());
        assertThat(meanDifference(inv, initImg, 44, 44, 16)).as("inverted: the bottom right is kept").isLessThan(12.0);
    }

    @Test
    void img2imgWithoutAMaskUsesTheDenoisingStrength() {
        String init = TestServers.dataUrl(TestServers.example("inpaint-init.png"));
        JsonNode low = ok(client.post("/sdapi/v1/img2img", "{\"init_images\": [\"" + init + "\"], \"prompt\": "
                + "\"a blue circle\", \"seed\": 2, \"steps\": 20, \"denoising_strength\": 0.2}"));
        assertThat(info(low).get("denoising_strength").asDouble()).isEqualTo(0.2);
        assertThat(info(low).get("infotexts").get(0).asText()).contains("Denoising strength: 0.2");
        JsonNode high = ok(client.post("/sdapi/v1/img2img", "{\"init_images\": [\"" + init + "\"], \"prompt\": "
                + "\"a blue circle\", \"seed\": 2, \"steps\": 20, \"denoising_strength\": 0.95}"));
        var initImg = TestServers.png(java.util.Base64.getDecoder().decode(init.substring(init.indexOf(',') + 1)));
        assertThat(meanDifference(TestServers.png(low.get("images").get(0).asText()), initImg, 0, 0, 64))
                .as("a low strength stays closer to the init image than a high one")
                .isLessThan(meanDifference(TestServers.png(high.get("images").get(0).asText()), initImg, 0, 0, 64));
    }

    @Test
    void aControlNetUnitAsTheExtensionSendsItUsesTheModelFoldersControlNet() {
        String control = TestServers.dataUrl(TestServers.example("control-triangle-bottom-right.png"));
        JsonNode models = ok(client.get("/controlnet/model_list"));
        assertThat(models.get("model_list").toString()).contains("controlnet");
        String unit = "{\"enabled\": true, \"module\": \"none\", \"model\": \"controlnet [abcdef12]\", \"weight\": 1.0, "
                + "\"image\": \"" + control + "\", \"resize_mode\": \"Crop and Resize\", \"low_vram\": false, "
                + "\"processor_res\": 64, \"threshold_a\": 64, \"threshold_b\": 64, \"guidance_start\": 0.0, "
                + "\"guidance_end\": 1.0, \"control_mode\": \"Balanced\", \"pixel_perfect\": false}";
        JsonNode r = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a large blue triangle\", \"seed\": 4, "
                + "\"steps\": 20, \"alwayson_scripts\": {\"controlnet\": {\"args\": [" + unit + "]}}}"));
        byte[] png = Base64.getDecoder().decode(r.get("images").get(0).asText());
        assertThat(TestServers.pngText(png, "unet")).isEqualTo("unet-controlnet");
        assertThat(TestServers.pngText(png, "parameter.controlnets")).contains("model=shapes/controlnet")
                .doesNotContain(TestServers.shapes().toAbsolutePath().toString());
        var img = TestServers.png(png);
        // the mask puts the triangle at the bottom right: that corner is bluer than the top left
        assertThat(mean(img, 40, 40, 20)[2] - mean(img, 40, 40, 20)[0])
                .isGreaterThan(mean(img, 4, 4, 20)[2] - mean(img, 4, 4, 20)[0]);
        HttpResponse<String> missing = client.post("/sdapi/v1/txt2img", "{\"prompt\": \"x\", \"steps\": 2, "
                + "\"alwayson_scripts\": {\"controlnet\": {\"args\": [{\"model\": \"control_v11p_sd15_canny\", "
                + "\"image\": \"" + control + "\"}]}}}");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(client.json(missing).get("field").asText()).isEqualTo("alwayson_scripts.controlnet.args[0].model");
        assertThat(client.json(missing).get("error").asText()).contains("available: controlnet");
    }

    @Test
    void badRequestsAre400WithTheFieldNamed() {
        record Case(String body, String field) {
        }
        List<Case> cases = List.of(
                new Case("{\"prompt\": \"x\", \"steps\": 5000}", "steps"),
                new Case("{\"prompt\": \"x\", \"steps\": \"many\"}", "steps"),
                new Case("{\"prompt\": \"x\", \"width\": 65}", "width"),
                new Case("{\"prompt\": \"x\", \"width\": 99999}", "width"),
                new Case("{\"prompt\": \"x\", \"batch_size\": 10, \"n_iter\": 10}", "batch_size"),
                new Case("{\"prompt\": \"x\", \"sampler_name\": \"Restart\"}", "sampler_name"),
                new Case("{\"prompt\": 3}", "prompt"),
                new Case("{\"prompt\": \"x\", \"cfg_scale\": -1}", "cfg_scale"),
                new Case("{\"prompt\": \"x\", \"seed\": -7}", "seed"),
                new Case("not json", "body"),
                new Case("[1, 2]", "body"));
        for (Case c : cases) {
            HttpResponse<String> r = client.post("/sdapi/v1/txt2img", c.body());
            assertThat(r.statusCode()).as(c.body()).isEqualTo(400);
            assertThat(client.json(r).get("field").asText()).as(c.body()).isEqualTo(c.field());
        }
        HttpResponse<String> noInit = client.post("/sdapi/v1/img2img", "{\"prompt\": \"x\"}");
        assertThat(client.json(noInit).get("field").asText()).isEqualTo("init_images");
        HttpResponse<String> badImage = client.post("/sdapi/v1/img2img", "{\"init_images\": [\"bm90IGFuIGltYWdl\"]}");
        assertThat(badImage.statusCode()).isEqualTo(400);
        assertThat(client.json(badImage).get("field").asText()).isEqualTo("init_images[0]");
    }

    @Test
    void listsDescribeWhatThisServerHas() {
        JsonNode samplers = ok(client.get("/sdapi/v1/samplers"));
        List<String> names = new ArrayList<>();
        samplers.forEach(s -> names.add(s.get("name").asText()));
        assertThat(names).contains("Euler a", "Euler", "DPM++ 2M", "DDIM", "UniPC", "LMS", "Heun");
        JsonNode schedules = ok(client.get("/sdapi/v1/schedulers"));
        assertThat(schedules.toString()).contains("\"name\":\"karras\"", "\"label\":\"Karras\"");
        JsonNode models = ok(client.get("/sdapi/v1/sd-models"));
        assertThat(models).hasSize(1);
        assertThat(models.get(0).get("model_name").asText()).isEqualTo("shapes");
        assertThat(models.get(0).get("title").asText()).matches("shapes \\[[0-9a-f]{10}\\]");
        assertThat(models.get(0).get("filename").asText()).doesNotContain("/");
        JsonNode options = ok(client.get("/sdapi/v1/options"));
        assertThat(options.get("sd_model_checkpoint").asText()).isEqualTo(models.get(0).get("title").asText());
        assertThat(ok(client.post("/sdapi/v1/options", "{\"sd_model_checkpoint\": \"shapes\"}"))).isEmpty();
        HttpResponse<String> wrong = client.post("/sdapi/v1/options", "{\"sd_model_checkpoint\": \"sdxl\"}");
        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(client.json(wrong).get("error").asText()).contains("shapes");
        assertThat(ok(client.get("/sdapi/v1/upscalers"))).isNotEmpty();
        assertThat(ok(client.get("/sdapi/v1/loras"))).isEmpty();
    }

    @Test
    void progressShowsTheRunningJobWithAPreviewAndInterruptStopsIt() throws Exception {
        JsonNode idle = ok(client.get("/sdapi/v1/progress"));
        CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() ->
                client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a red circle\", \"seed\": 1, "
                        + TestServers.LONG_RUN + "}"));
        JsonNode p = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            p = ok(client.get("/sdapi/v1/progress"));
            if (p.get("state").get("sampling_step").asInt() > 20 && !p.get("current_image").isNull()) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(idle.get("state").get("job_count").asInt()).isZero();
        assertThat(p.get("progress").asDouble()).isGreaterThan(0).isLessThan(1);
        assertThat(p.get("state").get("sampling_steps").asInt()).isEqualTo(900);
        assertThat(p.get("state").get("job_count").asInt()).isEqualTo(1);
        assertThat(TestServers.png(p.get("current_image").asText()).getWidth()).isEqualTo(256);
        assertThat(ok(client.get("/sdapi/v1/progress?skip_current_image=true")).get("current_image").isNull()).isTrue();
        ok(client.post("/sdapi/v1/interrupt", ""));
        HttpResponse<String> r = running.get(30, TimeUnit.SECONDS);
        JsonNode info = info(ok(r));
        assertThat(info.get("conditio").get("interrupted").asBoolean()).isTrue();
        assertThat(client.json(r).get("images")).isEmpty();
        // the server keeps serving
        assertThat(ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a cross\", \"steps\": 2}")).get("images"))
                .hasSize(1);
    }

    @Test
    void concurrentClientsEachGetTheirOwnImage() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            long seed = 100 + i;
            calls.add(CompletableFuture.supplyAsync(() -> client.post("/sdapi/v1/txt2img",
                    "{\"prompt\": \"a blue square\", \"steps\": 6, \"seed\": " + seed + "}")));
        }
        for (int i = 0; i < 4; i++) {
            JsonNode r = ok(calls.get(i).get(60, TimeUnit.SECONDS));
            assertThat(info(r).get("seed").asLong()).isEqualTo(100 + i);
            JsonNode alone = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a blue square\", \"steps\": 6, "
                    + "\"seed\": " + (100 + i) + "}"));
            assertThat(TestServers.pixels(TestServers.png(r.get("images").get(0).asText())))
                    .isEqualTo(TestServers.pixels(TestServers.png(alone.get("images").get(0).asText())));
        }
    }

    @Test
    void everyOtherA1111EndpointAClientProbesAnswersWithTheShapeA1111Uses() {
        assertThat(ok(client.post("/sdapi/v1/skip", ""))).isEmpty();
        assertThat(ok(client.post("/sdapi/v1/refresh-checkpoints", ""))).isEmpty();
        for (String empty : List.of("sd-vae", "loras", "hypernetworks", "face-restorers", "realesrgan-models",
                "prompt-styles", "script-info", "sd-modules", "latent-upscale-modes")) {
            JsonNode n = ok(client.get("/sdapi/v1/" + empty));
            assertThat(n.isArray()).as(empty).isTrue();
        }
        assertThat(ok(client.get("/sdapi/v1/embeddings")).has("loaded")).isTrue();
        assertThat(ok(client.get("/sdapi/v1/scripts")).get("txt2img").toString()).contains("controlnet");
        assertThat(ok(client.get("/sdapi/v1/cmd-flags")).isObject()).isTrue();
        assertThat(ok(client.get("/controlnet/version")).get("version").asInt()).isPositive();
        assertThat(ok(client.get("/controlnet/module_list")).get("module_list").toString())
                .contains("\"none\"", "\"canny\"", "\"softedge_hed\"", "\"lineart_realistic\"", "\"scribble_hed\"")
                .doesNotContain("depth");
        HttpResponse<String> unknown = client.get("/sdapi/v1/no-such-thing");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(client.json(unknown).get("error").asText()).contains("/sdapi/v1/no-such-thing");
    }

    private static String rawBase64(String file) {
        String url = TestServers.dataUrl(TestServers.example(file));
        return url.substring(url.indexOf(',') + 1);
    }

    /** A unit as the webuiapi client's ControlNetUnit.to_dict() writes it (control_mode as a one-element list). */
    static String webuiapiUnit(String module, String controlMode) {
        return "{\"input_image\": \"" + rawBase64("control-triangle-bottom-right.png") + "\", \"mask\": null, "
                + "\"module\": \"" + module + "\", \"model\": \"controlnet\", \"weight\": 1.0, \"resize_mode\": "
                + "\"Resize and Fill\", \"lowvram\": false, \"processor_res\": 512, \"threshold_a\": 64, "
                + "\"threshold_b\": 64, \"guidance\": 1.0, \"guidance_start\": 0.0, \"guidance_end\": 1.0, "
                + "\"control_mode\": " + controlMode + ", \"pixel_perfect\": false, \"hr_option\": \"Both\"}";
    }

    @Test
    void controlNetUnitsAsTheWebuiapiClientAndTheExtensionsOwnFormatSendThemGiveTheSameImage() {
        String body = WEBUIAPI_TXT2IMG.replace("\"alwayson_scripts\": {}", "\"alwayson_scripts\": {\"ControlNet\": "
                + "{\"args\": [%s]}}").replace("a yellow triangle", "a large blue triangle").replace("\"steps\": 6",
                "\"steps\": 12");
        JsonNode webuiapi = ok(client.post("/sdapi/v1/txt2img", body.formatted(webuiapiUnit("none", "[\"Balanced\"]"))));
        assertThat(info(webuiapi).get("conditio").get("ignored")).as(info(webuiapi).toString()).isEmpty();
        String extension = "{\"enabled\": true, \"image\": {\"image\": \""
                + TestServers.dataUrl(TestServers.example("control-triangle-bottom-right.png")) + "\", \"mask\": null}, "
                + "\"module\": \"none\", \"model\": \"controlnet [0123456789]\", \"weight\": 1, \"resize_mode\": 1, "
                + "\"control_mode\": 0, \"pixel_perfect\": true}";
        JsonNode own = ok(client.post("/sdapi/v1/txt2img", body.formatted(extension)));
        assertThat(TestServers.pixels(TestServers.png(webuiapi.get("images").get(0).asText())))
                .isEqualTo(TestServers.pixels(TestServers.png(own.get("images").get(0).asText())));
        byte[] png = Base64.getDecoder().decode(own.get("images").get(0).asText());
        assertThat(TestServers.pngText(png, "unet")).isEqualTo("unet-controlnet");

        // "ControlNet is more important" is diffusers' guess mode; an A1111 preprocessor name runs Conditio's own
        JsonNode guess = ok(client.post("/sdapi/v1/txt2img", body.formatted(webuiapiUnit("softedge_hed", "2"))));
        byte[] guessPng = Base64.getDecoder().decode(guess.get("images").get(0).asText());
        assertThat(TestServers.pngText(guessPng, "parameter.controlnets")).contains("guess_mode=true",
                "preprocess=softedge");
        JsonNode mapped = info(guess).get("conditio").get("mapped");
        assertThat(mapped.get("alwayson_scripts.controlnet.args[0].control_mode").asText()).contains("guess_mode");
        assertThat(mapped.get("alwayson_scripts.controlnet.args[0].module").asText()).contains("softedge");
        assertThat(info(guess).get("conditio").get("ignored").has("alwayson_scripts.controlnet.args[0].processor_res"))
                .as("a preprocessor at 512 px in A1111, at the output size here").isTrue();
        JsonNode prompt = ok(client.post("/sdapi/v1/txt2img", body.formatted(webuiapiUnit("none",
                "\"My prompt is more important\""))));
        assertThat(info(prompt).get("conditio").get("ignored").has("alwayson_scripts.controlnet.args[0].control_mode"))
                .isTrue();
        for (String bad : List.of(webuiapiUnit("depth_midas", "0"), webuiapiUnit("none", "7"))) {
            HttpResponse<String> r = client.post("/sdapi/v1/txt2img", body.formatted(bad));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(client.json(r).get("field").asText()).startsWith("alwayson_scripts.controlnet.args[0].");
        }
    }

    @Test
    void aUnitNamingAT2IAdapterRunsItAsTheExtensionDoesAndMatchesTheNativeApi() throws Exception {
        String sketch = TestServers.dataUrl(TestServers.example("sketch-circle-22-40.png"));
        assertThat(ok(client.get("/controlnet/model_list")).get("model_list").toString()).contains("t2i-adapter");
        JsonNode r = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a red circle\", \"seed\": 6, "
                + "\"steps\": 10, \"cfg_scale\": 3, \"alwayson_scripts\": {\"controlnet\": {\"args\": [{\"model\": "
                + "\"t2i-adapter\", \"module\": \"none\", \"image\": \"" + sketch + "\", \"weight\": 1.0, "
                + "\"guidance_end\": 1.0}]}}}"));
        byte[] png = Base64.getDecoder().decode(r.get("images").get(0).asText());
        assertThat(TestServers.pngText(png, "unet")).isEqualTo("unet-adapter");
        assertThat(info(r).get("conditio").get("mapped").get("alwayson_scripts.controlnet.args[0].model").asText())
                .contains("t2i_adapters");
        HttpResponse<String> created = client.post("/v1/generations", "{\"prompt\": \"a red circle\", \"seed\": 6, "
                + "\"steps\": 10, \"guidance_scale\": 3, \"parameters\": {\"t2i_adapters\": [{\"model\": "
                + "\"t2i-adapter\", \"image\": \"" + sketch + "\"}]}}");
        String id = client.json(created).get("id").asText();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!client.json(client.get("/v1/generations/" + id)).get("state").asText().equals("done")
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        byte[] own = client.getBytes("/v1/generations/" + id + "/image").body();
        assertThat(TestServers.pixels(TestServers.png(png))).as("the same adapter run through either API")
                .isEqualTo(TestServers.pixels(TestServers.png(own)));
    }

    @Test
    void errorsNameModelsNotTheServersFolders() {
        JsonNode r = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a cross\", \"steps\": 2}"));
        assertThat(r.get("images")).hasSize(1);
        HttpResponse<String> missing = client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a cross <lora:nope:0.5>\", "
                + "\"steps\": 2}");
        assertThat(missing.statusCode()).as(missing.body()).isEqualTo(400);
        String error = client.json(missing).get("error").asText();
        assertThat(error).contains("nope.safetensors", "shapes/loras")
                .doesNotContain(TestServers.shapes().toAbsolutePath().normalize().toString())
                .doesNotContain(TestServers.shapes().getParent().toAbsolutePath().normalize().toString());
    }

    /** The img2img body the webuiapi client sends with its defaults (mask_blur 4, inpainting_fill 0, ...). */
    static String webuiapiImg2img(String mask) {
        return "{\"init_images\": [\"" + TestServers.dataUrl(TestServers.example("inpaint-init.png")) + "\"], "
                + "\"resize_mode\": 0, \"denoising_strength\": 0.75, \"mask_blur\": 4, \"inpainting_fill\": 0, "
                + "\"inpaint_full_res\": true, \"inpaint_full_res_padding\": 0, \"inpainting_mask_invert\": 0, "
                + "\"initial_noise_multiplier\": 1, \"prompt\": \"a blue circle\", \"styles\": [], \"seed\": 8, "
                + "\"subseed\": -1, \"subseed_strength\": 0, \"seed_resize_from_h\": 0, \"seed_resize_from_w\": 0, "
                + "\"sampler_name\": \"Euler a\", \"batch_size\": 1, \"n_iter\": 1, \"steps\": 8, \"cfg_scale\": 7.0, "
                + "\"image_cfg_scale\": 1.5, \"width\": 64, \"height\": 64, \"restore_faces\": false, \"tiling\": false, "
                + "\"do_not_save_samples\": false, \"do_not_save_grid\": false, \"negative_prompt\": \"\", \"eta\": 1.0, "
                + "\"s_churn\": 0, \"s_tmax\": 0, \"s_tmin\": 0, \"s_noise\": 1, \"override_settings\": {}, "
                + "\"override_settings_restore_afterwards\": true, \"sampler_index\": \"Euler a\", "
                + "\"include_init_images\": false, \"script_name\": null, \"script_args\": [], \"send_images\": true, "
                + "\"save_images\": false, \"alwayson_scripts\": {}"
                + (mask == null ? "" : ", \"mask\": \"" + mask + "\"") + "}";
    }

    @Test
    void webuiapiImg2imgBodiesReportTheInpaintingSettingsConditioDoesNotRunOnlyWhenThereIsAMask() {
        JsonNode plain = ok(client.post("/sdapi/v1/img2img", webuiapiImg2img(null)));
        List<String> names = new ArrayList<>();
        info(plain).get("conditio").get("ignored").fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("image_cfg_scale");
        JsonNode masked = ok(client.post("/sdapi/v1/img2img", webuiapiImg2img(TestServers.dataUrl(
                TestServers.example("inpaint-mask-bottom-right.png")))));
        names.clear();
        info(masked).get("conditio").get("ignored").fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactlyInAnyOrder("image_cfg_scale", "mask_blur", "inpainting_fill",
                "inpaint_full_res");
        assertThat(info(masked).get("is_using_inpainting_conditioning").asBoolean()).isTrue();
        assertThat(masked.get("images")).hasSize(1);
    }

    @Test
    void sillyTavernsTxt2imgBodyRunsWithOnlySaveImagesReported() {
        // SillyTavern's stable-diffusion extension: its server drops url/auth and forwards the rest
        String body = "{\"prompt\": \"a red circle at the top left\", \"negative_prompt\": \"lowres\", "
                + "\"sampler_name\": \"DPM++ 2M\", \"scheduler\": \"Karras\", \"steps\": 8, \"cfg_scale\": 7, "
                + "\"width\": 64, \"height\": 64, \"restore_faces\": false, \"enable_hr\": false, "
                + "\"hr_upscaler\": \"Latent\", \"hr_scale\": 2, \"hr_additional_modules\": [], "
                + "\"denoising_strength\": 0.7, \"hr_second_pass_steps\": 0, \"seed\": -1, "
                + "\"override_settings\": {\"CLIP_stop_at_last_layers\": 1}, "
                + "\"override_settings_restore_afterwards\": true, \"clip_skip\": 1, \"save_images\": true, "
                + "\"send_images\": true, \"n_iter\": 1, \"s_churn\": 0.0, \"s_min_uncond\": 0.0, "
                + "\"s_noise\": 1.0, \"s_tmax\": null, \"s_tmin\": 0.0}";
        JsonNode r = ok(client.post("/sdapi/v1/txt2img", body));
        JsonNode info = info(r);
        List<String> names = new ArrayList<>();
        info.get("conditio").get("ignored").fieldNames().forEachRemaining(names::add);
        assertThat(names).as(info.toString()).containsExactly("save_images");
        assertThat(info.get("infotexts").get(0).asText()).contains("Sampler: DPM++ 2M, Schedule type: Karras");
        assertThat(info.get("seed").asLong()).isNotNegative();
    }

    @Test
    void numbersSentAsStringsAreReadAsA1111sRequestModelsReadThem() {
        JsonNode strings = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a cross\", \"steps\": \"6\", "
                + "\"seed\": \"12\", \"cfg_scale\": \"3.5\", \"width\": \"64\", \"height\": \"64\"}"));
        JsonNode numbers = ok(client.post("/sdapi/v1/txt2img", "{\"prompt\": \"a cross\", \"steps\": 6, "
                + "\"seed\": 12, \"cfg_scale\": 3.5, \"width\": 64, \"height\": 64}"));
        assertThat(TestServers.pixels(TestServers.png(strings.get("images").get(0).asText())))
                .isEqualTo(TestServers.pixels(TestServers.png(numbers.get("images").get(0).asText())));
        HttpResponse<String> bad = client.post("/sdapi/v1/txt2img", "{\"prompt\": \"x\", \"steps\": \"six\"}");
        assertThat(client.json(bad).get("field").asText()).isEqualTo("steps");
    }

    @Test
    void openWebUisAutomatic1111EngineWorksWithBasicAuthCredentials() {
        // Open WebUI checks /sdapi/v1/options, lists /sdapi/v1/sd-models, sets the model by title through
        // POST /sdapi/v1/options, then posts txt2img with its size and steps; AUTOMATIC1111_API_AUTH travels as
        // 'authorization: Basic base64(user:password)'
        try (ConditioServer secured = TestServers.start(b -> b.optApiKey("s3cret"))) {
            String basic = "Basic " + Base64.getEncoder().encodeToString("webui:s3cret".getBytes(
                    java.nio.charset.StandardCharsets.UTF_8));
            String wrongBasic = "Basic " + Base64.getEncoder().encodeToString("webui:guess".getBytes(
                    java.nio.charset.StandardCharsets.UTF_8));
            TestServers.Client c = new TestServers.Client(secured);
            java.util.function.Function<String, java.net.http.HttpRequest.Builder> req = path ->
                    c.request(path).header("authorization", basic);
            JsonNode options = client.json(c.send(req.apply("/sdapi/v1/options").GET().build()));
            JsonNode models = client.json(c.send(req.apply("/sdapi/v1/sd-models").GET().build()));
            assertThat(options.get("sd_model_checkpoint").asText()).isEqualTo(models.get(0).get("title").asText());
            HttpResponse<String> set = c.send(req.apply("/sdapi/v1/options").header("Content-Type",
                    "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                    "{\"sd_model_checkpoint\": \"" + models.get(0).get("title").asText() + "\"}")).build());
            assertThat(set.statusCode()).isEqualTo(200);
            HttpResponse<String> r = c.send(req.apply("/sdapi/v1/txt2img").header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a green square\", "
                            + "\"batch_size\": 2, \"width\": 64, \"height\": 64, \"steps\": 6, "
                            + "\"negative_prompt\": \"blurry\", \"cfg_scale\": 4, \"sampler_name\": \"Euler a\"}"))
                    .build());
            JsonNode body = ok(r);
            assertThat(body.get("images")).hasSize(2);
            assertThat(info(body).get("all_seeds")).hasSize(2);
            HttpResponse<String> refused = c.send(c.request("/sdapi/v1/options").header("authorization", wrongBasic)
                    .GET().build());
            assertThat(refused.statusCode()).isEqualTo(401);
        }
    }

    static double meanDifference(java.awt.image.BufferedImage a, java.awt.image.BufferedImage b, int x0, int y0,
            int size) {
        double sum = 0;
        for (int y = y0; y < y0 + size; y++) {
            for (int x = x0; x < x0 + size; x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int s = 0; s < 24; s += 8) {
                    sum += Math.abs(((p >> s) & 0xff) - ((q >> s) & 0xff));
                }
            }
        }
        return sum / (size * size * 3.0);
    }

    static int[] mean(java.awt.image.BufferedImage img, int x0, int y0, int size) {
        long r = 0;
        long g = 0;
        long b = 0;
        for (int y = y0; y < y0 + size; y++) {
            for (int x = x0; x < x0 + size; x++) {
                int p = img.getRGB(x, y);
                r += (p >> 16) & 0xff;
                g += (p >> 8) & 0xff;
                b += p & 0xff;
            }
        }
        int n = size * size;
        return new int[] {(int) (r / n), (int) (g / n), (int) (b / n)};
    }
}
