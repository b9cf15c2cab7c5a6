package io.conditio.plugins.preprocessors;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;
import org.pf4j.Extension;

/**
 * {@code segmentation}: a label image (class index {@code k} stored as the grey value {@code k} of an 8-bit image,
 * as semantic-segmentation tools write them) to the ADE20K colour map that segmentation ControlNets were trained on:
 * label {@code k} becomes {@link #ADE20K}{@code [k]} (0 = "wall" 120,120,120, 1 = "building" 180,120,120, ...).
 * The first 32 ADE20K colours are built in; higher labels are refused in words.
 */
@Extension
public final class Segmentation extends NamedPreprocessor {
    /** The first ADE20K palette entries (the mmseg / ControlNet "seg" palette), RGB 0..255. */
    static final int[][] ADE20K = {
        {120, 120, 120}, {180, 120, 120}, {6, 230, 230}, {80, 50, 50}, {4, 200, 3}, {120, 120, 80}, {140, 140, 140},
        {204, 5, 255}, {230, 230, 230}, {4, 250, 7}, {224, 5, 255}, {235, 255, 7}, {150, 5, 61}, {120, 120, 70},
        {8, 255, 51}, {255, 6, 82}, {143, 255, 140}, {204, 255, 4}, {255, 51, 7}, {204, 70, 3}, {0, 102, 200},
        {61, 230, 250}, {255, 6, 51}, {11, 102, 255}, {255, 7, 71}, {255, 9, 224}, {9, 7, 230}, {220, 220, 220},
        {255, 9, 92}, {112, 9, 255}, {8, 255, 214}, {7, 255, 224}};

    public Segmentation() {
        super("segmentation", "label image (class k as grey value k) to the ADE20K colour map");
    }

    @Override
    public RgbImage process(RgbImage image, PreprocessorContext context) {
        float[] px = image.pixels();
        float[] out = new float[px.length];
        for (int i = 0; i < px.length / 3; i++) {
            int label = Math.round(px[i * 3] * 255f);
            if (label >= ADE20K.length) {
                throw new InvalidRequestException("segmentation: label " + label + " at pixel (" + (i % image.width())
                        + ", " + (i / image.width()) + ") is beyond the " + ADE20K.length
                        + " built-in ADE20K colours; expected a label image with grey value = class index");
            }
            for (int c = 0; c < 3; c++) {
                out[i * 3 + c] = ADE20K[label][c] / 255f;
            }
        }
        return new RgbImage(image.width(), image.height(), out);
    }
}
