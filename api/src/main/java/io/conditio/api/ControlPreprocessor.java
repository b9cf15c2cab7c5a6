package io.conditio.api;

import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * Extension point: turns an image into the control image a ControlNet or T2I-Adapter was trained on (Canny edges,
 * soft edges, a depth map, an OpenPose skeleton, ...). Stateless and shared; chosen by {@link #name()} (the CLI's
 * {@code --control-preprocess NAME}) and run through {@link ConditioningContext#preprocess}.
 */
public interface ControlPreprocessor extends ExtensionPoint {

    /** @return the name users ask for, lower case, e.g. {@code canny}; unique among the loaded plugins */
    String name();

    /** @return one line saying what it makes from what, for {@code conditio plugins} */
    String description();

    /**
     * Makes the control image.
     *
     * @param image   the input image (already at the generation size), samples in [0, 1]
     * @param context the request's options for this preprocessor and model loading
     * @return the control image, samples in [0, 1], the size of {@code image}
     * @throws InvalidRequestException when the options or the image cannot be used (say which and why)
     */
    RgbImage process(RgbImage image, PreprocessorContext context);

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
