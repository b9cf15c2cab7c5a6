package io.conditio.tck;

import io.conditio.api.ConditioningContext;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.ModelLoadException;
import io.conditio.api.RandomSource;
import io.conditio.api.RgbImage;
import io.conditio.api.TensorFiles;
import io.conditio.api.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A {@link ConditioningContext} for unit tests: the request, a UNet, the model folder components and tokenizers the
 * test gives, and a generator seeded from the request. The defaults make a context in one line,
 * {@code TestConditioningContext.builder(request).build()}: the {@link TestModels#unet} signature, 4 latent channels
 * at 1/8 of the size (64 × 64 unless the request sets it), classifier-free guidance's two branches when the guidance
 * scale is above 1, and a tiny image encoder (each latent is the mean of an 8 × 8 block of one colour channel, with
 * noise from the generator for {@link #encodeImage}). Real models are given like the doubles:
 *
 * <pre>{@code
 * TestConditioningContext.builder(request)
 *         .unet(folder.model("unet"))
 *         .component("text_encoder", folder.model("text_encoder"))
 *         .tokenizer("tokenizer", folder.tokenizer("tokenizer").orElseThrow())
 *         .modelLoader(path -> OnnxModel.open("controlnet", path.resolve("model.onnx")))
 *         .build();
 * }</pre>
 *
 * It records every model handed out through {@link #loadModel} ({@link #loadedModels()}).
 */
public final class TestConditioningContext implements ConditioningContext {
    /** Encodes an image into latents, as the host's VAE encoder does. */
    public interface ImageEncoder {
        /**
         * @param image  the image, the size of the generation
         * @param random the generation's generator, for encoders that sample
         * @return latents {@code [1, C, H/f, W/f]}, scaled
         */
        FloatTensor encode(RgbImage image, RandomSource random);

        /**
         * @param image the image, the size of the generation
         * @return the mean latents {@code [1, C, H/f, W/f]}, unscaled
         */
        FloatTensor mode(RgbImage image);
    }

    private final GenerationRequest request;
    private final Model unet;
    private final Map<String, Model> components;
    private final Map<String, TextTokenizer> tokenizers;
    private final Function<Path, Model> modelLoader;
    private final TensorFiles tensorFiles;
    private final ImageEncoder encoder;
    private final List<GuidanceBranch> branches;
    private final Map<String, Object> modelIndex;
    private final Map<String, UnaryOperator<RgbImage>> preprocessors;
    private final int latentChannels;
    private final int vaeFactor;
    private final RandomSource random;
    private final List<Path> loaded = new ArrayList<>();

    private TestConditioningContext(Builder b) {
        this.request = b.request;
        this.unet = b.unet;
        this.components = Map.copyOf(b.components);
        this.tokenizers = Map.copyOf(b.tokenizers);
        this.modelLoader = b.modelLoader;
        this.tensorFiles = b.tensorFiles;
        this.encoder = b.encoder != null ? b.encoder : new BlockMeanEncoder(b.latentChannels, b.vaeFactor);
        this.branches = b.branches != null ? b.branches : request.guidanceScale() > 1
                ? List.of(GuidanceBranch.UNCONDITIONAL, GuidanceBranch.CONDITIONAL)
                : List.of(GuidanceBranch.CONDITIONAL);
        this.modelIndex = Map.copyOf(b.modelIndex);
        this.preprocessors = Map.copyOf(b.preprocessors);
        this.latentChannels = b.latentChannels;
        this.vaeFactor = b.vaeFactor;
        this.random = b.random.apply(request);
    }

    /**
     * @param request the request the conditioner prepares for
     * @return a builder with the defaults above
     */
    public static Builder builder(GenerationRequest request) {
        return new Builder(request);
    }

    @Override
    public GenerationRequest request() {
        return request;
    }

    @Override
    public Model unet() {
        return unet;
    }

    @Override
    public Optional<Model> component(String component) {
        return Optional.ofNullable(components.get(component));
    }

    @Override
    public Model loadModel(Path modelFile) {
        if (modelLoader == null) {
            throw new ModelLoadException("this test's context loads no models (give Builder.modelLoader); asked for "
                    + modelFile);
        }
        Model m = modelLoader.apply(modelFile);
        synchronized (loaded) {
            loaded.add(modelFile);
        }
        return m;
    }

    /** @return the paths {@link #loadModel} was asked for, in order */
    public List<Path> loadedModels() {
        synchronized (loaded) {
            return List.copyOf(loaded);
        }
    }

    @Override
    public Map<String, Object> modelIndex() {
        return modelIndex;
    }

    @Override
    public TensorFiles tensorFiles() {
        return tensorFiles;
    }

    @Override
    public Optional<TextTokenizer> tokenizer(String name) {
        return Optional.ofNullable(tokenizers.get(name));
    }

    @Override
    public FloatTensor encodeImage(RgbImage image) {
        return encoder.encode(fit(image), random);
    }

    @Override
    public FloatTensor encodeImageMode(RgbImage image) {
        return encoder.mode(fit(image));
    }

    private RgbImage fit(RgbImage image) {
        return image.width() == width() && image.height() == height() ? image
                : image.resizedBilinear(width(), height());
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
        return new int[] {1, latentChannels, height() / vaeFactor, width() / vaeFactor};
    }

    @Override
    public int width() {
        return request.width().orElse(64);
    }

    @Override
    public int height() {
        return request.height().orElse(64);
    }

    @Override
    public RgbImage preprocess(String name, RgbImage image, List<Path> models) {
        if ("none".equalsIgnoreCase(name)) {
            return image;
        }
        UnaryOperator<RgbImage> p = preprocessors.get(name.toLowerCase(Locale.ROOT));
        if (p == null) {
            throw new InvalidRequestException("control preprocessor '" + name + "' is not available; this test's"
                    + " context has " + preprocessors.keySet());
        }
        return p.apply(image);
    }

    /** The context's parts; everything but the request has a default. */
    public static final class Builder {
        private final GenerationRequest request;
        private Model unet = TestModels.unet(4, 4);
        private final Map<String, Model> components = new LinkedHashMap<>();
        private final Map<String, TextTokenizer> tokenizers = new LinkedHashMap<>();
        private final Map<String, Object> modelIndex = new LinkedHashMap<>();
        private final Map<String, UnaryOperator<RgbImage>> preprocessors = new LinkedHashMap<>();
        private Function<Path, Model> modelLoader;
        private TensorFiles tensorFiles = TensorFiles.none();
        private ImageEncoder encoder;
        private List<GuidanceBranch> branches;
        private int latentChannels = 4;
        private int vaeFactor = 8;
        private Function<GenerationRequest, RandomSource> random = r -> new TestRandom(r.seed().orElse(0L));

        private Builder(GenerationRequest request) {
            this.request = java.util.Objects.requireNonNull(request, "request");
        }

        /** @param m the UNet @return this */
        public Builder unet(Model m) {
            this.unet = m;
            return this;
        }

        /** @param name a component name, e.g. {@code text_encoder} @param m its model @return this */
        public Builder component(String name, Model m) {
            components.put(name, m);
            return this;
        }

        /** @param name {@code tokenizer} or {@code tokenizer_2} @param t the tokenizer @return this */
        public Builder tokenizer(String name, TextTokenizer t) {
            tokenizers.put(name, t);
            return this;
        }

        /** @param loader opens a model outside the folder (a ControlNet, an adapter) by path @return this */
        public Builder modelLoader(Function<Path, Model> loader) {
            this.modelLoader = loader;
            return this;
        }

        /**
         * @param files reads the weight files the conditioner names, as the host's reader does (default: refuses
         *              every file)
         * @return this
         */
        public Builder tensorFiles(TensorFiles files) {
            this.tensorFiles = java.util.Objects.requireNonNull(files, "files");
            return this;
        }

        /** @param e the image encoder (default: the block-mean encoder) @return this */
        public Builder imageEncoder(ImageEncoder e) {
            this.encoder = e;
            return this;
        }

        /**
         * @param encode encodes with the generation's generator
         * @param mode   encodes to the mean
         * @return this
         */
        public Builder imageEncoder(BiFunction<RgbImage, RandomSource, FloatTensor> encode,
                Function<RgbImage, FloatTensor> mode) {
            return imageEncoder(new ImageEncoder() {
                @Override
                public FloatTensor encode(RgbImage image, RandomSource random) {
                    return encode.apply(image, random);
                }

                @Override
                public FloatTensor mode(RgbImage image) {
                    return mode.apply(image);
                }
            });
        }

        /** @param b the branches of the UNet batch, in batch order @return this */
        public Builder branches(List<GuidanceBranch> b) {
            this.branches = List.copyOf(b);
            return this;
        }

        /** @param index the model folder's model_index.json entries @return this */
        public Builder modelIndex(Map<String, Object> index) {
            modelIndex.putAll(index);
            return this;
        }

        /** @param channels latent channels (default 4) @param factor the VAE's spatial factor (default 8) @return this */
        public Builder latents(int channels, int factor) {
            this.latentChannels = channels;
            this.vaeFactor = factor;
            return this;
        }

        /** @param name a preprocessor name @param p what it does @return this */
        public Builder preprocessor(String name, UnaryOperator<RgbImage> p) {
            preprocessors.put(name.toLowerCase(Locale.ROOT), p);
            return this;
        }

        /** @param r the generator for a request (default: a {@link TestRandom} of the request's seed, else 0) @return this */
        public Builder random(Function<GenerationRequest, RandomSource> r) {
            this.random = r;
            return this;
        }

        /** @return the context */
        public TestConditioningContext build() {
            return new TestConditioningContext(this);
        }
    }

    /** The default image encoder: block means of the colour channels, signed, and noise for sampling. */
    private record BlockMeanEncoder(int channels, int factor) implements ImageEncoder {
        @Override
        public FloatTensor mode(RgbImage image) {
            int h = image.height() / factor;
            int w = image.width() / factor;
            float[] out = new float[channels * h * w];
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double sum = 0;
                        for (int dy = 0; dy < factor; dy++) {
                            for (int dx = 0; dx < factor; dx++) {
                                sum += image.get(x * factor + dx, y * factor + dy, c % 3);
                            }
                        }
                        out[(c * h + y) * w + x] = (float) (2 * sum / (factor * factor) - 1);
                    }
                }
            }
            return FloatTensor.of(out, 1, channels, h, w);
        }

        @Override
        public FloatTensor encode(RgbImage image, RandomSource random) {
            FloatTensor mean = mode(image);
            return mean.add(random.randn(mean.shape()).mul(0.1f)).mul(0.18215f);
        }
    }
}
