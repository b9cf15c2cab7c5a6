package io.conditio.plugins.controlnet;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.ParameterGroup;
import io.conditio.api.RgbImage;
import java.nio.file.Path;
import java.util.List;

/**
 * One entry of the {@code controlnets} request parameter, validated.
 *
 * @param model      the ControlNet folder (holding {@code model.onnx}) or {@code .onnx} file
 * @param image      the control image as given
 * @param scale      {@code conditioning_scale}
 * @param start      control guidance start, a fraction of the steps
 * @param end        control guidance end, a fraction of the steps
 * @param guessMode  diffusers' guess mode
 * @param preprocess the control preprocessor's name ({@code none}: the image as given)
 * @param preprocessModels the model files for the preprocessor (ONNX preprocessors such as {@code depth})
 */
record ControlNetRequest(Path model, RgbImage image, double scale, double start, double end, boolean guessMode,
        String preprocess, List<Path> preprocessModels) {

    /**
     * @param value the {@code controlnets} request parameter (null when absent)
     * @return the entries, in order; empty when absent
     * @throws InvalidRequestException naming the entry and key that is wrong
     */
    static List<ControlNetRequest> parse(Object value) {
        return ParameterGroup.readList(value, ControlNetConditioner.DECLARATION, "ControlNet",
                ControlNetRequest::read);
    }

    private static ControlNetRequest read(ParameterGroup g) {
        Path path = g.file(ControlNetConditioner.MODEL, "--controlnet",
                "the Path of a ControlNet folder or .onnx file");
        RgbImage rgb = g.image(ControlNetConditioner.IMAGE, "--control-image");
        double scale = g.number(ControlNetConditioner.SCALE, "--control-scale", 1.0);
        double start = g.number(ControlNetConditioner.START, "--control-start", 0.0);
        double end = g.number(ControlNetConditioner.END, "--control-end", 1.0);
        if (start < 0 || end > 1 || start >= end) {
            throw g.invalid("--control-start " + start + " and --control-end " + end
                    + " must satisfy 0 <= start < end <= 1 (fractions of the steps)");
        }
        boolean guess = g.bool(ControlNetConditioner.GUESS_MODE, "--guess-mode", false);
        String preprocess = g.name(ControlNetConditioner.PREPROCESS, "none");
        return new ControlNetRequest(path, rgb, scale, start, end, guess, preprocess,
                g.files(ControlNetConditioner.PREPROCESS_MODELS, "--preprocess-model"));
    }

    /**
     * diffusers' {@code controlnet_keep}: {@code 1 - float(i / n < start or (i + 1) / n > end)}.
     *
     * @param step  the step index
     * @param steps the number of model calls ({@code len(timesteps)})
     * @return true when this ControlNet acts on the step
     */
    boolean activeAt(int step, int steps) {
        return !((double) step / steps < start || (double) (step + 1) / steps > end);
    }
}
