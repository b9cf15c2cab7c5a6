package io.conditio.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.GenerationRequest;
import io.conditio.api.RgbImage;
import io.conditio.core.pipeline.SchedulerCatalog;
import io.conditio.core.recipe.InfoText;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The AUTOMATIC1111 web UI's HTTP API ({@code /sdapi/v1/...}) and the ControlNet extension's unit format, on
 * Conditio. Every field its request models define is accepted; the ones Conditio runs are mapped, and any other
 * field whose value would change the picture in A1111 is listed in {@code info.conditio.ignored} rather than
 * silently dropped.
 */
final class A1111Api {
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
            .withZone(ZoneOffset.UTC);

    /** Fields Conditio maps onto a request. */
    private static final Set<String> MAPPED = Set.of("prompt", "negative_prompt", "seed", "steps", "cfg_scale",
            "width", "height", "sampler_name", "sampler_index", "scheduler", "batch_size", "n_iter",
            "override_settings", "alwayson_scripts", "send_images", "save_images", "do_not_save_samples",
            "do_not_save_grid", "override_settings_restore_afterwards", "init_images", "denoising_strength", "mask",
            "inpainting_mask_invert", "resize_mode", "include_init_images", "force_task_id", "subseed",
            "enable_hr", "eta");

    /** Fields Conditio does not run, with the value at which A1111 behaves as Conditio does. */
    private static final Map<String, Object> INERT = new LinkedHashMap<>();

    static {
        INERT.put("styles", List.of());
        INERT.put("subseed_strength", 0);
        INERT.put("seed_resize_from_h", -1);
        INERT.put("seed_resize_from_w", -1);
        INERT.put("restore_faces", false);
        INERT.put("tiling", false);
        INERT.put("s_churn", 0);
        INERT.put("s_tmax", 0);
        INERT.put("s_tmin", 0);
        INERT.put("s_noise", 1);
        INERT.put("s_min_uncond", 0);
        INERT.put("refiner_checkpoint", "");
        INERT.put("refiner_switch_at", null);
        INERT.put("script_name", "");
        INERT.put("script_args", List.of());
        INERT.put("infotext", "");
        INERT.put("image_cfg_scale", null);
        INERT.put("mask_blur", 0);
        INERT.put("mask_blur_x", 0);
        INERT.put("mask_blur_y", 0);
        INERT.put("mask_round", true);
        INERT.put("inpainting_fill", 1);
        INERT.put("inpaint_full_res", false);
        INERT.put("initial_noise_multiplier", 1);
        INERT.put("latent_mask", null);
        INERT.put("comments", null);
        INERT.put("disable_extra_networks", false);
    }

    /** Inpainting fields: they only matter with a mask. */
    private static final Set<String> MASK_ONLY = Set.of("mask_blur", "mask_blur_x", "mask_blur_y", "mask_round",
            "inpainting_fill", "inpaint_full_res", "inpaint_full_res_padding");

    /** Hires-fix fields: they only matter with enable_hr. */
    private static final Set<String> HIRES = Set.of("hr_scale", "hr_upscaler", "hr_second_pass_steps",
            "hr_resize_x", "hr_resize_y", "hr_checkpoint_name", "hr_sampler_name", "hr_scheduler", "hr_prompt",
            "hr_negative_prompt", "hr_cfg", "hr_distilled_cfg", "hr_additional_modules", "firstphase_width",
            "firstphase_height");

    private final ModelCatalog catalog;
    private final GenerationQueue queue;
    private final java.util.function.Supplier<SchedulerCatalog> schedulers;
    private final Limits limits;
    private final Map<String, Object> options = new ConcurrentHashMap<>();
    private final java.util.function.Supplier<Set<String>> preprocessors;

    private final java.util.function.Supplier<io.conditio.core.parameters.ParameterCatalog> declarations;

    A1111Api(ModelCatalog catalog, GenerationQueue queue, java.util.function.Supplier<SchedulerCatalog> schedulers,
            Limits limits,
            java.util.function.Supplier<Set<String>> preprocessors,
            java.util.function.Supplier<io.conditio.core.parameters.ParameterCatalog> declarations) {
        this.preprocessors = preprocessors;
        this.declarations = declarations;
        this.catalog = catalog;
        this.queue = queue;
        this.schedulers = schedulers;
        this.limits = limits;
    }

    void register(RoutesConfig r) {
        r.post("/sdapi/v1/txt2img", ctx -> generate(ctx, false));
        r.post("/sdapi/v1/img2img", ctx -> generate(ctx, true));
        r.get("/sdapi/v1/progress", this::progress);
        r.post("/sdapi/v1/interrupt", ctx -> {
            queue.interruptRunning();
            ctx.json(Map.of());
        });
        r.post("/sdapi/v1/skip", ctx -> {
            queue.interruptRunning();
            ctx.json(Map.of());
        });
        r.get("/sdapi/v1/samplers", ctx -> ctx.json(samplers()));
        r.get("/sdapi/v1/schedulers", ctx -> ctx.json(schedules()));
        r.get("/sdapi/v1/sd-models", ctx -> ctx.json(models()));
        r.post("/sdapi/v1/refresh-checkpoints", ctx -> ctx.json(Map.of()));
        r.get("/sdapi/v1/options", ctx -> ctx.json(options()));
        r.post("/sdapi/v1/options", this::setOptions);
        r.get("/sdapi/v1/upscalers", ctx -> ctx.json(List.of(upscaler())));
        r.get("/sdapi/v1/latent-upscale-modes", ctx -> ctx.json(List.of()));
        for (String empty : List.of("sd-vae", "loras", "hypernetworks", "face-restorers", "realesrgan-models",
                "prompt-styles", "script-info", "sd-modules")) {
            r.get("/sdapi/v1/" + empty, ctx -> ctx.json(List.of()));
        }
        r.get("/sdapi/v1/embeddings", ctx -> ctx.json(Map.of("loaded", Map.of(), "skipped", Map.of())));
        r.get("/sdapi/v1/scripts", ctx -> ctx.json(Map.of("txt2img", List.of("controlnet"), "img2img",
                List.of("controlnet"))));
        r.get("/sdapi/v1/cmd-flags", ctx -> ctx.json(Map.of()));
        r.get("/controlnet/version", ctx -> ctx.json(Map.of("version", 2)));
        r.get("/controlnet/model_list", ctx -> {
            java.util.Set<String> names = new java.util.TreeSet<>(catalog.controlNets(catalog.defaultModel()).keySet());
            names.addAll(catalog.named(catalog.defaultModel(), ModelCatalog.T2I_ADAPTER).keySet());
            ctx.json(Map.of("model_list", new ArrayList<>(names)));
        });
        r.get("/controlnet/module_list", ctx -> ctx.json(Map.of("module_list",
                ControlNetUnits.moduleList(preprocessors.get()))));
    }

    private static Map<String, Object> upscaler() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "None");
        m.put("model_name", null);
        m.put("model_path", null);
        m.put("model_url", null);
        m.put("scale", 1);
        return m;
    }

    // ---- generation ------------------------------------------------------------------------------------------

    /** A parsed request: what to run and what to say about it. */
    record Parsed(String model, List<GenerationRequest> requests, List<Long> seeds, String sampler,
            String schedule, Map<String, Object> ignored, Map<String, Object> mapped, ObjectNode body) {
    }

    private void generate(Context ctx, boolean img2img) throws InterruptedException {
        ObjectNode body = JsonFields.parseObject(ctx.body());
        Parsed p = parse(body, img2img);
        // batch_size images of one prompt run as one UNet batch, n_iter batches one after another, as in A1111
        Job job = queue.submit(p.model(), p.requests(), JsonFields.integer(body, "batch_size", 1),
                (request, prov) -> infotext(p, request, prov));
        Job done;
        try {
            done = job.finished().get();
        } catch (InterruptedException e) {
            job.cancel();
            throw e;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        if (done.state() == Job.State.FAILED) {
            throw new ApiError(done.failedStatus() == 0 ? 500 : done.failedStatus(), null, done.error());
        }
        boolean send = JsonFields.bool(body, "send_images", true);
        List<String> images = new ArrayList<>();
        List<String> infotexts = new ArrayList<>();
        for (Job.Output o : done.outputs()) {
            if (send) {
                images.add(Base64.getEncoder().encodeToString(o.png()));
            }
            infotexts.add(o.infotext());
        }
        ObjectNode echo = body.deepCopy();
        if (img2img && !JsonFields.bool(body, "include_init_images", false)) {
            echo.putNull("init_images");
            echo.putNull("mask");
        }
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("images", images);
        response.put("parameters", echo);
        response.put("info", JsonFields.write(info(p, done, infotexts)));
        ctx.json(response);
    }

    /** Number fields that A1111's request models (pydantic) also take as numeric strings, as some clients send. */
    private static final List<String> NUMBERS = List.of("steps", "cfg_scale", "width", "height", "seed", "subseed",
            "batch_size", "n_iter", "denoising_strength", "inpainting_mask_invert", "resize_mode", "clip_skip");

    private static void coerceNumbers(ObjectNode body) {
        for (String f : NUMBERS) {
            JsonNode v = body.get(f);
            if (v != null && v.isTextual()) {
                try {
                    java.math.BigDecimal d = new java.math.BigDecimal(v.asText().strip());
                    body.set(f, d.scale() <= 0 || d.stripTrailingZeros().scale() <= 0
                            ? JsonFields.MAPPER.getNodeFactory().numberNode(d.toBigInteger())
                            : JsonFields.MAPPER.getNodeFactory().numberNode(d.doubleValue()));
                } catch (NumberFormatException e) {
                    // left as it is: the field's reader names it
                }
            }
        }
    }

    Parsed parse(ObjectNode body, boolean img2img) {
        coerceNumbers(body);
        Map<String, Object> ignored = new LinkedHashMap<>();
        Map<String, Object> mapped = new LinkedHashMap<>();
        String model = catalog.defaultModel();
        JsonNode overrides = body.get("override_settings");
        Integer clipSkip = null;
        if (overrides != null && !overrides.isNull()) {
            if (!overrides.isObject()) {
                throw ApiError.badField("override_settings", "expected an object, got " + overrides.getNodeType());
            }
            for (Map.Entry<String, JsonNode> e : overrides.properties()) {
                String key = e.getKey();
                JsonNode v = e.getValue();
                if (key.equals("sd_model_checkpoint") && v.isTextual()) {
                    model = catalog.resolve("override_settings.sd_model_checkpoint", v.asText()).name();
                    mapped.put("override_settings.sd_model_checkpoint", model);
                } else if (key.equals("CLIP_stop_at_last_layers") && v.isNumber()) {
                    if (v.asInt() > 1) {
                        clipSkip = v.asInt() - 1;
                        mapped.put("override_settings.CLIP_stop_at_last_layers", "clip_skip " + clipSkip);
                    }
                } else if (key.equals("sd_vae") && (v.isNull() || List.of("Automatic", "None", "")
                        .contains(v.asText()))) {
                    continue;
                } else {
                    ignored.put("override_settings." + key, v);
                }
            }
        }
        boolean masked = img2img && body.hasNonNull("mask") && !body.get("mask").asText().isBlank();
        Integer topClipSkip = JsonFields.integer(body, "clip_skip", null);
        if (topClipSkip != null && topClipSkip > 1 && clipSkip == null) {
            clipSkip = topClipSkip - 1;
            mapped.put("clip_skip", "clip_skip " + clipSkip);
        }
        for (Map.Entry<String, JsonNode> e : body.properties()) {
            String f = e.getKey();
            JsonNode v = e.getValue();
            if (MAPPED.contains(f) || f.equals("clip_skip")) {
                continue;
            }
            if (MASK_ONLY.contains(f) && !masked || f.equals("inpaint_full_res_padding")) {
                continue; // A1111 reads them only when inpainting (the padding only with inpaint_full_res)
            }
            if (HIRES.contains(f)) {
                continue; // reported with enable_hr
            }
            if (f.equals("denoising_strength")) {
                continue;
            }
            if (INERT.containsKey(f)) {
                if (!inert(v, INERT.get(f))) {
                    ignored.put(f, v);
                }
            } else {
                ignored.put(f, v);
            }
        }
        if (JsonFields.bool(body, "enable_hr", false)) {
            ignored.put("enable_hr", true);
        }
        if (JsonFields.bool(body, "save_images", false)) {
            ignored.put("save_images", true);
        }

        String prompt = JsonFields.text(body, "prompt", "");
        String negative = JsonFields.text(body, "negative_prompt", "");
        Integer steps = JsonFields.integer(body, "steps", null);
        if (steps != null && (steps < 1 || steps > limits.maxSteps())) {
            throw ApiError.badField("steps", steps + " is out of range; expected 1 to " + limits.maxSteps());
        }
        Double cfg = JsonFields.number(body, "cfg_scale", null);
        if (cfg != null && (cfg < 0 || cfg > 100)) {
            throw ApiError.badField("cfg_scale", cfg + " is out of range; expected 0 to 100");
        }
        Integer width = JsonFields.integer(body, "width", null);
        Integer height = JsonFields.integer(body, "height", null);
        int batch = JsonFields.integer(body, "batch_size", 1);
        int iters = JsonFields.integer(body, "n_iter", 1);
        if (batch < 1) {
            throw ApiError.badField("batch_size", batch + ": expected at least 1");
        }
        if (iters < 1) {
            throw ApiError.badField("n_iter", iters + ": expected at least 1");
        }
        if ((long) batch * iters > limits.maxImages()) {
            throw ApiError.badField("batch_size", "batch_size " + batch + " × n_iter " + iters + " = "
                    + (long) batch * iters + " images; this server makes at most " + limits.maxImages()
                    + " per request");
        }
        int count = batch * iters;
        long seed = JsonFields.longValue(body, "seed", -1L);
        if (seed < -1) {
            throw ApiError.badField("seed", seed + ": expected -1 (random) or a seed >= 0");
        }
        if (seed == -1) {
            seed = ThreadLocalRandom.current().nextLong(1L << 32);
        }

        // sampler and schedule
        String samplerName = JsonFields.text(body, "sampler_name", null);
        if (samplerName == null || samplerName.isBlank()) {
            samplerName = JsonFields.text(body, "sampler_index", null);
        }
        String scheduleGiven = JsonFields.text(body, "scheduler", null);
        String preset = null;
        String samplerLabel;
        Map<String, Object> schedulerConfig = null;
        String scheduleLabel = "Automatic";
        if (samplerName == null || samplerName.isBlank()) {
            samplerLabel = null; // the model folder's scheduler, named after the run
        } else {
            Samplers.Sampler s = Samplers.find(samplerName);
            if (s == null || !schedulers.get().presets().containsKey(s.preset())) {
                throw ApiError.badField(body.has("sampler_name") ? "sampler_name" : "sampler_index",
                        "no sampler '" + samplerName + "' in Conditio; available: " + String.join(", ",
                                samplerNames()));
            }
            samplerLabel = s.name();
            preset = s.preset();
            String schedule = Samplers.suffixSchedule(samplerName);
            if (scheduleGiven != null && !scheduleGiven.isBlank()) {
                schedule = scheduleGiven.strip().toLowerCase(Locale.ROOT);
            }
            if (schedule != null && !schedule.equals("automatic") && !schedule.equals("uniform")) {
                if (schedule.equals("karras") && s.karrasPreset() != null) {
                    preset = s.karrasPreset();
                    scheduleLabel = "Karras";
                } else if (schedule.equals("karras") && s.sigmaSchedules()) {
                    schedulerConfig = Map.of("use_karras_sigmas", true);
                    scheduleLabel = "Karras";
                } else if (schedule.equals("exponential") && s.sigmaSchedules()) {
                    schedulerConfig = Map.of("use_exponential_sigmas", true);
                    scheduleLabel = "Exponential";
                } else {
                    ignored.put("scheduler", schedule + " (not available for " + s.name() + "; ran Automatic)");
                }
            } else if (schedule != null && schedule.equals("uniform")) {
                scheduleLabel = "Uniform";
            }
            mapped.put("sampler_name", samplerLabel + " -> " + preset
                    + (schedulerConfig == null ? "" : " " + schedulerConfig));
            Double eta = JsonFields.number(body, "eta", null);
            // A1111 reads eta for DDIM (default 0) and for the ancestral and SDE samplers (default 1); Conditio's
            // schedulers run those defaults
            double runs = preset.startsWith("ddim") ? 0.0 : 1.0;
            boolean reads = preset.startsWith("ddim") || preset.endsWith("-a") || preset.contains("sde");
            if (eta != null && reads && eta != runs) {
                ignored.put("eta", trim(Double.toString(eta)) + " (ran " + trim(Double.toString(runs)) + ")");
            }
        }

        // images
        List<RgbImage> inits = new ArrayList<>();
        RgbImage mask = null;
        Double strength = null;
        if (img2img) {
            List<String> given = JsonFields.strings(body, "init_images");
            if (given.isEmpty()) {
                throw ApiError.badField("init_images", "img2img needs at least one image (base64 PNG or JPEG)");
            }
            for (int i = 0; i < given.size(); i++) {
                inits.add(ImageData.decode("init_images[" + i + "]", given.get(i), limits));
            }
            if (width == null || height == null) {
                int w = inits.get(0).width() / 8 * 8;
                int h = inits.get(0).height() / 8 * 8;
                width = width == null ? w : width;
                height = height == null ? h : height;
            }
            strength = JsonFields.number(body, "denoising_strength", 0.75);
            if (strength <= 0 || strength > 1) {
                throw ApiError.badField("denoising_strength", strength + ": expected more than 0 and at most 1");
            }
            String maskText = JsonFields.text(body, "mask", null);
            if (maskText != null && !maskText.isBlank()) {
                mask = ImageData.decode("mask", maskText, limits);
                Integer invert = JsonFields.integer(body, "inpainting_mask_invert", 0);
                if (invert != 0 && invert != 1) {
                    throw ApiError.badField("inpainting_mask_invert", invert + ": expected 0 or 1");
                }
                if (invert == 1) {
                    mask = ImageData.invert(mask);
                    mapped.put("inpainting_mask_invert", 1);
                }
            }
            Integer resize = JsonFields.integer(body, "resize_mode", 0);
            if (resize != 0) {
                ignored.put("resize_mode", resize + " (ran 0, just resize)");
            }
        }
        checkSize(width, height);
        List<Map<String, Object>> adapters = new ArrayList<>();
        List<Map<String, Object>> controlnets = controlNets(body, model, width, height, ignored, mapped, adapters);

        List<GenerationRequest> requests = new ArrayList<>();
        List<Long> seeds = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            GenerationRequest.Builder b = GenerationRequest.builder().setPrompt(prompt).optNegativePrompt(negative)
                    .optSeed(seed + i);
            seeds.add(seed + i);
            Optional.ofNullable(steps).ifPresent(b::optSteps);
            Optional.ofNullable(cfg).ifPresent(b::optGuidanceScale);
            Optional.ofNullable(width).ifPresent(b::optWidth);
            Optional.ofNullable(height).ifPresent(b::optHeight);
            Optional.ofNullable(preset).ifPresent(b::optScheduler);
            Optional.ofNullable(schedulerConfig).ifPresent(b::optSchedulerConfig);
            if (img2img) {
                RgbImage init = inits.get(i % inits.size());
                b.optParameter("init_image", width == null ? init : ImageData.resize(init, width, height));
                if (mask != null) {
                    b.optParameter("mask_image", width == null ? mask : ImageData.resize(mask, width, height));
                }
                // masked or not: A1111's inpainting repaints the masked area fully at denoising_strength 1; below it,
                // img2img
                b.optParameter("strength", strength);
            }
            if (!adapters.isEmpty()) {
                b.optParameter("t2i_adapters", adapters);
            }
            if (!controlnets.isEmpty()) {
                b.optParameter("controlnets", controlnets);
            }
            if (clipSkip != null) {
                b.optParameter("clip_skip", clipSkip);
            }
            GenerationRequest request = b.build();
            if (i == 0) {
                try {
                    declarations.get().validate(request.parameters()); // as the plugins declare them, before it queues
                } catch (io.conditio.api.InvalidRequestException e) {
                    throw new ApiError(400, null, e.getMessage());
                }
            }
            requests.add(request);
        }
        return new Parsed(model, requests, seeds, samplerLabel, scheduleLabel, ignored, mapped, body);
    }

    private void checkSize(Integer width, Integer height) {
        for (Map.Entry<String, Integer> e : new LinkedHashMap<>(Map.of("width", width == null ? 0 : width,
                "height", height == null ? 0 : height)).entrySet()) {
            int v = e.getValue();
            if (v == 0 && (e.getKey().equals("width") ? width == null : height == null)) {
                continue;
            }
            if (v < 8 || v > limits.maxSide()) {
                throw ApiError.badField(e.getKey(), v + " is out of range; expected 8 to " + limits.maxSide());
            }
            if (v % 8 != 0) {
                throw ApiError.badField(e.getKey(), v + " is not a multiple of 8");
            }
        }
        if (width != null && height != null && (long) width * height > limits.maxPixels()) {
            throw ApiError.badField("width", width + "x" + height + " is more than " + limits.maxPixels()
                    + " pixels");
        }
    }

    /** @return the ControlNet units; the units naming T2I-Adapters go to {@code adapters} */
    private List<Map<String, Object>> controlNets(ObjectNode body, String model, Integer width, Integer height,
            Map<String, Object> ignored, Map<String, Object> mapped, List<Map<String, Object>> adapters) {
        List<Map<String, Object>> out = new ArrayList<>();
        JsonNode scripts = body.get("alwayson_scripts");
        if (scripts == null || scripts.isNull()) {
            return out;
        }
        if (!scripts.isObject()) {
            throw ApiError.badField("alwayson_scripts", "expected an object of {script name: {args: [...]}}");
        }
        for (Map.Entry<String, JsonNode> e : scripts.properties()) {
            String name = e.getKey();
            JsonNode args = e.getValue().get("args");
            if (!name.equalsIgnoreCase("controlnet")) {
                if (args != null && args.isArray() && args.isEmpty()) {
                    continue;
                }
                ignored.put("alwayson_scripts." + name, "script not available in Conditio");
                continue;
            }
            if (args == null || args.isNull()) {
                continue;
            }
            if (!args.isArray()) {
                throw ApiError.badField("alwayson_scripts.controlnet.args", "expected a list of ControlNet units");
            }
            for (int i = 0; i < args.size(); i++) {
                String where = "alwayson_scripts.controlnet.args[" + i + "]";
                JsonNode unit = args.get(i);
                if (!unit.isObject()) {
                    throw ApiError.badField(where, "expected a ControlNet unit object (enabled, module, model, "
                            + "weight, image, ...), got " + unit.getNodeType());
                }
                if (!JsonFields.bool(unit, "enabled", true)) {
                    continue;
                }
                String cnModel = JsonFields.text(unit, "model", null);
                if (cnModel == null || cnModel.isBlank() || cnModel.equalsIgnoreCase("none")) {
                    ignored.put(where, "no model: unit skipped");
                    continue;
                }
                String imageText = null;
                JsonNode image = unit.has("image") ? unit.get("image") : unit.get("input_image");
                if (image != null && image.isObject()) {
                    image = image.get("image");
                }
                if (image != null && image.isTextual()) {
                    imageText = image.asText();
                }
                if (imageText == null || imageText.isBlank()) {
                    throw ApiError.badField(where + ".image", "a ControlNet unit needs its control image (base64)");
                }
                RgbImage control = ImageData.decode(where + ".image", imageText, limits);
                if (width != null && height != null) {
                    control = ControlNetUnits.fit(control, width, height, unit.get("resize_mode"), where, ignored);
                }
                String module = ControlNetUnits.preprocessor(JsonFields.text(unit, "module", "none"),
                        preprocessors.get(), where, mapped);
                // the extension runs T2I-Adapters as units too: a unit's model may name either
                java.nio.file.Path cn = catalog.findNamed(model, ModelCatalog.CONTROLNET, cnModel).orElse(null);
                java.nio.file.Path adapter = cn != null ? null
                        : catalog.findNamed(model, ModelCatalog.T2I_ADAPTER, cnModel).orElse(null);
                if (cn == null && adapter == null) {
                    java.util.Set<String> names = new java.util.TreeSet<>(catalog.controlNets(model).keySet());
                    names.addAll(catalog.named(model, ModelCatalog.T2I_ADAPTER).keySet());
                    throw ApiError.badField(where + ".model", "no ControlNet or T2I-Adapter '" + cnModel
                            + "' for model " + model + "; available: " + (names.isEmpty() ? "none"
                            : String.join(", ", names)));
                }
                double start = JsonFields.number(unit, "guidance_start", 0.0);
                double end = JsonFields.number(unit, "guidance_end", JsonFields.number(unit, "guidance", 1.0));
                int controlMode = ControlNetUnits.controlMode(unit.get("control_mode"), where);
                boolean guess = JsonFields.bool(unit, "guessmode", false);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("model", cn != null ? cn : adapter);
                m.put("image", control);
                m.put("scale", JsonFields.number(unit, "weight", 1.0));
                if (adapter != null) {
                    m.put("factor", end); // the adapter acts while step < steps x factor: guidance_end
                    if (start != 0.0) {
                        ignored.put(where + ".guidance_start", start + " (a T2I-Adapter acts from the first step)");
                    }
                    if (controlMode != 0 || guess) {
                        ignored.put(where + ".control_mode", "T2I-Adapters run Balanced");
                    }
                    mapped.put(where + ".model", cnModel + " -> t2i_adapters (guidance_end -> factor)");
                } else {
                    m.put("start", start);
                    m.put("end", end);
                    switch (controlMode) {
                        case 2 -> {
                            guess = true;
                            mapped.put(where + ".control_mode", "ControlNet is more important -> guess_mode");
                        }
                        case 1 -> ignored.put(where + ".control_mode", "My prompt is more important (ran "
                                + "Balanced)");
                        default -> { }
                    }
                    m.put("guess_mode", guess);
                }
                m.put("preprocess", module);
                boolean pixelPerfect = JsonFields.bool(unit, "pixel_perfect", false);
                Integer res = unit.has("processor_res") && unit.get("processor_res").isNumber()
                        ? unit.get("processor_res").asInt() : null;
                if (!module.equals("none") && !pixelPerfect && res != null && res > 0 && width != null
                        && res != Math.min(width, height)) {
                    ignored.put(where + ".processor_res", res + " (Conditio preprocesses at the output size, as "
                            + "pixel_perfect does)");
                }
                if (module.equals("canny") && (unit.has("threshold_a") || unit.has("threshold_b"))) {
                    double a = JsonFields.number(unit, "threshold_a", 100.0);
                    double b = JsonFields.number(unit, "threshold_b", 200.0);
                    if (a != 100.0 || b != 200.0) {
                        ignored.put(where + ".threshold_a/b", trim(Double.toString(a)) + "/"
                                + trim(Double.toString(b)) + " (Conditio's canny has thresholds 100/200)");
                    }
                }
                JsonNode unitMask = unit.get("mask");
                JsonNode imageMask = unit.has("image") && unit.get("image").isObject() ? unit.get("image").get("mask")
                        : null;
                for (JsonNode mk : new JsonNode[] {unitMask, imageMask}) {
                    if (mk != null && !mk.isNull() && !(mk.isTextual() && mk.asText().isEmpty())) {
                        ignored.put(where + ".mask", "unit masks are not supported (the whole image controls)");
                    }
                }
                (adapter != null ? adapters : out).add(m);
            }
        }
        return out;
    }

    private static boolean inert(JsonNode v, Object inertValue) {
        if (v == null || v.isNull()) {
            return true;
        }
        if (inertValue == null) {
            return false;
        }
        if (inertValue instanceof Boolean b) {
            return v.isBoolean() && v.asBoolean() == b;
        }
        if (inertValue instanceof Number n) {
            return v.isNumber() && (v.asDouble() == n.doubleValue() || (n.intValue() == -1 && v.asDouble() == 0));
        }
        if (inertValue instanceof String s) {
            return v.isTextual() && v.asText().equals(s);
        }
        if (inertValue instanceof List<?>) {
            return v.isArray() && v.isEmpty();
        }
        return false;
    }

    private String infotext(Parsed p, GenerationRequest request, Map<String, String> prov) {
        // core's text, as in any Conditio PNG, with what the A1111 client asked for in A1111's own words
        Map<String, String> pairs = new LinkedHashMap<>();
        if (p.sampler() != null) {
            pairs.put("Sampler", p.sampler());
            pairs.put("Schedule type", p.schedule());
        }
        pairs.put("CFG scale", trim(prov.get("guidance_scale")));
        pairs.put("Model hash", catalog.shortHash(p.model()));
        pairs.put("Model", p.model());
        pairs.put("Denoising strength", trim(prov.get("strength")));
        if (request.parameters().containsKey("clip_skip")) {
            pairs.put("Clip skip", Integer.toString(((Number) request.parameters().get("clip_skip")).intValue() + 1));
        }
        pairs.put("Version", "conditio " + Versions.conditio());
        return InfoText.format(prov, pairs);
    }

    static String trim(String number) {
        if (number == null) {
            return null;
        }
        return number.endsWith(".0") ? number.substring(0, number.length() - 2) : number;
    }

    private Map<String, Object> info(Parsed p, Job job, List<String> infotexts) {
        GenerationRequest first = p.requests().get(0);
        int n = p.requests().size();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", first.prompt());
        m.put("all_prompts", java.util.Collections.nCopies(n, first.prompt()));
        m.put("negative_prompt", first.negativePrompt());
        m.put("all_negative_prompts", java.util.Collections.nCopies(n, first.negativePrompt()));
        m.put("seed", p.seeds().get(0));
        m.put("all_seeds", p.seeds());
        m.put("subseed", -1);
        m.put("all_subseeds", java.util.Collections.nCopies(n, -1));
        m.put("subseed_strength", 0);
        String text = infotexts.isEmpty() ? null : infotexts.get(0);
        m.put("width", p.requests().get(0).width().orElse(null));
        m.put("height", p.requests().get(0).height().orElse(null));
        m.put("sampler_name", p.sampler());
        m.put("cfg_scale", first.guidanceScaleSet() ? first.guidanceScale() : null);
        m.put("steps", first.steps().orElse(null));
        m.put("batch_size", JsonFields.integer(p.body(), "batch_size", 1));
        m.put("restore_faces", false);
        m.put("sd_model_name", p.model());
        m.put("sd_model_hash", catalog.shortHash(p.model()));
        m.put("seed_resize_from_w", -1);
        m.put("seed_resize_from_h", -1);
        m.put("denoising_strength", first.parameters().get("strength"));
        m.put("extra_generation_params", Map.of());
        m.put("index_of_first_image", 0);
        m.put("infotexts", infotexts);
        m.put("styles", List.of());
        m.put("job_timestamp", TIMESTAMP.format(job.created));
        m.put("clip_skip", first.parameters().containsKey("clip_skip")
                ? ((Number) first.parameters().get("clip_skip")).intValue() + 1 : 1);
        m.put("is_using_inpainting_conditioning", first.parameters().containsKey("mask_image"));
        m.put("version", "conditio " + Versions.conditio());
        if (text != null) {
            // fill what the model folder decided (steps, guidance, size) from the image's own settings line
            Map<String, String> settings = settingsOf(text);
            m.computeIfPresent("steps", (k, v) -> v);
            if (m.get("steps") == null && settings.containsKey("Steps")) {
                m.put("steps", Integer.parseInt(settings.get("Steps")));
            }
            if (m.get("cfg_scale") == null && settings.containsKey("CFG scale")) {
                m.put("cfg_scale", Double.parseDouble(settings.get("CFG scale")));
            }
            if (m.get("width") == null && settings.containsKey("Size")) {
                String[] wh = settings.get("Size").split("x");
                m.put("width", Integer.parseInt(wh[0]));
                m.put("height", Integer.parseInt(wh[1]));
            }
            if (m.get("sampler_name") == null) {
                m.put("sampler_name", settings.get("Sampler"));
            }
        }
        Map<String, Object> conditio = new LinkedHashMap<>();
        conditio.put("generation_id", job.id);
        conditio.put("interrupted", job.state() == Job.State.CANCELLED);
        conditio.put("mapped", p.mapped());
        conditio.put("ignored", p.ignored());
        m.put("conditio", conditio);
        return m;
    }

    private static Map<String, String> settingsOf(String infotext) {
        String last = infotext.substring(infotext.lastIndexOf('\n') + 1);
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : last.split(", ")) {
            int c = part.indexOf(": ");
            if (c > 0) {
                out.put(part.substring(0, c), part.substring(c + 2));
            }
        }
        return out;
    }

    // ---- progress ---------------------------------------------------------------------------------------------

    private void progress(Context ctx) {
        boolean skipImage = "true".equalsIgnoreCase(ctx.queryParam("skip_current_image"));
        List<Job> running = queue.runningJobs();
        int jobCount = running.size() + queue.waitingCount();
        Job job = running.isEmpty() ? null : running.get(0); // null: idle, A1111's idle state
        double progress = job == null ? 0.0 : job.progress();
        double elapsed = job == null || job.startedAt() == null ? 0
                : (System.currentTimeMillis() - job.startedAt().toEpochMilli()) / 1000.0;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("progress", progress);
        m.put("eta_relative", progress > 0 ? Math.max(0, elapsed / progress - elapsed) : 0.0);
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("skipped", false);
        state.put("interrupted", job != null && job.cancelRequested());
        state.put("stopping_generation", false);
        state.put("job", job == null ? "" : "task(" + job.id + ")");
        state.put("job_count", jobCount);
        state.put("job_timestamp", job == null ? "0" : TIMESTAMP.format(job.created));
        state.put("job_no", job == null ? 0 : job.imageIndex());
        state.put("sampling_step", job == null ? 0 : job.step());
        state.put("sampling_steps", job == null ? 0 : job.totalSteps());
        m.put("state", state);
        byte[] preview = job == null || skipImage ? null : job.preview();
        m.put("current_image", preview == null ? null : Base64.getEncoder().encodeToString(preview));
        m.put("textinfo", null);
        ctx.json(m);
    }

    // ---- lists and options ------------------------------------------------------------------------------------

    private List<String> samplerNames() {
        List<String> names = new ArrayList<>();
        for (Samplers.Sampler s : Samplers.ALL) {
            if (schedulers.get().presets().containsKey(s.preset())) {
                names.add(s.name());
            }
        }
        return names;
    }

    private List<Map<String, Object>> samplers() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Samplers.Sampler s : Samplers.ALL) {
            if (!schedulers.get().presets().containsKey(s.preset())) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name());
            m.put("aliases", s.aliases());
            m.put("options", Map.of("conditio_scheduler", s.preset()));
            out.add(m);
        }
        return out;
    }

    private static List<Map<String, Object>> schedules() {
        List<Map<String, Object>> out = new ArrayList<>();
        Samplers.SCHEDULES.forEach((name, label) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("label", label);
            m.put("aliases", null);
            m.put("default_rho", name.equals("karras") ? 7.0 : -1.0);
            m.put("need_inner_model", false);
            out.add(m);
        });
        return out;
    }

    private List<Map<String, Object>> models() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String name : catalog.models().keySet()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("title", title(name));
            m.put("model_name", name);
            m.put("hash", catalog.shortHash(name));
            m.put("sha256", catalog.sha256(name));
            m.put("filename", name);
            m.put("config", null);
            out.add(m);
        }
        return out;
    }

    private String title(String name) {
        return name + " [" + catalog.shortHash(name) + "]";
    }

    private Map<String, Object> options() {
        Map<String, Object> m = new LinkedHashMap<>(options);
        String model = catalog.defaultModel();
        m.put("sd_model_checkpoint", title(model));
        m.put("sd_checkpoint_hash", catalog.sha256(model));
        m.putIfAbsent("CLIP_stop_at_last_layers", 1);
        m.putIfAbsent("samples_format", "png");
        m.putIfAbsent("sd_vae", "Automatic");
        return m;
    }

    private void setOptions(Context ctx) {
        ObjectNode body = JsonFields.parseObject(ctx.body());
        String model = JsonFields.text(body, "sd_model_checkpoint", null);
        if (model != null) {
            catalog.setDefaultModel(model);
        }
        for (Map.Entry<String, JsonNode> e : body.properties()) {
            if (!e.getKey().equals("sd_model_checkpoint") && !e.getKey().equals("sd_checkpoint_hash")) {
                options.put(e.getKey(), e.getValue());
            }
        }
        ctx.json(Map.of());
    }
}
