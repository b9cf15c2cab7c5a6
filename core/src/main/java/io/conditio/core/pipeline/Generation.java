package io.conditio.core.pipeline;

import io.conditio.api.AfterStepCallback;
import io.conditio.api.BeforeStepCallback;
import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.ControlPreprocessor;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.PreprocessorContext;
import io.conditio.api.Provenance;
import io.conditio.api.RandomSource;
import io.conditio.api.RgbImage;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerProvider;
import io.conditio.api.SpiVersion;
import io.conditio.api.StepContext;
import io.conditio.api.StepTimings;
import io.conditio.api.Tensor;
import io.conditio.api.TensorFiles;
import io.conditio.api.TextTokenizer;
import io.conditio.core.json.Json;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.model.ModelHash;
import io.conditio.core.recipe.Reproduction;
import io.conditio.core.onnx.Binding;
import io.conditio.core.onnx.Cancellation;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.plugin.PluginGuard;
import io.conditio.core.random.ImageGenerators;
import io.conditio.core.safetensors.SafeTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One generation: the per-request state and the denoise loop. Used once, by one thread. Every call into plugin code
 * goes through the pipeline's {@link PluginGuard}.
 */
final class Generation {
    /** Provenance key, with several images per prompt: how many the generation made. */
    static final String IMAGES_PER_PROMPT = "images_per_prompt";
    /** Provenance key, with several images per prompt: which one this is, from 0. */
    static final String IMAGE_INDEX = "image_index";
    private final Pipeline pipeline;
    private final Pipeline.Plugins plugins;
    private final ModelFolder folder;
    private final PluginGuard guard;
    private final GenerationSettings settings;
    private final GenerationRequest request;
    private final ImageGenerators random;
    private final Scheduler scheduler;
    private final List<ActiveConditioning> active = new ArrayList<>();
    private final Map<String, String> patchedComponents = new TreeMap<>();
    /** Per-branch conditioning inputs repeated for every image, by the tensor the conditioning gave. */
    private final Map<Tensor, Tensor> repeatedInputs = new IdentityHashMap<>();
    private long unetNanos;

    private record ActiveConditioning(Conditioner conditioner, String origin, Conditioning conditioning) {
    }

    /** The loop's outcome: the final latents and how many UNet calls it made. */
    private record Denoised(FloatTensor latents, int modelCalls) {
    }

    /**
     * Resolves the settings and creates the scheduler; nothing is allocated yet.
     *
     * @param pipeline the pipeline
     * @param plugins  the extensions this generation uses, from start to end
     * @param asked    the request as given
     */
    Generation(Pipeline pipeline, Pipeline.Plugins plugins, GenerationRequest asked) {
        this.pipeline = pipeline;
        this.plugins = plugins;
        this.folder = pipeline.folder();
        this.guard = pipeline.guard();
        this.settings = GenerationSettings.resolve(pipeline, plugins, asked, guard);
        this.request = settings.request();
        this.random = new ImageGenerators(settings.seed(), settings.images());
        SchedulerProvider provider = settings.scheduler().provider();
        SchedulerConfig config = settings.scheduler().config();
        this.scheduler = Guarded.scheduler(guard, provider,
                guard.call(provider, "scheduler provider create", () -> provider.create(config)));
        scheduler.setTimesteps(settings.steps());
    }

    GenerationResult run() {
        long t0 = System.nanoTime();
        Throwable failure = null;
        try (Binding unetCalls = settings.unet().bind()) {
            Cancellation.stageCurrent("preparing the start latents and conditionings");
            LatentStart.Start start = LatentStart.prepare(settings, scheduler, random, new ImageEncoder(folder));
            MaskBlend maskBlend = settings.maskBlend() ? MaskBlend.of(settings.mask().get(), start.imageLatents(),
                    start.noise(), settings.width(), settings.height()) : null;
            prepareConditionings();
            long t1 = System.nanoTime();
            Denoised denoised = denoise(unetCalls, start, maskBlend);
            long t2 = System.nanoTime();
            Cancellation.stageCurrent("decoding the latents");
            Cancellation.checkCurrent();
            List<RgbImage> images = new ArrayList<>();
            FloatTensor latents = denoised.latents();
            for (int k = 0; k < settings.images(); k++) {
                // one image at a time: the decoder's full-resolution activations are the largest buffers
                images.add(decode(settings.images() == 1 ? latents : latents.batchEntry(k)));
            }
            long t3 = System.nanoTime();
            StepTimings timings = new StepTimings(t1 - t0, t2 - t1, unetNanos, t3 - t2, denoised.modelCalls());
            Provenance first = provenance(start, timings);
            List<Provenance> each = new ArrayList<>();
            each.add(first);
            for (int k = 1; k < settings.images(); k++) {
                each.add(imageProvenance(first, k));
            }
            return new GenerationResult(images, latents, first, timings, each);
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            closeConditionings(failure);
        }
    }

    /** Asks every conditioner in plugin order, then checks what they declare against the UNet's inputs. */
    private void prepareConditionings() {
        Context context = new Context();
        for (Conditioner c : plugins.conditioners()) {
            Optional<Conditioning> prepared = guard.call(c, "conditioner prepare", () -> c.prepare(context));
            prepared.ifPresent(p -> active.add(new ActiveConditioning(c, pipeline.host().origin(c),
                    Guarded.conditioning(guard, c, p))));
        }
        List<UnetInputCheck.Declared> declared = new ArrayList<>();
        for (ActiveConditioning a : active) {
            a.conditioning().provides()
                    .forEach(d -> declared.add(new UnetInputCheck.Declared(a.conditioner().id(), d)));
        }
        UnetInputCheck.check(settings.unet(), settings.latentShape()[1], declared);
    }

    private Denoised denoise(Binding unetCalls, LatentStart.Start start, MaskBlend maskBlend) {
        float[] timesteps = start.timesteps();
        Step step = new Step(timesteps.length, settings.steps(), settings.guidance().branches(),
                stepLayout(timesteps.length));
        StepBuffers buffers = new StepBuffers(start.latents());
        FloatTensor latents = start.latents();
        for (int i = 0; i < timesteps.length; i++) {
            latents = denoiseStep(unetCalls, buffers, step, i, timesteps, latents);
            if (maskBlend != null) {
                latents = maskBlend.apply(latents, i, timesteps, scheduler);
            }
            step.at(i, timesteps[i], latents);
            for (AfterStepCallback hook : plugins.afterStep()) {
                guard.run(hook, "after-step hook", () -> hook.afterStep(step));
            }
            for (AfterStepCallback hook : request.afterStepCallbacks()) {
                hook.afterStep(step);
            }
            step.checkCancelled();
        }
        return new Denoised(latents, timesteps.length);
    }

    /**
     * The Java arrays one generation's steps write into, made on first use and reused by every later step: two
     * latent buffers the scheduler alternates between, the guidance batch, the scaled model input, the guided
     * prediction, the timestep and the UNet call itself. With a guidance and scheduler that implement the
     * buffer-reusing forms ({@link Guidance#expandInto}, {@link Scheduler#stepInto}, ...) a step allocates nothing
     * that grows with the latents.
     */
    private static final class StepBuffers {
        private final FloatTensor first;
        private FloatTensor second;
        private FloatTensor batch;
        private FloatTensor scaled;
        private FloatTensor guided;
        private FloatTensor timestep;
        private UnetCall call;

        StepBuffers(FloatTensor start) {
            this.first = start;
        }

        /** @return the latent buffer the next step may write into: whichever of the two {@code latents} is not */
        FloatTensor spare(FloatTensor latents) {
            if (latents != first) {
                return first;
            }
            if (second == null) {
                second = FloatTensor.zeros(first.shape());
            }
            return second;
        }

        FloatTensor batch(FloatTensor latents, int branches) {
            if (batch == null || batch.dim(0) != branches * latents.dim(0) || batch.size() != branches * latents.size()) {
                int[] shape = latents.shape();
                shape[0] *= branches;
                batch = FloatTensor.zeros(shape);
            }
            return batch;
        }

        /** @return where the scaled model input goes: the batch itself when it is ours, else a buffer of its shape */
        FloatTensor scaled(FloatTensor input) {
            if (input == batch) {
                return batch;
            }
            if (scaled == null || !scaled.sameShape(input)) {
                scaled = FloatTensor.zeros(input.shape());
            }
            return scaled;
        }

        /** @return where the guided prediction goes: the model output's shape with the latents' batch */
        FloatTensor guided(FloatTensor modelOutput, int batchSize) {
            if (guided == null || guided.rank() != modelOutput.rank() || guided.dim(0) != batchSize
                    || guided.size() * modelOutput.dim(0) != modelOutput.size() * batchSize) {
                int[] shape = modelOutput.shape();
                shape[0] = batchSize;
                guided = FloatTensor.zeros(shape);
            }
            return guided;
        }

        FloatTensor timestep(float t, int batchSize) {
            if (timestep == null || timestep.size() != batchSize) {
                timestep = FloatTensor.zeros(batchSize);
            }
            java.util.Arrays.fill(timestep.array(), t);
            return timestep;
        }

        UnetCall call(FloatTensor modelInput, int branches, int images, Map<Tensor, Tensor> repeated) {
            if (call == null) {
                call = new UnetCall(modelInput, branches, images, repeated);
            } else {
                call.reset(modelInput);
            }
            return call;
        }

        /** @return whether {@code t} is one of the buffers a later step writes into other than the latents */
        boolean overwritten(FloatTensor t) {
            return t == batch || t == scaled || t == guided;
        }
    }

    /**
     * Which scheduler step and sub-step each model call of this run is ({@link Scheduler#stepOfCall}), counted from
     * the run's first call: an img2img run starts part-way through the scheduler's timesteps.
     *
     * @param calls the model calls of this run, the tail of the scheduler's timesteps
     * @return {@code [call][0]}: the step, from 0; {@code [call][1]}: the sub-step
     */
    private int[][] stepLayout(int calls) {
        Object provider = settings.scheduler().provider();
        int begin = scheduler.timesteps().length - calls;
        int[][] layout = new int[calls][2];
        int first = scheduler.stepOfCall(begin);
        for (int i = 0; i < calls; i++) {
            int call = begin + i;
            layout[i][0] = scheduler.stepOfCall(call) - first;
            layout[i][1] = scheduler.subStepOfCall(call);
            int previous = i == 0 ? 0 : layout[i - 1][0];
            if (layout[i][0] < previous || layout[i][0] > previous + 1 || layout[i][1] < 0) {
                int[] at = layout[i];
                guard.run(provider, "scheduler stepOfCall", () -> {
                    throw new IllegalStateException("put model call " + call + " at step " + (at[0] + first)
                            + ", sub-step " + at[1] + " after step " + (previous + first) + "; expected the step "
                            + "of the call before or the next one, and a sub-step of at least 0");
                });
            }
        }
        return layout;
    }

    /** One timestep: the before-step hooks, one UNet call with every conditioning's inputs, the scheduler step. */
    private FloatTensor denoiseStep(Binding unetCalls, StepBuffers buffers, Step step, int i, float[] timesteps,
            FloatTensor latents) {
        float t = timesteps[i];
        step.at(i, t, latents);
        for (BeforeStepCallback hook : plugins.beforeStep()) {
            guard.run(hook, "before-step hook", () -> hook.beforeStep(step));
        }
        for (BeforeStepCallback hook : request.beforeStepCallbacks()) {
            hook.beforeStep(step);
        }
        step.checkCancelled();
        Guidance guidance = settings.guidance();
        int branches = step.branches.size();
        FloatTensor batch = guidance.expandInto(latents, buffers.batch(latents, branches));
        if (batch.dim(0) != branches * settings.images()) {
            throw new IllegalStateException("guidance " + guidance.describe() + " expanded latents " + latents
                    + " to " + batch + "; expected a batch of " + branches + " branch(es) × "
                    + settings.images() + " image(s)");
        }
        FloatTensor modelInput = scheduler.scaleModelInputInto(batch, t, buffers.scaled(batch));
        UnetCall call = buffers.call(modelInput, branches, settings.images(), repeatedInputs);
        call.put("timestep", buffers.timestep(t, modelInput.dim(0)));
        for (ActiveConditioning a : active) {
            call.contributor(a.conditioner().id());
            a.conditioning().contribute(step, call);
        }
        long u0 = System.nanoTime();
        FloatTensor output = request.splitGuidanceBatch() && branches > 1 ? splitRun(unetCalls, call, branches)
                : unetOutput(settings.unet(), unetCalls.run(call.feed()));
        unetNanos += System.nanoTime() - u0;
        FloatTensor prediction = guidance.combineInto(output, step, buffers.guided(output, latents.dim(0)));
        if (prediction.dim(0) != settings.images()) {
            throw new IllegalStateException("guidance " + guidance.describe() + " combined a UNet batch of "
                    + output.dim(0) + " into " + prediction + "; expected one entry per image ("
                    + settings.images() + ")");
        }
        FloatTensor into = buffers.spare(latents);
        FloatTensor next = scheduler.stepInto(prediction, t, latents, random, into);
        if (next != into && (next == output || buffers.overwritten(next))) {
            // a scheduler handed back one of the buffers the next step overwrites: keep its values in ours
            System.arraycopy(next.array(), 0, into.array(), 0, into.size());
            next = into;
        }
        return next;
    }

    /**
     * The guidance batch as one UNet call per branch, each of batch {@code images}: the same predictions up to the
     * last bits of batched convolutions, with the activations of one branch alive at a time.
     */
    private FloatTensor splitRun(Binding unetCalls, UnetCall call, int branches) {
        Map<String, Tensor> feed = call.feed();
        FloatTensor[] parts = new FloatTensor[branches];
        for (int b = 0; b < branches; b++) {
            // the binding reuses its output tensors from call to call: keep a copy of each branch's
            parts[b] = unetOutput(settings.unet(), unetCalls.run(call.branchFeed(feed, b))).copy();
        }
        return FloatTensor.concatBatch(parts);
    }

    /** Closes every conditioning, also after a failure, to which close failures are added as suppressed. */
    private void closeConditionings(Throwable failure) {
        List<PluginGuard.Owned> owned = new ArrayList<>();
        for (ActiveConditioning a : active) {
            owned.add(new PluginGuard.Owned(a.conditioner(), "conditioning close", a.conditioning()));
        }
        active.clear();
        guard.closeAll(owned, failure);
    }

    private static FloatTensor unetOutput(Model unet, Map<String, Tensor> out) {
        Tensor t = out.containsKey("out_sample") ? out.get("out_sample") : out.values().iterator().next();
        if (!(t instanceof FloatTensor f)) {
            throw new InvalidRequestException(unet + " output is " + t.elementType() + "; expected float32");
        }
        return f;
    }

    private RgbImage decode(FloatTensor latents) {
        OnnxModel vae = WeightPatching.model(plugins.weightPatchers(), folder, request, guard, "vae_decoder");
        if (!vae.weightPatches().isEmpty()) {
            patchedComponents.put("vae_decoder", String.join(" ", vae.weightPatches()));
        }
        float scale = (float) folder.vaeScalingFactor();
        float shift = (float) folder.vaeShiftFactor();
        FloatTensor scaled = latents.div(scale);
        if (shift != 0f) {
            float[] a = scaled.array();
            for (int i = 0; i < a.length; i++) {
                a[i] += shift;
            }
        }
        Map<String, Tensor> out = vae.run(Map.of(vae.inputs().keySet().iterator().next(), scaled));
        Tensor sample = out.containsKey("sample") ? out.get("sample") : out.values().iterator().next();
        FloatTensor x = (FloatTensor) sample;
        int[] s = x.shape();
        int c = s[1];
        int h = s[2];
        int w = s[3];
        if (c != 3) {
            throw new InvalidRequestException(vae + " decodes to " + c + " channels; expected 3 (RGB)");
        }
        float[] src = x.array();
        float[] hwc = new float[h * w * 3];
        int plane = h * w;
        for (int ch = 0; ch < 3; ch++) {
            for (int i = 0; i < plane; i++) {
                float v = src[ch * plane + i] / 2f + 0.5f;
                hwc[i * 3 + ch] = Math.max(0f, Math.min(1f, v));
            }
        }
        return new RgbImage(w, h, hwc);
    }

    /**
     * Image {@code k}'s provenance: the first image's with its own seed and a recipe for it alone (one image, that
     * seed), which {@code conditio regenerate} turns into the same pixels; A1111's infotext gets its batch position.
     */
    private Provenance imageProvenance(Provenance first, int k) {
        long seed = ImageGenerators.imageSeed(settings.seed(), k);
        Map<String, String> p = new LinkedHashMap<>(first.entries());
        p.put("seed", Long.toString(seed));
        p.put(IMAGE_INDEX, Integer.toString(k));
        p.remove(Reproduction.RECIPE_KEY);
        p.remove(Reproduction.NOT_REPRODUCIBLE_KEY);
        Reproduction.Result r = Reproduction.recipe(request, folder.root(), seed, settings.steps(),
                settings.width(), settings.height());
        r.recipe().ifPresent(json -> p.put(Reproduction.RECIPE_KEY, json));
        r.reason().ifPresent(why -> p.put(Reproduction.NOT_REPRODUCIBLE_KEY, why));
        return new Provenance(p);
    }

    private Provenance provenance(LatentStart.Start start, StepTimings timings) {
        SchedulerCatalog.Choice choice = settings.scheduler();
        String unetComponent = settings.unetComponent();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("conditio.spi", SpiVersion.current());
        p.put("model", folder.root().toString());
        if (!unetComponent.equals(UnetVariant.DEFAULT)) {
            p.put("unet", unetComponent);
        }
        if (!settings.unet().weightPatches().isEmpty()) {
            patchedComponents.put(unetComponent, String.join(" ", settings.unet().weightPatches()));
        }
        patchedComponents.forEach((c, keys) -> p.put("weights." + c, keys));
        p.put("prompt", request.prompt());
        p.put("negative_prompt", request.negativePrompt());
        p.put("seed", Long.toString(settings.seed()));
        if (settings.images() > 1) {
            p.put(IMAGES_PER_PROMPT, Integer.toString(settings.images()));
            p.put(IMAGE_INDEX, "0");
            if (request.splitGuidanceBatch()) {
                p.put("split_guidance_batch", "true");
            }
        }
        p.put("steps", Integer.toString(settings.steps()));
        p.put("guidance_scale", Double.toString(request.guidanceScale()));
        p.put("guidance", settings.guidance().describe());
        p.put("width", Integer.toString(settings.width()));
        p.put("height", Integer.toString(settings.height()));
        p.put("mode", start.mode());
        if (start.mode().equals("inpaint")) {
            p.put(MaskBlend.PARAMETER, Boolean.toString(settings.maskBlend()));
        }
        if (start.strength() != null) {
            p.put("strength", Double.toString(start.strength()));
        }
        p.put("scheduler", choice.name());
        p.put("scheduler.config", Json.write(new TreeMap<>(scheduler.config().asMap())));
        List<String> plugins = new ArrayList<>();
        plugins.add("scheduler=" + pipeline.host().origin(choice.provider()));
        for (ActiveConditioning a : active) {
            plugins.add(a.conditioner().id() + "=" + a.origin());
        }
        for (GuidanceChain.Layer layer : settings.guidance().layers()) {
            if (layer.provider() != null) {
                plugins.add("guidance." + layer.provider().id() + "=" + pipeline.host().origin(layer.provider()));
            }
        }
        p.put("plugins", String.join(", ", plugins));
        for (ActiveConditioning a : active) {
            a.conditioning().provenance().forEach((k, v) -> p.put(a.conditioner().id() + "." + k, v));
        }
        if (!request.parameters().isEmpty()) {
            request.parameters().forEach((k, v) -> p.putIfAbsent("parameter." + k, describe(v)));
        }
        p.put("timing.prepare_ms", millis(timings.prepareNanos()));
        p.put("timing.loop_ms", millis(timings.loopNanos()));
        p.put("timing.unet_ms", millis(timings.unetNanos()));
        p.put("timing.decode_ms", millis(timings.decodeNanos()));
        p.put("timing.model_calls", Integer.toString(timings.modelCalls()));
        reproduction(p);
        return new Provenance(p);
    }

    /**
     * What makes the image reproducible: the model folder's hash and the request as a recipe ({@code conditio
     * regenerate} runs it again). A1111's {@code parameters} text is made from these entries when a PNG is written
     * ({@link io.conditio.core.image.PngImages#encode}).
     */
    private void reproduction(Map<String, String> p) {
        p.put(Reproduction.MODEL_HASH_KEY, ModelHash.of(folder.root()));
        Reproduction.Result r = Reproduction.recipe(request, folder.root(), settings.seed(), settings.steps(),
                settings.width(), settings.height());
        r.recipe().ifPresent(json -> p.put(Reproduction.RECIPE_KEY, json));
        r.reason().ifPresent(why -> p.put(Reproduction.NOT_REPRODUCIBLE_KEY, why));
    }

    /** Scalars as written; images and tensors by their size, since the PNG must stay small. */
    private static String describe(Object v) {
        if (v instanceof RgbImage img) {
            return "image " + img.width() + "x" + img.height();
        }
        if (v instanceof Tensor t) {
            return t.elementType().name().toLowerCase() + " " + t.shapeString();
        }
        if (v instanceof java.util.Collection<?> c) {
            List<String> parts = new ArrayList<>();
            c.forEach(x -> parts.add(describe(x)));
            return "[" + String.join(", ", parts) + "]";
        }
        if (v instanceof Map<?, ?> m) {
            List<String> parts = new ArrayList<>();
            m.forEach((k, x) -> parts.add(k + "=" + describe(x)));
            return "{" + String.join(", ", parts) + "}";
        }
        return String.valueOf(v);
    }

    private static String millis(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e6);
    }

    /** The conditioner-facing view of this generation. */
    private final class Context implements ConditioningContext {
        @Override
        public GenerationRequest request() {
            return request;
        }

        @Override
        public Model unet() {
            return settings.unet();
        }

        @Override
        public Optional<Model> component(String component) {
            if (!folder.has(component)) {
                return Optional.empty();
            }
            OnnxModel m = WeightPatching.model(plugins.weightPatchers(), folder, request, guard, component);
            if (!m.weightPatches().isEmpty()) {
                patchedComponents.put(component, String.join(" ", m.weightPatches()));
            }
            return Optional.of(m);
        }

        @Override
        public Model loadModel(Path modelFile) {
            return pipeline.extraModel(modelFile);
        }

        @Override
        public RgbImage preprocess(String name, RgbImage image, List<Path> models) {
            ControlPreprocessor p = Preprocessors.find(pipeline.host(), name);
            if (p == null) {
                return image;
            }
            List<Path> files = List.copyOf(models);
            PreprocessorContext pc = new PreprocessorContext() {
                @Override
                public List<Path> models() {
                    return files;
                }

                @Override
                public Model loadModel(Path modelFile) {
                    return pipeline.extraModel(modelFile);
                }

                @Override
                public Map<String, Object> parameters() {
                    return request.parameters();
                }
            };
            return Preprocessors.apply(pipeline.host(), guard, p, image, pc);
        }

        @Override
        public Map<String, Object> modelIndex() {
            return folder.modelIndex();
        }

        @Override
        public TensorFiles tensorFiles() {
            return SafeTensors::read;
        }

        @Override
        public Optional<TextTokenizer> tokenizer(String name) {
            return folder.tokenizer(name).map(t -> (TextTokenizer) t);
        }

        @Override
        public FloatTensor encodeImage(RgbImage image) {
            return new ImageEncoder(folder).encode(Images.fit(image, width(), height()), random,
                    settings.images());
        }

        @Override
        public FloatTensor encodeImageMode(RgbImage image) {
            return new ImageEncoder(folder).mode(Images.fit(image, width(), height()));
        }

        @Override
        public RandomSource random() {
            return random;
        }

        @Override
        public List<GuidanceBranch> branches() {
            return settings.guidance().branches();
        }

        @Override
        public int imagesPerPrompt() {
            return settings.images();
        }

        @Override
        public int[] latentShape() {
            return settings.latentShape().clone();
        }

        @Override
        public int width() {
            return settings.width();
        }

        @Override
        public int height() {
            return settings.height();
        }
    }

    /** The hook-facing view of the current step. */
    private final class Step implements StepContext {
        private final int total;
        private final int inferenceSteps;
        private final List<GuidanceBranch> branches;
        private final int[][] layout;
        private int index;
        private float timestep;
        private FloatTensor latents;
        private boolean cancelled;

        Step(int total, int inferenceSteps, List<GuidanceBranch> branches, int[][] layout) {
            this.total = total;
            this.inferenceSteps = inferenceSteps;
            this.branches = branches;
            this.layout = layout;
        }

        void at(int i, float t, FloatTensor l) {
            Cancellation.stageCurrent("step " + (i + 1) + " of " + total);
            index = i;
            timestep = t;
            latents = l;
        }

        void checkCancelled() {
            if (cancelled) {
                throw new GenerationCancelledException("generation cancelled by a step callback at step "
                        + (index + 1) + " of " + total);
            }
            Cancellation.checkCurrent();
        }

        @Override
        public int stepIndex() {
            return index;
        }

        @Override
        public int totalSteps() {
            return total;
        }

        @Override
        public int schedulerStep() {
            return layout[index][0];
        }

        @Override
        public int schedulerSteps() {
            return layout.length == 0 ? 0 : layout[layout.length - 1][0] + 1;
        }

        @Override
        public int subStep() {
            return layout[index][1];
        }

        @Override
        public int inferenceSteps() {
            return inferenceSteps;
        }

        @Override
        public float timestep() {
            return timestep;
        }

        @Override
        public FloatTensor latents() {
            return latents;
        }

        @Override
        public List<GuidanceBranch> branches() {
            return branches;
        }

        @Override
        public GenerationRequest request() {
            return request;
        }

        @Override
        public int imagesPerPrompt() {
            return settings.images();
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }
}
