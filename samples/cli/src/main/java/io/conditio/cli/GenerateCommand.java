package io.conditio.cli;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.api.StepTimings;
import io.conditio.core.Conditio;
import io.conditio.core.MemoryLimit;
import io.conditio.core.image.PngImages;
import io.conditio.core.io.AtomicOutputs;
import io.conditio.core.json.Json;
import io.conditio.core.npy.Npy;
import io.conditio.core.parameters.ParameterCatalog;
import io.conditio.core.parameters.ParameterValues;
import io.conditio.core.pipeline.Pipeline;
import io.conditio.core.preview.LatentPreview;
import io.conditio.core.recipe.Recipe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conditio generate}: one image from a model folder. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate an image with a Stable Diffusion-style ONNX model folder.")
final class GenerateCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--recipe", paramLabel = "FILE",
            description = "A recipe (JSON, or YAML for .yaml/.yml): model, prompt, seed, steps, scheduler, "
                    + "parameters ... (docs/recipes); the flags given here override it.")
    Path recipe;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model folder in the diffusers/optimum ONNX layout (" + ConditioCli.MODEL_DEFAULT + ").")
    Path model;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "What to draw.")
    String prompt;

    @Option(names = "--negative-prompt", paramLabel = "TEXT",
            description = "What to steer away from (the unconditional branch of guidance).")
    String negativePrompt;

    @Option(names = "--steps", paramLabel = "N",
            description = "Inference steps (default: 20, or what the model folder suggests).")
    Integer steps;

    @Option(names = "--guidance", paramLabel = "G", description = "Classifier-free guidance scale; 1 or less turns "
            + "guidance off (default: 7.5, or what the model folder suggests).")
    Double guidance;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the torch-compatible generator "
            + "(default: random, printed and recorded in the PNG).")
    Long seed;

    @Option(names = "--num-images", paramLabel = "N",
            description = "Images of the prompt, made in one UNet batch (1 to " + GenerationRequest.MAX_IMAGES_PER_PROMPT
                    + "; default 1). Image k has seed S+k and is the image --seed S+k gives alone; with N > 1 "
                    + "the images are NAME-0.png ... NAME-<N-1>.png beside --out NAME.png, each with its own "
                    + "recipe, and --out itself is a grid of them.")
    Integer numImages;

    @Option(names = "--split-guidance-batch",
            description = "Run each guidance branch (unconditional, conditional) as its own UNet call of batch N "
                    + "instead of one call of 2N: less memory, the same images up to the last bits.")
    boolean splitGuidanceBatch;

    @Option(names = "--width", paramLabel = "W", description = "Width in pixels (default: UNet sample size × VAE factor).")
    Integer width;

    @Option(names = "--height", paramLabel = "H", description = "Height in pixels (default: as width).")
    Integer height;

    @ArgGroup(exclusive = true)
    SchedulerChoice scheduler;

    static final class SchedulerChoice {
        @Option(names = "--scheduler", paramLabel = "NAME",
                description = "Scheduler name (ddim, pndm, euler, euler-a, dpm++2m, ... see 'conditio plugins') or a "
                        + "diffusers class name; inherits the model folder's scheduler config.")
        String name;

        @Option(names = "--scheduler-config", paramLabel = "FILE.json",
                description = "A diffusers scheduler_config.json: _class_name picks the scheduler, the other keys "
                        + "configure it (on top of the model folder's config).")
        Path config;
    }

    @Option(names = "--init-image", paramLabel = "IMG",
            description = "img2img: start from this image (with --mask: the image to repaint; with an 8-channel UNet: "
                    + "the instruct-pix2pix input image).")
    Path initImage;

    @Option(names = "--strength", paramLabel = "S",
            description = "img2img strength in (0, 1]: how much of the schedule runs (default: 0.8, 1.0 with --mask).")
    Double strength;

    @Option(names = "--mask", paramLabel = "IMG",
            description = "Inpainting mask (white = repaint), with --init-image: a 9-channel inpainting UNet gets it "
                    + "as input channels, a regular UNet keeps the unmasked area by latent blending.")
    Path mask;

    @Option(names = "--mask-blend", negatable = true,
            description = "With --mask: after every step put the init image's (noised) latents back outside the mask, "
                    + "so the unmasked area stays the init image (default: as the model folder suggests, else as "
                    + "diffusers: on for a regular UNet, off for a 9-channel inpainting UNet).")
    Boolean maskBlend;

    @Option(names = "--image-guidance", paramLabel = "G",
            description = "instruct-pix2pix image guidance scale (default: 1.5), with --init-image and an 8-channel UNet.")
    Double imageGuidance;

    @ArgGroup(exclusive = false, multiplicity = "0..*", heading = "ControlNet (repeat the group per ControlNet):%n")
    List<ControlNetGroup> controlnets = new ArrayList<>();

    static final class ControlNetGroup {
        @Option(names = "--controlnet", paramLabel = "DIR", required = true,
                description = "A ControlNet ONNX model folder (model.onnx) or file.")
        Path model;

        @Option(names = "--control-image", paramLabel = "IMG", required = true, description = "Its control image.")
        Path image;

        @Option(names = "--control-scale", paramLabel = "S", description = "Conditioning scale (default: 1.0).")
        Double scale;

        @Option(names = "--control-start", paramLabel = "A",
                description = "Fraction of the steps where it starts acting (default: 0.0).")
        Double start;

        @Option(names = "--control-end", paramLabel = "B",
                description = "Fraction of the steps where it stops acting (default: 1.0).")
        Double end;

        @Option(names = "--guess-mode", description = "ControlNet on the conditional branch only, scales ramped.")
        boolean guessMode;

        @Option(names = "--control-preprocess", paramLabel = "NAME",
                description = "Preprocess the control image: canny, softedge, lineart, scribble, segmentation, "
                        + "depth, dwpose, ... (conditio plugins lists them; default: none).")
        String preprocess;

        @Option(names = "--preprocess-model", paramLabel = "FILE", description = PreprocessCommand.MODEL_FILES)
        List<Path> preprocessModels = new ArrayList<>();

        /** This ControlNet's entry of the {@code controlnets} parameter. */
        Map<String, Object> parameter() {
            return unit(model, image, scale, preprocess, preprocessModels, m -> {
                m.put("start", start == null ? 0.0 : start);
                m.put("end", end == null ? 1.0 : end);
                m.put("guess_mode", guessMode);
            });
        }
    }

    @ArgGroup(exclusive = false, multiplicity = "0..*", heading = "T2I-Adapter (repeat the group per adapter):%n")
    List<AdapterGroup> adapters = new ArrayList<>();

    static final class AdapterGroup {
        @Option(names = "--t2i-adapter", paramLabel = "DIR", required = true,
                description = "A T2I-Adapter ONNX model folder (model.onnx) or file.")
        Path model;

        @Option(names = "--adapter-image", paramLabel = "IMG", required = true,
                description = "Its condition image (a sketch, edges, depth ...).")
        Path image;

        @Option(names = "--adapter-scale", paramLabel = "S",
                description = "adapter_conditioning_scale (default: 1.0).")
        Double scale;

        @Option(names = "--adapter-factor", paramLabel = "F",
                description = "adapter_conditioning_factor: act while step < int(steps x F) (default: 1.0).")
        Double factor;

        @Option(names = "--adapter-preprocess", paramLabel = "NAME",
                description = "Preprocess the condition image, as --control-preprocess (default: none).")
        String preprocess;

        @Option(names = "--adapter-preprocess-model", paramLabel = "FILE",
                description = "A model file of an ONNX preprocessor, repeatable.")
        List<Path> preprocessModels = new ArrayList<>();

        /** This adapter's entry of the {@code t2i_adapters} parameter. */
        Map<String, Object> parameter() {
            return unit(model, image, scale, preprocess, preprocessModels,
                    m -> m.put("factor", factor == null ? 1.0 : factor));
        }
    }

    /**
     * A ControlNet's or T2I-Adapter's parameter entry: its model, image and scale, then its own settings, then its
     * preprocessing.
     */
    private static Map<String, Object> unit(Path model, Path image, Double scale, String preprocess,
            List<Path> preprocessModels, Consumer<Map<String, Object>> own) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("image", PngImages.read(image));
        m.put("scale", scale == null ? 1.0 : scale);
        own.accept(m);
        m.put("preprocess", preprocess == null ? "none" : preprocess);
        if (!preprocessModels.isEmpty()) {
            m.put("preprocess_models", List.copyOf(preprocessModels));
        }
        return m;
    }

    @Option(names = "--class-label", paramLabel = "N", description = "Class label for a class-conditional UNet.")
    Long classLabel;

    @Option(names = "--null-class-label", paramLabel = "M",
            description = "Class label of the unconditional branch (default: the UNet's last class).")
    Long nullClassLabel;

    @Option(names = "--original-size", paramLabel = "W,H", description = "SDXL added condition: original size.")
    String originalSize;

    @Option(names = "--crop-top-left", paramLabel = "X,Y", description = "SDXL added condition: crop origin.")
    String cropTopLeft;

    @Option(names = "--target-size", paramLabel = "W,H", description = "SDXL added condition: target size.")
    String targetSize;

    @Option(names = "--clip-skip", paramLabel = "N",
            description = "Skip the last N text encoder layers (needs an encoder exporting hidden_states.*).")
    Integer clipSkip;

    @Option(names = "--no-prompt-weighting",
            description = "Read (brackets) and [brackets] in the prompt literally instead of as attention weights.")
    boolean noPromptWeighting;

    @Option(names = "--lora", paramLabel = "FILE[:SCALE]",
            description = "A LoRA .safetensors file (kohya or diffusers/PEFT names) merged into the UNet, text "
                    + "encoder and VAE decoder weights, with its scale (default 1.0); repeatable. Prompts may also say "
                    + "<lora:NAME:SCALE> for loras/NAME.safetensors in the model folder.")
    List<String> loras = new ArrayList<>();

    @Option(names = "--embedding", paramLabel = "FILE[:TOKEN]",
            description = "A textual-inversion embedding .safetensors file (A1111 emb_params or diffusers "
                    + "learned_embeds) whose TOKEN (default: the diffusers key or the file name) the prompt may use; "
                    + "repeatable. Files in the model folder's embeddings/ are used when the prompt names them.")
    List<String> embeddings = new ArrayList<>();

    @Option(names = "--param", paramLabel = "KEY=VALUE",
            description = "A request parameter a plugin declares (repeatable), typed by its declaration, e.g. "
                    + "--param guidance_rescale=0.7; lists comma-separated, groups as JSON. 'conditio plugins "
                    + "--parameters' lists the keys; an unknown key is an error.")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--out", paramLabel = "FILE.png", defaultValue = "conditio.png",
            description = "Output PNG, with the provenance in text chunks (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--save-latents", paramLabel = "FILE.npy",
            description = "Also write the final latents (before the VAE) as a NumPy float32 NCHW array.")
    Path saveLatents;

    @Option(names = "--quiet", description = "No progress on stderr.")
    boolean quiet;

    @Option(names = "--preview-every", paramLabel = "N",
            description = "Every N steps write a preview beside --out (NAME-preview-STEP.png), projected linearly "
                    + "from the latents (fitted once per model to its VAE, cached in $CONDITIO_CACHE, else "
                    + "~/.cache/conditio).")
    Integer previewEvery;

    @Option(names = "--memory-limit", paramLabel = "SIZE",
            description = "Refuse requests whose buffers would need more than this, e.g. 2g or 512m (default: the "
                    + "JVM's maximum heap).")
    String memoryLimit;

    @Mixin
    PluginDirectoryOption plugins = new PluginDirectoryOption();

    @Mixin
    PluginDevOption dev = new PluginDevOption();

    @Mixin
    SessionFlags sessionFlags = new SessionFlags();

    @Override
    public Integer call() throws Exception {
        return sessionFlags.around(this::execute);
    }

    private Integer execute() {
        Recipe r = recipe == null ? Recipe.empty() : Recipe.read(recipe);
        Path model = this.model == null && r.model().isPresent() ? r.model().get()
                : ConditioCli.modelDirectory(this.model);
        String what = this.model != null ? "--model "
                : r.model().isPresent() ? "the recipe's model " : "default model ";
        if (Files.isRegularFile(model)) {
            throw new InvalidRequestException(what + model
                    + " is a file; expected a model folder (holding unet/model.onnx and vae_decoder/model.onnx)");
        }
        if (!Files.isDirectory(model)) {
            throw new InvalidRequestException(what + model + ": no such directory");
        }
        // the CLI also runs in-process (tests, embedding): the limit is this command's only
        try (SessionFlags.Scope limit = SessionFlags.setProperties(memoryLimit == null ? Map.of()
                : Map.of(MemoryLimit.PROPERTY, Long.toString(MemoryLimit.parse(memoryLimit))))) {
            return generate(model, r);
        }
    }

    private int generate(Path model, Recipe r) {
        OutputFiles.checkWritable("--out", out);
        if (numImages != null && numImages > 1) {
            for (Path f : imageFiles(out, numImages)) {
                OutputFiles.checkWritable("--out", f);
            }
        }
        if (saveLatents != null) {
            OutputFiles.checkWritable("--save-latents", saveLatents);
            if (saveLatents.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new InvalidRequestException("--save-latents " + saveLatents + " is the --out file; give the "
                        + "latents a file of their own (.npy)");
            }
        }
        Path pluginDir = plugins.directory();
        try (Conditio conditio = Conditio.start(List.of(pluginDir), dev.pluginDev);
                Pipeline pipeline = conditio.open(model)) {
            ConditioCli.warn(spec, conditio.plugins().devWarnings());
            ConditioCli.warn(spec, conditio.plugins().problems());
            GenerationRequest.Builder b = r.toRequestBuilder(pipeline.parameters());
            addFlags(b);
            addParams(b, pipeline.parameters());
            addProgress(b, pipeline);
            GenerationRequest request = b.build();
            ConditioCli.warn(spec, pipeline.parameters().validate(request.parameters()));
            GenerationResult result = pipeline.generate(request);
            report(result);
        }
        return 0;
    }

    /** The progress bar or lines, and the previews. */
    private void addProgress(GenerationRequest.Builder b, Pipeline pipeline) {
        if (!quiet) {
            ProgressReporter progress = new ProgressReporter(spec.commandLine().getErr(),
                    ProgressReporter.stderrIsTerminal(), System::nanoTime);
            b.optBeforeStep(progress);
            b.optAfterStep(progress);
        }
        if (previewEvery != null) {
            if (previewEvery < 1) {
                throw new InvalidRequestException("--preview-every " + previewEvery + ": expected a number of steps "
                        + ">= 1");
            }
            LatentPreview preview = LatentPreview.forModel(pipeline.folder(), LatentPreview.defaultCache());
            String stem = OutputFiles.stem(out);
            int every = previewEvery;
            b.optAfterStep(step -> {
                int done = step.stepIndex() + 1;
                if (done % every == 0 || done == step.totalSteps()) {
                    Path file = out.resolveSibling(String.format(Locale.ROOT, "%s-preview-%03d.png", stem, done));
                    PngImages.write(file, preview.render(step.latents().dim(0) == 1 ? step.latents()
                            : step.latents().batchEntry(0)), Map.of("step", Integer.toString(done)));
                }
            });
        }
    }

    /** The flags given on the command line, over what the recipe set. */
    private void addFlags(GenerationRequest.Builder b) {
        ifGiven(prompt, b::setPrompt);
        ifGiven(negativePrompt, b::optNegativePrompt);
        ifGiven(guidance, b::optGuidanceScale);
        ifGiven(steps, b::optSteps);
        ifGiven(seed, b::optSeed);
        if (numImages != null) {
            if (numImages < 1 || numImages > GenerationRequest.MAX_IMAGES_PER_PROMPT) {
                throw new InvalidRequestException("--num-images " + numImages + ": expected 1 to "
                        + GenerationRequest.MAX_IMAGES_PER_PROMPT);
            }
            b.optImagesPerPrompt(numImages);
        }
        if (splitGuidanceBatch) {
            b.optSplitGuidanceBatch(true);
        }
        ifGiven(width, b::optWidth);
        ifGiven(height != null ? height : width, b::optHeight);
        if (scheduler != null) {
            ifGiven(scheduler.name, b::optScheduler);
            ifGiven(scheduler.config, config -> b.optSchedulerConfig(readSchedulerConfig(config)));
        }
        addConditioning(b);
    }

    /** Passes a flag's value on when the flag was given (a value the recipe set stays otherwise). */
    private static <T> void ifGiven(T value, Consumer<? super T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }

    private void report(GenerationResult result) {
        List<Path> files = imageFiles(out, result.images().size());
        writeOutputs(result, files);
        StepTimings t = result.timings();
        var p = result.provenance();
        String seeds = p.get("seed");
        if (files.size() > 1) {
            seeds = result.imageProvenance().get(0).get("seed") + " to "
                    + result.imageProvenance().get(files.size() - 1).get("seed");
            spec.commandLine().getOut().println("wrote " + gridFile(out) + " (" + files.size() + " images)");
        }
        spec.commandLine().getOut().printf(Locale.ROOT,
                "wrote %s (%sx%s, seed %s, %s steps, %s, %s)%n  loop %.1f ms per step, UNet %.1f ms per call, "
                        + "%d calls; prepare %.1f ms, decode %.1f ms%n",
                files.size() == 1 ? out : String.join(", ", files.stream().map(Path::toString).toList()),
                p.get("width"), p.get("height"), seeds, p.get("steps"), p.get("scheduler"),
                p.get("guidance"), t.meanStepMillis(), t.meanUnetMillis(), t.modelCalls(),
                t.prepareNanos() / 1e6, t.decodeNanos() / 1e6);
        if (saveLatents != null) {
            spec.commandLine().getOut().println("wrote " + saveLatents + " (latents "
                    + result.latents().shapeString() + ")");
        }
    }

    /**
     * The PNG of each image: {@code --out} itself for one, else {@code NAME-0.png} to {@code NAME-<n-1>.png} beside
     * it.
     */
    static List<Path> imageFiles(Path out, int images) {
        if (images == 1) {
            return List.of(out);
        }
        String name = out.getFileName().toString();
        String stem = OutputFiles.stem(out);
        String ending = stem.length() < name.length() ? name.substring(stem.length()) : ".png";
        List<Path> files = new ArrayList<>();
        for (int k = 0; k < images; k++) {
            files.add(out.resolveSibling(stem + "-" + k + ending));
        }
        return files;
    }

    /** The contact grid of several images: {@code --out} itself (the images are beside it). */
    static Path gridFile(Path out) {
        return out;
    }

    /** The PNGs (and grid) and the latents appear all or none, each whole. */
    private void writeOutputs(GenerationResult result, List<Path> images) {
        Map<Path, byte[]> files = new LinkedHashMap<>();
        try {
            for (int k = 0; k < images.size(); k++) {
                files.put(images.get(k), PngImages.encode(result.images().get(k), result.provenance(k).entries()));
            }
            if (images.size() > 1) {
                List<String> columns = new ArrayList<>();
                RgbImage[][] cells = new RgbImage[1][images.size()];
                for (int k = 0; k < images.size(); k++) {
                    columns.add("seed " + result.provenance(k).get("seed"));
                    cells[0][k] = result.images().get(k);
                }
                String title = result.provenance().get("prompt");
                ContactSheet.Sheet sheet = ContactSheet.render(title.isEmpty() ? "(no prompt)" : title,
                        List.of(""), columns, cells, 1);
                files.put(gridFile(out), PngImages.encode(sheet.image(), Map.of("prompt", title,
                        "images", String.join(" ", images.stream().map(f -> f.getFileName().toString()).toList()))));
            }
            if (saveLatents != null) {
                files.put(saveLatents, Npy.encode(result.latents()));
            }
            AtomicOutputs.writeAll(files);
        } catch (IOException e) {
            throw new InvalidRequestException("could not write " + String.join(" and ", files.keySet().stream()
                    .map(Path::toString).toList()) + ": " + AtomicOutputs.reason(e) + "; nothing was written");
        }
    }

    private void addConditioning(GenerationRequest.Builder b) {
        addImage(b, "init_image", initImage);
        addParameter(b, "strength", strength);
        addImage(b, "mask_image", mask);
        addParameter(b, "mask_blend", maskBlend);
        addParameter(b, "image_guidance_scale", imageGuidance);
        if (!loras.isEmpty()) {
            b.optParameter("lora", List.copyOf(loras));
        }
        if (!embeddings.isEmpty()) {
            b.optParameter("embeddings", List.copyOf(embeddings));
        }
        if (!controlnets.isEmpty()) {
            b.optParameter("controlnets", controlnets.stream().map(ControlNetGroup::parameter)
                    .collect(Collectors.toCollection(ArrayList::new)));
        }
        if (!adapters.isEmpty()) {
            b.optParameter("t2i_adapters", adapters.stream().map(AdapterGroup::parameter)
                    .collect(Collectors.toCollection(ArrayList::new)));
        }
        addParameter(b, "class_label", classLabel);
        addParameter(b, "null_class_label", nullClassLabel);
        // SDXL sizes are given as W,H and X,Y on the command line, stored in diffusers' (height, width) order
        addSize(b, "original_size", "--original-size", originalSize);
        addSize(b, "crops_coords_top_left", "--crop-top-left", cropTopLeft);
        addSize(b, "target_size", "--target-size", targetSize);
        addParameter(b, "clip_skip", clipSkip);
        if (noPromptWeighting) {
            b.optParameter("prompt_weighting", false);
        }
    }

    /** A request parameter from a flag that was given (a flag not given leaves the recipe's value). */
    private static void addParameter(GenerationRequest.Builder b, String key, Object value) {
        ifGiven(value, v -> b.optParameter(key, v));
    }

    /** An image parameter read from the file a flag names, and the file as its {@code source.} note. */
    private static void addImage(GenerationRequest.Builder b, String key, Path file) {
        if (file != null) {
            b.optParameter(key, PngImages.read(file));
            b.optParameter("source." + key, file.toString());
        }
    }

    /** An SDXL size or offset given as W,H or X,Y, stored as (H, W) or (Y, X). */
    private static void addSize(GenerationRequest.Builder b, String key, String flag, String value) {
        if (value != null) {
            b.optParameter(key, swapped(pair(flag, value)));
        }
    }

    /**
     * {@code --param} values typed by their declarations (paths relative to the working directory); a key nobody
     * declares is refused, listing the known keys, unless a plugin built against SPI 0.1.0 is loaded (then it is
     * typed as before declarations: booleans, integers, decimals, else text).
     */
    private void addParams(GenerationRequest.Builder b, ParameterCatalog catalog) {
        Path base = Path.of("").toAbsolutePath();
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, String> p : params.entrySet()) {
            String key = p.getKey();
            var declaration = catalog.declaration(key);
            if (declaration.isPresent()) {
                b.optParameter(key, ParameterValues.fromText(declaration.get(), p.getValue(), base));
            } else if (!catalog.undeclaredOwners().isEmpty() || key.startsWith(ParameterCatalog.ANNOTATION_PREFIX)) {
                b.optParameter(key, ParameterValues.guess(p.getValue()));
            } else {
                unknown.add(catalog.unknownKey(key).replace("unknown request parameter", "unknown --param"));
            }
        }
        if (!unknown.isEmpty()) {
            throw new InvalidRequestException(String.join("; ", unknown) + "; the known parameters are: "
                    + String.join(", ", catalog.entries().keySet()) + " (conditio plugins --parameters describes "
                    + "them)");
        }
    }

    private static List<Long> pair(String flag, String value) {
        String[] parts = value.split(",");
        if (parts.length != 2) {
            throw new InvalidRequestException(flag + " " + value + ": expected two integers separated by a comma");
        }
        try {
            return List.of(Long.parseLong(parts[0].strip()), Long.parseLong(parts[1].strip()));
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(flag + " " + value + ": expected two integers separated by a comma");
        }
    }

    private static List<Long> swapped(List<Long> xy) {
        return List.of(xy.get(1), xy.get(0));
    }

    private static Map<String, Object> readSchedulerConfig(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidRequestException("--scheduler-config " + file + ": no such file");
        }
        try {
            return Json.parseObject(file);
        } catch (RuntimeException e) {
            throw new InvalidRequestException("--scheduler-config " + file + ": " + e.getMessage());
        }
    }
}
