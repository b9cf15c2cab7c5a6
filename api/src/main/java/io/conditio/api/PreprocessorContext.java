package io.conditio.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What a {@link ControlPreprocessor} gets besides the image: its model files and model loading. */
public interface PreprocessorContext {

    /**
     * @return the model files the user gave for this preprocessor, in order (the CLI's {@code --preprocess-model},
     *         repeatable); empty for preprocessors that need none
     */
    List<Path> models();

    /**
     * Loads an ONNX model; owned and cached by the pipeline, never closed by the caller.
     *
     * @param modelFile a {@code .onnx} file or a folder holding {@code model.onnx}
     * @return the model
     * @throws ModelLoadException when it cannot be opened
     */
    Model loadModel(Path modelFile);

    /**
     * @return the generation's request parameters, where a preprocessor reads the keys it declares in
     *         {@link ControlPreprocessor#parameters()}; unmodifiable (empty by default, e.g. in tests)
     */
    default Map<String, Object> parameters() {
        return Map.of();
    }
}
