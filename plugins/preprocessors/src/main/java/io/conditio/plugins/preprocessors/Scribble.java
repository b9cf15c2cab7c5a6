package io.conditio.plugins.preprocessors;

import org.pf4j.Extension;

/**
 * {@code scribble}: a hand drawing to the binary white-on-black strokes scribble ControlNets take. The background is
 * the median of the border pixels; a pixel is a stroke when its luma differs from it by more than 0.25 (so dark
 * strokes on paper and light strokes on black both work); strokes are thickened by one pixel (a 3×3 dilation), as
 * the scribble annotators thicken thin lines.
 */
@Extension
public final class Scribble extends LumaFilter {
    public Scribble() {
        super("scribble", "binary white strokes on black from a drawing (dark on light or light on dark)");
    }

    @Override
    float[] filter(float[] g, int w, int h) {
        float bg = Gray.borderMedian(g, w, h);
        float[] s = new float[g.length];
        for (int i = 0; i < g.length; i++) {
            s[i] = Math.abs(g[i] - bg) > 0.25f ? 1f : 0f;
        }
        return Gray.dilate(s, w, h, 1);
    }
}
