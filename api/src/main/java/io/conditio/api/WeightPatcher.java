package io.conditio.api;

import java.util.List;
import java.util.Optional;
import org.pf4j.ExtensionPoint;

/**
 * Extension point: weight-level conditioning (LoRA, textual inversion). Before a model component's session is
 * created for a generation, every patcher is asked for replacement initializers; the host creates (or reuses) one
 * session per model file and set of patches, so switching back to a set is free and patched weights are held once.
 *
 * <p>Patchers see the model through a read-only {@link ModelGraph}; they never see ONNX Runtime types.
 */
public interface WeightPatcher extends ExtensionPoint {

    /** @return a stable id, e.g. {@code lora}; used in error messages and provenance */
    String id();

    /**
     * Computes replacement weights for one model component.
     *
     * @param context the component, its graph, the request and the model folder; never null
     * @return the patch, or empty when the request asks nothing of this patcher for this component
     * @throws InvalidRequestException when the request asks for a patch that cannot be applied (a missing file,
     *                                 keys that match no weight)
     */
    Optional<WeightPatch> patch(WeightPatchContext context);

    /**
     * The request parameters this extension reads from {@link GenerationRequest#parameters()}. The host validates
     * every request against the declarations of all loaded plugins before anything runs, and lists them
     * ({@code conditio plugins --parameters}). Since SPI 0.2.0; a plugin that requires 0.2.0 or later and does not
     * override this declares that it reads no parameters.
     *
     * @return the declarations; empty by default
     */
    default List<ParameterDeclaration> parameters() {
        return List.of();
    }
}
