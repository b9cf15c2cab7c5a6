package io.conditio.api;

import java.nio.file.Path;
import java.util.Map;

/**
 * One loaded model file (text encoder, UNet, VAE, ControlNet). Shared by all generations of a pipeline and
 * thread-safe; owned by the core, so plugins never close it.
 *
 * <p>{@link #run} adapts each input to what the model declares: integer tensors are narrowed to int32 where the
 * model wants int32, a float tensor fed to an int64 input is truncated toward zero (as numpy's {@code astype} does),
 * and a one-element tensor fed to a rank-0 or rank-1 input is reshaped. Any other mismatch is a
 * {@link ModelInputException} naming the model, the input, and the expected and actual type and shape.
 */
public interface Model {

    /** @return the component name, e.g. {@code unet} or {@code text_encoder} */
    String name();

    /** @return the model file */
    Path path();

    /**
     * The component's {@code config.json}, found beside the model file (or beside the target of a linked file).
     *
     * @return the parsed config, {@link ModelConfig#empty()} when there is none; never null
     */
    default ModelConfig config() {
        return ModelConfig.empty();
    }

    /** @return the declared inputs by name, in declaration order; never null */
    Map<String, TensorSpec> inputs();

    /** @return the declared outputs by name, in declaration order; never null */
    Map<String, TensorSpec> outputs();

    /**
     * Runs the model once.
     *
     * @param inputs every input the model declares, by name
     * @return every output, by name, copied into Java arrays (float outputs as {@link FloatTensor}, integer outputs as
     *     {@link LongTensor}); native memory is released before this returns
     */
    Map<String, Tensor> run(Map<String, ? extends Tensor> inputs);
}
