package io.conditio.plugins.schedulers;

import java.util.Arrays;

/** What the denoising model predicts: diffusers' {@code prediction_type}. */
enum PredictionType {
    /** The added noise. */
    EPSILON("epsilon"),
    /** The clean sample x0 (Euler also calls it {@code original_sample}). */
    SAMPLE("sample"),
    /** The velocity {@code v = alpha_t * eps - sigma_t * x0} (Salimans and Ho 2022). */
    V_PREDICTION("v_prediction");

    private final String key;

    PredictionType(String key) {
        this.key = key;
    }

    /** @return the value as {@code scheduler_config.json} spells it */
    String key() {
        return key;
    }

    /**
     * @param key a value a {@code prediction_type} key accepted
     * @return the prediction type; {@code original_sample} is {@link #SAMPLE}
     */
    static PredictionType of(String key) {
        if ("original_sample".equals(key)) {
            return SAMPLE;
        }
        return Arrays.stream(values()).filter(p -> p.key.equals(key)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("prediction_type " + key));
    }

    /**
     * The {@code prediction_type} key of a scheduler that supports these types, default epsilon.
     *
     * @param supported the types the diffusers class implements
     */
    static ConfigKey<String> configKey(PredictionType... supported) {
        return ConfigKey.choice("prediction_type", EPSILON.key, "what the model predicts",
                Arrays.stream(supported).map(PredictionType::key).toArray(String[]::new));
    }

    /** The {@code prediction_type} key of the schedulers that support all three types. */
    static final ConfigKey<String> CONFIG_KEY = configKey(values());
}
