package io.conditio.plugins.preprocessors;

import org.pf4j.Extension;

/** {@code openpose}: the name pose ControlNet users know for {@link DwPose}'s OpenPose skeleton; the same models. */
@Extension
public final class OpenPose extends DwPose {
    @Override
    public String name() {
        return "openpose";
    }

    @Override
    public String description() {
        return "the same as dwpose (OpenPose skeleton drawn from the DWPose ONNX pair)";
    }
}
