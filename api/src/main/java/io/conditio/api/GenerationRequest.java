package io.conditio.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable request for one image, or several images of one prompt ({@link #imagesPerPrompt()}, run as one
 * UNet batch). Settings left unset take the model folder's defaults (size from the UNet
 * config, scheduler from {@code scheduler/scheduler_config.json}).
 *
 * <pre>{@code
 * GenerationRequest request = GenerationRequest.builder()
 *         .setPrompt("a red circle at the top left")
 *         .optSteps(20)
 *         .optSeed(42)
 *         .optScheduler("euler-a")
 *         .build();
 * }</pre>
 *
 * <p>Conditioning plugins read their own settings from {@link #parameters()} (for example {@code class_label}),
 * under keys they document.
 */
public final class GenerationRequest {
    /** The guidance scale diffusers' Stable Diffusion pipelines default to. */
    public static final double DEFAULT_GUIDANCE_SCALE = 7.5;
    /** The most images one request may ask for ({@link Builder#optImagesPerPrompt}). */
    public static final int MAX_IMAGES_PER_PROMPT = 64;

    private final String prompt;
    private final String negativePrompt;
    private final Integer steps;
    private final double guidanceScale;
    private final boolean guidanceScaleSet;
    private final Long seed;
    private final Integer width;
    private final Integer height;
    private final String scheduler;
    private final Map<String, Object> schedulerConfig;
    private final Map<String, Object> parameters;
    private final List<BeforeStepCallback> beforeStep;
    private final List<AfterStepCallback> afterStep;
    private final Duration timeout;
    private final int imagesPerPrompt;
    private final boolean splitGuidanceBatch;

    private GenerationRequest(Builder b) {
        this.prompt = b.prompt;
        this.negativePrompt = b.negativePrompt;
        this.steps = b.steps;
        this.guidanceScale = b.guidanceScale;
        this.guidanceScaleSet = b.guidanceScaleSet;
        this.seed = b.seed;
        this.width = b.width;
        this.height = b.height;
        this.scheduler = b.scheduler;
        this.schedulerConfig = b.schedulerConfig == null ? null
                : Collections.unmodifiableMap(new LinkedHashMap<>(b.schedulerConfig));
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(b.parameters));
        this.beforeStep = List.copyOf(b.beforeStep);
        this.afterStep = List.copyOf(b.afterStep);
        this.timeout = b.timeout;
        this.imagesPerPrompt = b.imagesPerPrompt;
        this.splitGuidanceBatch = b.splitGuidanceBatch;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding this request's settings */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.prompt = prompt;
        b.negativePrompt = negativePrompt;
        b.steps = steps;
        b.guidanceScale = guidanceScale;
        b.guidanceScaleSet = guidanceScaleSet;
        b.seed = seed;
        b.width = width;
        b.height = height;
        b.scheduler = scheduler;
        b.schedulerConfig = schedulerConfig;
        b.parameters.putAll(parameters);
        b.beforeStep.addAll(beforeStep);
        b.afterStep.addAll(afterStep);
        b.timeout = timeout;
        b.imagesPerPrompt = imagesPerPrompt;
        b.splitGuidanceBatch = splitGuidanceBatch;
        return b;
    }

    /** @return the prompt, never null (empty for an unconditional image) */
    public String prompt() {
        return prompt;
    }

    /** @return the negative prompt, never null (empty by default, as in diffusers) */
    public String negativePrompt() {
        return negativePrompt;
    }

    /** @return the number of inference steps, or empty for the model folder's default */
    public Optional<Integer> steps() {
        return Optional.ofNullable(steps);
    }

    /**
     * @return the classifier-free guidance scale; guidance is off at 1 or below. Unless the caller set it, this is
     *     {@link #DEFAULT_GUIDANCE_SCALE} here, and the pipeline may replace it with the model folder's suggestion
     */
    public double guidanceScale() {
        return guidanceScale;
    }

    /** @return true when the caller set the guidance scale, false when it is the default */
    public boolean guidanceScaleSet() {
        return guidanceScaleSet;
    }

    /** @return the seed, or empty to let the pipeline pick one (it is recorded in the provenance) */
    public Optional<Long> seed() {
        return Optional.ofNullable(seed);
    }

    /** @return the width in pixels, or empty for the model's default */
    public Optional<Integer> width() {
        return Optional.ofNullable(width);
    }

    /** @return the height in pixels, or empty for the model's default */
    public Optional<Integer> height() {
        return Optional.ofNullable(height);
    }

    /** @return a scheduler preset name or diffusers class name, or empty for the model folder's scheduler */
    public Optional<String> scheduler() {
        return Optional.ofNullable(scheduler);
    }

    /**
     * @return scheduler config keys applied on top of the model folder's config (its {@code _class_name}, when
     *     present, picks the scheduler), or empty
     */
    public Optional<Map<String, Object>> schedulerConfig() {
        return Optional.ofNullable(schedulerConfig);
    }

    /** @return conditioning parameters by key; unmodifiable, never null */
    public Map<String, Object> parameters() {
        return parameters;
    }

    /**
     * @param key  a parameter key
     * @param type the expected type
     * @param <T>  the type
     * @return the parameter, or empty when absent
     * @throws InvalidRequestException when present with another type
     */
    public <T> Optional<T> parameter(String key, Class<T> type) {
        Object v = parameters.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!type.isInstance(v)) {
            throw new InvalidRequestException("request parameter '" + key + "' is a " + v.getClass().getSimpleName()
                    + "; expected " + type.getSimpleName());
        }
        return Optional.of(type.cast(v));
    }

    /** @return the request's own before-step callbacks, run after plugin hooks */
    public List<BeforeStepCallback> beforeStepCallbacks() {
        return beforeStep;
    }

    /** @return the request's own after-step callbacks, run after plugin hooks */
    public List<AfterStepCallback> afterStepCallbacks() {
        return afterStep;
    }

    /**
     * @return the time limit of the generation, measured from when it starts running; empty for none. A generation
     *     past its limit stops within one step (an ONNX Runtime call in flight is terminated) with a
     *     {@link GenerationTimeoutException}.
     */
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    /**
     * @return how many images of this prompt to make, 1 to {@link #MAX_IMAGES_PER_PROMPT}: one UNet batch of this
     *     many latents per guidance branch, as diffusers' {@code num_images_per_prompt}. Image {@code k} is drawn
     *     from its own generator seeded {@code seed + k} (diffusers' list of generators, A1111's batch seeds), so
     *     it is the image a request for one image with seed {@code seed + k} gives. Since SPI 0.3.0.
     */
    public int imagesPerPrompt() {
        return imagesPerPrompt;
    }

    /**
     * @return whether every guidance branch runs as its own UNet call (batch {@link #imagesPerPrompt()} each)
     *     instead of all branches in one call: less memory at the peak, the same latents up to the last bits of
     *     the batched convolutions. Since SPI 0.3.0.
     */
    public boolean splitGuidanceBatch() {
        return splitGuidanceBatch;
    }

    /** Builds a {@link GenerationRequest}: {@code setX} for the settings a request needs, {@code optX} for the rest. */
    public static final class Builder {
        private String prompt = "";
        private String negativePrompt = "";
        private Integer steps;
        private double guidanceScale = DEFAULT_GUIDANCE_SCALE;
        private boolean guidanceScaleSet;
        private Long seed;
        private Integer width;
        private Integer height;
        private String scheduler;
        private Map<String, Object> schedulerConfig;
        private final Map<String, Object> parameters = new LinkedHashMap<>();
        private final List<BeforeStepCallback> beforeStep = new ArrayList<>();
        private final List<AfterStepCallback> afterStep = new ArrayList<>();
        private Duration timeout;
        private int imagesPerPrompt = 1;
        private boolean splitGuidanceBatch;

        private Builder() {
        }

        /**
         * @param prompt the prompt
         * @return this
         */
        public Builder setPrompt(String prompt) {
            this.prompt = Objects.requireNonNull(prompt, "prompt");
            return this;
        }

        /**
         * @param negativePrompt the negative prompt
         * @return this
         */
        public Builder optNegativePrompt(String negativePrompt) {
            this.negativePrompt = Objects.requireNonNull(negativePrompt, "negativePrompt");
            return this;
        }

        /**
         * @param steps inference steps, at least 1
         * @return this
         */
        public Builder optSteps(int steps) {
            if (steps < 1) {
                throw new InvalidRequestException("steps must be at least 1, got " + steps);
            }
            this.steps = steps;
            return this;
        }

        /**
         * @param guidanceScale the classifier-free guidance scale, finite and at least 0
         * @return this
         */
        public Builder optGuidanceScale(double guidanceScale) {
            if (!(guidanceScale >= 0) || Double.isInfinite(guidanceScale)) {
                throw new InvalidRequestException("guidance scale must be a finite number >= 0, got " + guidanceScale);
            }
            this.guidanceScale = guidanceScale;
            this.guidanceScaleSet = true;
            return this;
        }

        /**
         * @param seed the seed of the torch-compatible generator
         * @return this
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * @param width width in pixels
         * @param height height in pixels
         * @return this
         */
        public Builder optSize(int width, int height) {
            if (width <= 0 || height <= 0) {
                throw new InvalidRequestException("image size must be positive, got " + width + "x" + height);
            }
            this.width = width;
            this.height = height;
            return this;
        }

        /**
         * @param width width in pixels
         * @return this
         */
        public Builder optWidth(int width) {
            if (width <= 0) {
                throw new InvalidRequestException("width must be positive, got " + width);
            }
            this.width = width;
            return this;
        }

        /**
         * @param height height in pixels
         * @return this
         */
        public Builder optHeight(int height) {
            if (height <= 0) {
                throw new InvalidRequestException("height must be positive, got " + height);
            }
            this.height = height;
            return this;
        }

        /**
         * @param scheduler a preset name ({@code euler-a}) or a diffusers class name
         * @return this
         */
        public Builder optScheduler(String scheduler) {
            this.scheduler = scheduler;
            return this;
        }

        /**
         * @param config diffusers scheduler config keys, applied on top of the model folder's config; its
         *               {@code _class_name} picks the scheduler unless {@link #optScheduler} names one
         * @return this
         */
        public Builder optSchedulerConfig(Map<String, ?> config) {
            this.schedulerConfig = config == null ? null : new LinkedHashMap<>(config);
            return this;
        }

        /**
         * @param key a parameter key a conditioner documents
         * @param value its value
         * @return this
         */
        public Builder optParameter(String key, Object value) {
            if (value == null) {
                parameters.remove(key);
            } else {
                parameters.put(key, value);
            }
            return this;
        }

        /**
         * @param callback called before each step, after plugin hooks
         * @return this
         */
        public Builder optBeforeStep(BeforeStepCallback callback) {
            beforeStep.add(Objects.requireNonNull(callback));
            return this;
        }

        /**
         * @param callback called after each step, after plugin hooks
         * @return this
         */
        public Builder optAfterStep(AfterStepCallback callback) {
            afterStep.add(Objects.requireNonNull(callback));
            return this;
        }

        /**
         * @param timeout the time limit of the generation, positive; {@code null} for none
         * @return this
         * @throws InvalidRequestException when the limit is zero or negative
         */
        public Builder optTimeout(Duration timeout) {
            if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
                throw new InvalidRequestException("timeout must be positive, got " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * @param images how many images of the prompt to make in one UNet batch, 1 to
         *               {@link #MAX_IMAGES_PER_PROMPT}
         * @return this
         * @throws InvalidRequestException when out of range
         */
        public Builder optImagesPerPrompt(int images) {
            if (images < 1 || images > MAX_IMAGES_PER_PROMPT) {
                throw new InvalidRequestException("images per prompt must be 1 to " + MAX_IMAGES_PER_PROMPT
                        + ", got " + images);
            }
            this.imagesPerPrompt = images;
            return this;
        }

        /**
         * @param split run each guidance branch as its own UNet call ({@link #splitGuidanceBatch()})
         * @return this
         */
        public Builder optSplitGuidanceBatch(boolean split) {
            this.splitGuidanceBatch = split;
            return this;
        }

        /** @return the request */
        public GenerationRequest build() {
            return new GenerationRequest(this);
        }
    }
}
