package io.conditio.core.pipeline;

import io.conditio.api.AfterStepCallback;
import io.conditio.api.BeforeStepCallback;
import io.conditio.api.ConditioException;
import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.PluginFailureException;
import io.conditio.api.Provenance;
import io.conditio.api.RandomSource;
import io.conditio.api.RgbImage;
import io.conditio.api.Scheduler;
import io.conditio.api.SpiVersion;
import io.conditio.api.StepContext;
import io.conditio.api.StepTimings;
import io.conditio.api.Tensor;
import io.conditio.api.TextTokenizer;
import io.conditio.core.json.Json;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.Binding;
import io.conditio.core.onnx.Cancellation;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.random.TorchGenerator;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/** One generation: the per-request state and the denoise loop. Used once, by one thread. */
final class Generation {
    /** Steps used when neither the request nor the model folder says. */
    static final int DEFAULT_STEPS = 20;

    private final Pipeline pipeline;
    private GenerationRequest request;
    private final ModelFolder folder;
    private final List<ActiveConditioning> active = new ArrayList<>();

    private record ActiveConditioning(Conditioner conditioner, String origin, Conditioning conditioning) {
    }

    Generation(Pipeline pipeline, GenerationRequest request) {
        this.pipeline = pipeline;
        this.request = request;
        this.folder = pipeline.folder();
    }

    GenerationResult run() {
        long seed = request.seed().orElseGet(() -> new SecureRandom().nextLong() & 0xFFFF_FFFFL);
        TorchGenerator random = new TorchGenerator(seed);
        int factor = folder.vaeSpatialFactor();
        int defaultSize = folder.unetSampleSize() * factor;
        Optional<RgbImage> init = request.parameter(LatentStart.INIT_IMAGE, RgbImage.class);
        // like diffusers' image pipelines, an init image sets the default size
        int width = request.width().orElse(init.map(RgbImage::width).orElse(defaultSize));
        int height = request.height().orElse(init.map(RgbImage::height).orElse(defaultSize));
        if (width % factor != 0 || height % factor != 0) {
            throw new InvalidRequestException("image size " + width + "x" + height + " is not a multiple of " + factor
                    + ", the VAE factor of " + folder.root());
        }
        Map<String, Object> suggested = folder.suggestedDefaults();
        int steps = request.steps().orElse(suggested.get("steps") instanceof Number n ? n.intValue() : DEFAULT_STEPS);
        if (!request.guidanceScaleSet() && suggested.get("guidance_scale") instanceof Number g) {
            // the folder's recommendation replaces the generic default, for plugins too
            request = request.toBuilder().optGuidanceScale(g.doubleValue()).build();
        }
        String unetComponent = UnetVariant.choose(folder, request);
        OnnxModel unet = folder.model(unetComponent);
        Guidance guidance = chooseGuidance(unet);
        SchedulerCatalog.Choice choice = pipeline.schedulers().resolve(folder.schedulerConfig(), request.scheduler(),
                request.schedulerConfig());
        Scheduler scheduler = callPlugin(choice.provider(), () -> choice.provider().create(choice.config()));
        callPlugin(choice.provider(), () -> {
            scheduler.setTimesteps(steps);
            return null;
        });
        int[] latentShape = {1, folder.latentChannels(), height / factor, width / factor};

        long t0 = System.nanoTime();
        Optional<RgbImage> mask = request.parameter(LatentStart.MASK_IMAGE, RgbImage.class);
        // blending: as asked, else as the folder suggests, else as diffusers does: only for a regular UNet
        boolean blend = mask.isPresent() && init.isPresent() && request.parameter(MaskBlend.PARAMETER, Boolean.class)
                .orElseGet(() -> suggested.get(MaskBlend.PARAMETER) instanceof Boolean b ? b
                        : LatentStart.plainUnet(unet.inputs().get("sample"), latentShape[1]));
        try (Binding unetCalls = unet.bind()) {
            Cancellation.stageCurrent("preparing the start latents and conditionings");
            LatentStart.Start start = LatentStart.prepare(request, scheduler, steps, latentShape, random,
                    unet.inputs().get("sample"), new ImageEncoder(folder), width, height, blend);
            MaskBlend maskBlend = blend ? MaskBlend.of(mask.get(), start.imageLatents(), start.noise(), width,
                    height) : null;
            FloatTensor latents = start.latents();
            Context context = new Context(random, guidance.branches(), latentShape, width, height, unet);
            for (Conditioner c : pipeline.conditioners()) {
                Optional<Conditioning> prepared = callPlugin(c, () -> c.prepare(context));
                prepared.ifPresent(p -> active.add(new ActiveConditioning(c, pipeline.host().origin(c), p)));
            }
            List<UnetInputCheck.Declared> declared = new ArrayList<>();
            for (ActiveConditioning a : active) {
                a.conditioning().provides()
                        .forEach(d -> declared.add(new UnetInputCheck.Declared(a.conditioner().id(), d)));
            }
            UnetInputCheck.check(unet, latentShape[1], declared);
            long t1 = System.nanoTime();

            float[] timesteps = start.timesteps();
            Step step = new Step(timesteps.length, steps, guidance.branches());
            long unetNanos = 0;
            for (int i = 0; i < timesteps.length; i++) {
                float t = timesteps[i];
                step.at(i, t, latents);
                for (BeforeStepCallback hook : pipeline.beforeStepHooks()) {
                    callPlugin(hook, () -> run(() -> hook.beforeStep(step)));
                }
                for (BeforeStepCallback hook : request.beforeStepCallbacks()) {
                    hook.beforeStep(step);
                }
                step.checkCancelled();
                FloatTensor modelInput = guidance.expand(latents);
                modelInput = scheduler.scaleModelInput(modelInput, t);
                UnetCall call = new UnetCall(modelInput);
                call.put("timestep", FloatTensor.full(t, modelInput.dim(0)));
                for (ActiveConditioning a : active) {
                    call.contributor(a.conditioner().id());
                    callPlugin(a.conditioner(), () -> run(() -> a.conditioning().contribute(step, call)));
                }
                long u0 = System.nanoTime();
                Map<String, Tensor> out = unetCalls.run(call.feed());
                unetNanos += System.nanoTime() - u0;
                FloatTensor prediction = guidance.combine(unetOutput(unet, out), step);
                latents = scheduler.step(prediction, t, latents, random);
                if (maskBlend != null) {
                    latents = maskBlend.apply(latents, i, timesteps, scheduler);
                }
                step.at(i, t, latents);
                for (AfterStepCallback hook : pipeline.afterStepHooks()) {
                    callPlugin(hook, () -> run(() -> hook.afterStep(step)));
                }
                for (AfterStepCallback hook : request.afterStepCallbacks()) {
                    hook.afterStep(step);
                }
                step.checkCancelled();
            }
            long t2 = System.nanoTime();
            Cancellation.stageCurrent("decoding the latents");
            Cancellation.checkCurrent();
            RgbImage image = decode(latents);
            long t3 = System.nanoTime();
            StepTimings timings = new StepTimings(t1 - t0, t2 - t1, unetNanos, t3 - t2, timesteps.length);
            Provenance provenance = provenance(seed, steps, width, height, guidance, choice, scheduler, timings,
                    start, unetComponent, maskBlend != null);
            return new GenerationResult(List.of(image), latents, provenance, timings);
        } finally {
            for (ActiveConditioning a : active) {
                try {
                    a.conditioning().close();
                } catch (RuntimeException e) {
                    // closing must not hide the generation's own outcome
                }
            }
            active.clear();
        }
    }

    private Guidance chooseGuidance(Model unet) {
        for (GuidanceProvider p : pipeline.guidanceProviders()) {
            Optional<Guidance> g = callPlugin(p, () -> p.create(request, unet));
            if (g.isPresent()) {
                return g.get();
            }
        }
        return request.guidanceScale() > 1.0 ? new ClassifierFreeGuidance(request.guidanceScale())
                : new UnguidedSampling();
    }

    private static FloatTensor unetOutput(Model unet, Map<String, Tensor> out) {
        Tensor t = out.containsKey("out_sample") ? out.get("out_sample") : out.values().iterator().next();
        if (!(t instanceof FloatTensor f)) {
            throw new InvalidRequestException(unet + " output is " + t.elementType() + "; expected float32");
        }
        return f;
    }

    private RgbImage decode(FloatTensor latents) {
        Model vae = folder.model("vae_decoder");
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

    private Provenance provenance(long seed, int steps, int width, int height, Guidance guidance,
            SchedulerCatalog.Choice choice, Scheduler scheduler, StepTimings timings, LatentStart.Start start,
            String unetComponent, boolean blended) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("conditio.spi", SpiVersion.current());
        p.put("model", folder.root().toString());
        if (!unetComponent.equals(UnetVariant.DEFAULT)) {
            p.put("unet", unetComponent);
        }
        p.put("prompt", request.prompt());
        p.put("negative_prompt", request.negativePrompt());
        p.put("seed", Long.toString(seed));
        p.put("steps", Integer.toString(steps));
        p.put("guidance_scale", Double.toString(request.guidanceScale()));
        p.put("guidance", guidance.describe());
        p.put("width", Integer.toString(width));
        p.put("height", Integer.toString(height));
        p.put("mode", start.mode());
        if (start.mode().equals("inpaint")) {
            p.put(MaskBlend.PARAMETER, Boolean.toString(blended));
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
        return new Provenance(p);
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

    private static Void run(Runnable r) {
        r.run();
        return null;
    }

    /** Runs plugin code, turning an unexpected failure into one that names the plugin and its version. */
    private <T> T callPlugin(Object extension, Supplier<T> call) {
        try {
            return call.get();
        } catch (ConditioException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new PluginFailureException(extension.getClass().getName() + " from plugin "
                    + pipeline.host().origin(extension) + " failed: " + e, e);
        }
    }

    /** The conditioner-facing view of this generation. */
    private final class Context implements ConditioningContext {
        private final RandomSource random;
        private final List<GuidanceBranch> branches;
        private final int[] latentShape;
        private final int width;
        private final int height;
        private final Model unetModel;

        Context(RandomSource random, List<GuidanceBranch> branches, int[] latentShape, int width, int height,
                Model unetModel) {
            this.unetModel = unetModel;
            this.random = random;
            this.branches = branches;
            this.latentShape = latentShape;
            this.width = width;
            this.height = height;
        }

        @Override
        public GenerationRequest request() {
            return request;
        }

        @Override
        public Model unet() {
            return unetModel;
        }

        @Override
        public Optional<Model> component(String component) {
            return folder.optionalModel(component).map(m -> (Model) m);
        }

        @Override
        public Model loadModel(Path modelFile) {
            return pipeline.extraModel(modelFile);
        }

        @Override
        public Map<String, Object> modelIndex() {
            return folder.modelIndex();
        }

        @Override
        public Optional<TextTokenizer> tokenizer(String name) {
            return folder.tokenizer(name).map(t -> (TextTokenizer) t);
        }

        @Override
        public FloatTensor encodeImage(RgbImage image) {
            return new ImageEncoder(folder).encode(Images.fit(image, width, height), random);
        }

        @Override
        public FloatTensor encodeImageMode(RgbImage image) {
            return new ImageEncoder(folder).mode(Images.fit(image, width, height));
        }

        @Override
        public RandomSource random() {
            return random;
        }

        @Override
        public List<GuidanceBranch> branches() {
            return branches;
        }

        @Override
        public int[] latentShape() {
            return latentShape.clone();
        }

        @Override
        public int width() {
            return width;
        }

        @Override
        public int height() {
            return height;
        }
    }

    /** The hook-facing view of the current step. */
    private final class Step implements StepContext {
        private final int total;
        private final int inferenceSteps;
        private final List<GuidanceBranch> branches;
        private int index;
        private float timestep;
        private FloatTensor latents;
        private boolean cancelled;

        Step(int total, int inferenceSteps, List<GuidanceBranch> branches) {
            this.total = total;
            this.inferenceSteps = inferenceSteps;
            this.branches = branches;
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
        public void cancel() {
            cancelled = true;
        }
    }
}
