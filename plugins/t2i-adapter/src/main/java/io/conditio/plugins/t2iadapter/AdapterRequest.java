package io.conditio.plugins.t2iadapter;

import io.conditio.api.ParameterGroup;
import io.conditio.api.RgbImage;
import java.nio.file.Path;
import java.util.List;

/**
 * One entry of the {@code t2i_adapters} request parameter, validated.
 *
 * @param model            the adapter folder (holding {@code model.onnx}) or {@code .onnx} file
 * @param image            the condition image as given
 * @param scale            {@code adapter_conditioning_scale}
 * @param factor           {@code adapter_conditioning_factor}: the features act while the step index is below
 *                         {@code int(steps × factor)}
 * @param preprocess       the control preprocessor's name ({@code none}: the image as given)
 * @param preprocessModels the preprocessor's model files
 */
record AdapterRequest(Path model, RgbImage image, double scale, double factor, String preprocess,
        List<Path> preprocessModels) {

    static List<AdapterRequest> parse(Object value) {
        return ParameterGroup.readList(value, T2IAdapterConditioner.DECLARATION, "T2I-Adapter", AdapterRequest::read);
    }

    private static AdapterRequest read(ParameterGroup g) {
        Path path = g.file(T2IAdapterConditioner.MODEL, "--t2i-adapter", "the Path of an adapter folder or .onnx file");
        RgbImage rgb = g.image(T2IAdapterConditioner.IMAGE, "--adapter-image");
        double scale = g.number(T2IAdapterConditioner.SCALE, "--adapter-scale", 1.0);
        double factor = g.number(T2IAdapterConditioner.FACTOR, "--adapter-factor", 1.0);
        if (factor < 0 || factor > 1) {
            throw g.invalid("--adapter-factor " + factor
                    + " must be in [0, 1] (the fraction of the steps the adapter acts on)");
        }
        String preprocess = g.name(T2IAdapterConditioner.PREPROCESS, "none");
        return new AdapterRequest(path, rgb, scale, factor, preprocess,
                g.files(T2IAdapterConditioner.PREPROCESS_MODELS, "--preprocess-model"));
    }

    /**
     * diffusers' SDXL adapter pipeline: {@code i < int(num_inference_steps * adapter_conditioning_factor)}.
     *
     * @param step           the step index
     * @param inferenceSteps the number of inference steps
     * @return true when the features act on the step
     */
    boolean activeAt(int step, int inferenceSteps) {
        return step < (int) (inferenceSteps * factor);
    }
}
