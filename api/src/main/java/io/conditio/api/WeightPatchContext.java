package io.conditio.api;

import java.nio.file.Path;

/** What a {@link WeightPatcher} is given for one model component of one generation. */
public interface WeightPatchContext {

    /** @return the component name, e.g. {@code unet}, {@code text_encoder}, {@code text_encoder_2} */
    String component();

    /** @return the component's graph (node names, initializer names and shapes, values on demand) */
    ModelGraph graph();

    /** @return the generation request (parameters, prompt) */
    GenerationRequest request();

    /** @return the model folder's root, where {@code loras/} and {@code embeddings/} are looked up */
    Path modelFolder();

    /**
     * @return the host's reader of weight files ({@code .safetensors}), for the files a patch is made from. Since
     *     SPI 0.3.0; the default refuses every file.
     */
    default TensorFiles tensorFiles() {
        return TensorFiles.none();
    }
}
