package io.conditio.plugins.preprocessors;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import java.util.Map;
import org.pf4j.Extension;

/**
 * {@code depth}: a MiDaS / DPT-style monocular depth model the user supplies ({@code --preprocess-model FILE.onnx}):
 * one image input {@code [1, 3, H, W]} and one output of relative inverse depth, {@code [1, H', W']} or
 * {@code [1, 1, H', W']} (as the Hugging Face DPT export's {@code predicted_depth}). The image is resized
 * (bilinear) to the input's fixed size, or to 384×384 when the size is dynamic, normalised with mean 0.5 and
 * standard deviation 0.5 per channel (DPT's image processor), run, and the output is scaled to [0, 1] by its minimum
 * and maximum (near = white, as the depth ControlNets' annotator writes it) and resized back to the image size.
 */
@Extension
public final class Depth extends NamedPreprocessor {
    static final int DYNAMIC_SIZE = 384;

    public Depth() {
        super("depth", "depth map (near = white) from a photo, with a MiDaS/DPT ONNX model (--preprocess-model)");
    }

    @Override
    public RgbImage process(RgbImage image, PreprocessorContext context) {
        if (context.models().size() != 1) {
            throw new InvalidRequestException("--control-preprocess depth needs one --preprocess-model (a MiDaS/DPT "
                    + "ONNX depth model), got " + context.models().size());
        }
        Model model = context.loadModel(context.models().get(0));
        if (model.inputs().size() != 1 || model.outputs().size() < 1) {
            throw new InvalidRequestException("depth model " + model.path() + " declares inputs "
                    + model.inputs().keySet() + "; expected one image input [1, 3, H, W]");
        }
        Map.Entry<String, TensorSpec> in = model.inputs().entrySet().iterator().next();
        TensorSpec spec = in.getValue();
        if (spec.rank() != 4 || (spec.dim(1) >= 0 && spec.dim(1) != 3)) {
            throw new InvalidRequestException("depth model " + model.path() + " takes " + in.getKey() + " " + spec
                    + "; expected [1, 3, H, W]");
        }
        int ih = spec.dim(2) > 0 ? (int) spec.dim(2) : DYNAMIC_SIZE;
        int iw = spec.dim(3) > 0 ? (int) spec.dim(3) : DYNAMIC_SIZE;
        RgbImage resized = image.resizedBilinear(iw, ih);
        float[] nchw = resized.toNchw().array().clone();
        for (int i = 0; i < nchw.length; i++) {
            nchw[i] = (nchw[i] - 0.5f) / 0.5f;
        }
        Map<String, Tensor> out = model.run(Map.of(in.getKey(), FloatTensor.of(nchw, 1, 3, ih, iw)));
        Tensor t = out.values().iterator().next();
        int[] shape = t.shape();
        if (!(t instanceof FloatTensor f) || shape.length < 2 || shape.length > 4 || shape[0] != 1
                || (shape.length == 4 && shape[1] != 1)) {
            throw new InvalidRequestException("depth model " + model.path() + " gave " + t
                    + "; expected float [1, H, W] or [1, 1, H, W]");
        }
        int oh = shape[shape.length - 2];
        int ow = shape[shape.length - 1];
        float[] d = f.array().clone();
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : d) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float range = max - min;
        for (int i = 0; i < d.length; i++) {
            d[i] = range > 0 ? (d[i] - min) / range : 0f;
        }
        return Gray.toImage(d, ow, oh).resizedBilinear(image.width(), image.height());
    }
}
