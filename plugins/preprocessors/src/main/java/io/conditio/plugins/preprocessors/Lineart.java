package io.conditio.plugins.preprocessors;

import org.pf4j.Extension;

/**
 * {@code lineart}: line drawing from a photo by difference of Gaussians: where the luma is darker than its
 * neighbourhood (sigma 2 blur) by more than 2 % the pixel is a line, its strength {@code min(1, 8 × difference)};
 * white lines on black as lineart ControlNets take them (their annotators invert the drawing the same way).
 */
@Extension
public final class Lineart extends LumaFilter {
    public Lineart() {
        super("lineart", "line drawing (dark detail as white lines on black) from a photo");
    }

    @Override
    float[] filter(float[] luma, int w, int h) {
        float[] g = Gray.gaussian(luma, w, h, 0.7);
        float[] local = Gray.gaussian(g, w, h, 2.0);
        float[] out = new float[g.length];
        for (int i = 0; i < g.length; i++) {
            float d = local[i] - g[i];
            out[i] = d > 0.02f ? Math.min(1f, 8f * d) : 0f;
        }
        return out;
    }
}
