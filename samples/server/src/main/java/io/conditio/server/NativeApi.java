package io.conditio.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conditio.api.GenerationRequest;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.SchedulerCatalog;
import io.conditio.core.plugin.PluginInfo;
import io.conditio.core.recipe.InfoText;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Conditio's own API: a job id for every request, per-job state, Server-Sent Events and cancellation, typed
 * parameters described by JSON Schema.
 */
final class NativeApi {
    private final Conditio conditio;
    private final ModelCatalog catalog;
    private final GenerationQueue queue;
    private final java.util.function.Supplier<SchedulerCatalog> schedulers;
    private final Limits limits;
    private final ServerParameters parameters;

    NativeApi(Conditio conditio, ModelCatalog catalog, GenerationQueue queue,
            java.util.function.Supplier<SchedulerCatalog> schedulers, Limits limits, ServerParameters parameters) {
        this.parameters = parameters;
        this.conditio = conditio;
        this.catalog = catalog;
        this.queue = queue;
        this.schedulers = schedulers;
        this.limits = limits;
    }

    void register(RoutesConfig r) {
        r.post("/v1/generations", this::create);
        r.get("/v1/generations/{id}", ctx -> ctx.json(job(ctx).snapshot()));
        r.delete("/v1/generations/{id}", this::cancel);
        r.get("/v1/generations/{id}/image", this::image);
        r.sse("/v1/generations/{id}/events", this::events);
        r.get("/v1/models", ctx -> ctx.json(models()));
        r.get("/v1/schedulers", ctx -> ctx.json(schedulerList()));
        r.get("/v1/plugins", ctx -> ctx.json(plugins()));
    }

    private Job job(Context ctx) {
        Job job = queue.get(ctx.pathParam("id"));
        if (job == null) {
            throw ApiError.notFound("no generation " + ctx.pathParam("id"));
        }
        return job;
    }

    private void create(Context ctx) {
        ObjectNode body = ctx.isMultipartFormData() ? Uploads.recipe(ctx, limits) : JsonFields.parseObject(ctx.body());
        RecipeRequests.Parsed p = RecipeRequests.parse(body, catalog, parameters, limits);
        Job job = queue.submit(p.model(), List.of(p.request()), this::infotext);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", job.id);
        m.put("state", job.state().name().toLowerCase(java.util.Locale.ROOT));
        m.put("url", "/v1/generations/" + job.id);
        m.put("events", "/v1/generations/" + job.id + "/events");
        m.put("image", "/v1/generations/" + job.id + "/image");
        ctx.status(202).header("Location", "/v1/generations/" + job.id).json(m);
    }

    private String infotext(GenerationRequest request, Map<String, String> prov) {
        Map<String, String> pairs = new LinkedHashMap<>();
        pairs.put("CFG scale", A1111Api.trim(prov.get("guidance_scale")));
        String model = prov.get("model");
        if (model != null && catalog.models().containsKey(model)) {
            pairs.put("Model hash", catalog.shortHash(model));
        }
        pairs.put("Denoising strength", A1111Api.trim(prov.get("strength")));
        pairs.put("Version", "conditio " + Versions.conditio());
        return InfoText.format(prov, pairs);
    }

    private void cancel(Context ctx) {
        String id = ctx.pathParam("id");
        boolean wasActive = queue.cancel(id);
        Job job = queue.get(id);
        if (wasActive) {
            try {
                job.finished().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // answer with the state it has now
            }
        }
        ctx.json(job.snapshot());
    }

    private void image(Context ctx) {
        Job job = job(ctx);
        int index = ctx.queryParam("index") == null ? 0 : parseIndex(ctx.queryParam("index"));
        List<Job.Output> outputs = job.outputs();
        if (index >= outputs.size()) {
            if (Job.isTerminal(job.state())) {
                throw ApiError.notFound("generation " + job.id + " has no image " + index + " (it is "
                        + job.state().name().toLowerCase(java.util.Locale.ROOT) + ")");
            }
            throw new ApiError(409, null, "generation " + job.id + " is "
                    + job.state().name().toLowerCase(java.util.Locale.ROOT) + "; its image is not ready yet");
        }
        ctx.contentType("image/png").result(outputs.get(index).png());
    }

    private static int parseIndex(String s) {
        try {
            int i = Integer.parseInt(s);
            if (i < 0) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException e) {
            throw ApiError.badField("index", "'" + s + "': expected an image index >= 0");
        }
    }

    private void events(SseClient client) {
        Job job = queue.get(client.ctx().pathParam("id"));
        if (job == null) {
            client.sendEvent("failed", JsonFields.write(Map.of("error", "no generation "
                    + client.ctx().pathParam("id"))));
            client.close();
            return;
        }
        client.keepAlive();
        Runnable[] remove = new Runnable[1];
        remove[0] = job.listen(event -> {
            client.sendEvent(event.type(), JsonFields.write(event.data()));
            if (Set.TERMINAL.contains(event.type())) {
                client.close();
            }
        });
        client.onClose(() -> remove[0].run());
    }

    /** Event names that end a stream. */
    private static final class Set {
        static final java.util.Set<String> TERMINAL = java.util.Set.of("done", "failed", "cancelled");
    }

    private List<Map<String, Object>> models() {
        List<Map<String, Object>> out = new ArrayList<>();
        List<String> open = catalog.openModels();
        for (String name : catalog.models().keySet()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("default", name.equals(catalog.defaultModel()));
            m.put("open", open.contains(name));
            m.put("memory_bytes", catalog.footprint(name));
            m.put("hash", catalog.shortHash(name));
            m.put("controlnets", new ArrayList<>(catalog.controlNets(name).keySet()));
            m.put("t2i_adapters", new ArrayList<>(catalog.named(name, ModelCatalog.T2I_ADAPTER).keySet()));
            out.add(m);
        }
        return out;
    }

    private List<Map<String, Object>> schedulerList() {
        List<Map<String, Object>> out = new ArrayList<>();
        schedulers.get().presets().forEach((name, entry) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", entry.preset().name());
            m.put("class_name", entry.provider().classNames().get(0));
            out.add(m);
        });
        return out;
    }

    /** Core's recipe schema as this server reads recipes: model by name, parameters as {@link #parameters}. */
    private Map<String, Object> recipeSchema() {
        Map<String, Object> s = new LinkedHashMap<>(parameters.catalog().recipeJsonSchema());
        @SuppressWarnings("unchecked")
        Map<String, Object> props = new LinkedHashMap<>((Map<String, Object>) s.get("properties"));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "string");
        model.put("enum", new ArrayList<>(catalog.models().keySet()));
        model.put("description", "one of this server's models (default: " + catalog.defaultModel() + ")");
        props.put("model", model);
        Map<String, Object> params = new LinkedHashMap<>(parameters.schema());
        params.remove("$schema");
        props.put("parameters", params);
        s.put("properties", props);
        return s;
    }

    private Map<String, Object> plugins() {
        List<Map<String, Object>> list = new ArrayList<>();
        for (PluginInfo p : conditio.plugins().plugins()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", p.id());
            m.put("version", p.version());
            m.put("provider", p.provider());
            m.put("requires", p.requires());
            m.put("state", p.state());
            m.put("extensions", p.extensions());
            if (p.problem() != null) {
                m.put("problem", p.problem());
            }
            list.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("plugins", list);
        out.put("parameters", parameters.schema());
        out.put("recipe_schema", recipeSchema());
        out.put("limits", limits);
        return out;
    }
}
