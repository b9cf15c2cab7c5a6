package io.conditio.plugins.preprocessors;

import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;
import org.pf4j.Extension;

/** {@code canny}: Canny edges, thresholds 100/200 as diffusers' ControlNet examples (see {@link CannyEdges}). */
@Extension
public final class Canny extends NamedPreprocessor {
    public Canny() {
        super("canny", "Canny edges (thresholds 100/200), white on black, from a photo or drawing");
    }

    @Override
    public RgbImage process(RgbImage image, PreprocessorContext context) {
        return CannyEdges.detect(image, CannyEdges.LOW, CannyEdges.HIGH);
    }
}
