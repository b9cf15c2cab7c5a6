package io.conditio.plugins.preprocessors;

import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;

/** A preprocessor that turns the image's luma ({@link Gray#luma}) into a grey plane, drawn as the control image. */
abstract class LumaFilter extends NamedPreprocessor {
    LumaFilter(String name, String description) {
        super(name, description);
    }

    @Override
    public final RgbImage process(RgbImage image, PreprocessorContext context) {
        int w = image.width();
        int h = image.height();
        return Gray.toImage(filter(Gray.luma(image), w, h), w, h);
    }

    /**
     * @param luma the image's luma in [0, 1], row-major
     * @param w    the width
     * @param h    the height
     * @return the control plane, row-major (clamped to [0, 1] when drawn)
     */
    abstract float[] filter(float[] luma, int w, int h);
}
