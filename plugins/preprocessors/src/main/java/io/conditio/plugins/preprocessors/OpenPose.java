package io.conditio.plugins.preprocessors;

import org.pf4j.Extension;

/** {@code openpose}: the name pose ControlNet users know for {@link DwPose}'s OpenPose skeleton; the same models. */
@Extension
public final class OpenPose extends DwPose {
    public OpenPose() {
        super("openpose", "the same as dwpose (OpenPose skeleton drawn from the DWPose ONNX pair)");
    }
}
