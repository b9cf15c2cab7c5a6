package io.conditio.api;

import java.util.List;
import java.util.Map;

/**
 * One conditioner's state for one generation: prompt embeddings, a preprocessed control image, encoded mask
 * latents. Created by {@link Conditioner#prepare}, used for every step, and closed by the core when the
 * generation ends, whether it succeeded or not.
 */
public interface Conditioning extends AutoCloseable {

    /** @return what this conditioning puts into each UNet call; checked against the UNet before the first step */
    List<UnetInputDeclaration> provides();

    /**
     * Adds this conditioning's inputs for one UNet call.
     *
     * @param step   the current step; never null
     * @param inputs the call's inputs; never null
     */
    void contribute(StepContext step, UnetInputs inputs);

    /** @return the parameters to record in the result's provenance (without the conditioner id prefix) */
    default Map<String, String> provenance() {
        return Map.of();
    }

    /** Releases what {@link Conditioner#prepare} allocated. Must not throw. */
    @Override
    default void close() {
    }
}
