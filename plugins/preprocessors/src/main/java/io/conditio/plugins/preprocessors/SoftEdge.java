package io.conditio.plugins.preprocessors;

import org.pf4j.Extension;

/**
 * {@code softedge}: soft (HED/PiDiNet-like) edges without a network: the luma is blurred at two scales (sigma 1 and
 * 2), the Sobel magnitudes of both are averaged, normalised by their maximum and raised to the power 0.7 so faint
 * edges stay visible; grey levels, white edges on black, the shape of "soft edge" ControlNets' inputs.
 */
@Extension
public final class SoftEdge extends LumaFilter {
    public SoftEdge() {
        super("softedge", "soft edges (multi-scale gradient magnitude, grey levels) from a photo");
    }

    @Override
    float[] filter(float[] g, int w, int h) {
        float[] a = Gray.sobel(Gray.gaussian(g, w, h, 1.0), w, h);
        float[] b = Gray.sobel(Gray.gaussian(g, w, h, 2.0), w, h);
        float[] m = new float[g.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = 0.5f * (a[i] + b[i]);
        }
        Gray.normalise(m);
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) Math.pow(m[i], 0.7);
        }
        return m;
    }
}
