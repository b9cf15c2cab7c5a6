package io.conditio.cli;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
import io.conditio.core.pipeline.Preprocessors;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code conditio preprocess}: runs one control preprocessor on an image and writes the control image, to see what a
 * ControlNet or T2I-Adapter would get from {@code --control-preprocess NAME}.
 */
@Command(name = "preprocess", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write the control image a preprocessor makes from an image (as --control-preprocess would).")
final class PreprocessCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The preprocessor (conditio plugins lists them).")
    String name;

    @Option(names = "--image", paramLabel = "IMG", required = true, description = "The input image (PNG).")
    Path image;

    @Option(names = "--out", paramLabel = "FILE.png", required = true, description = "Where to write the result.")
    Path out;

    /** The help of {@code --preprocess-model}, here and in generate's ControlNet group. */
    static final String MODEL_FILES = "A model file of an ONNX preprocessor, repeatable (depth: the depth model; "
            + "dwpose: yolox_l.onnx and dw-ll_ucoco_384.onnx).";

    @Option(names = "--preprocess-model", paramLabel = "FILE", description = MODEL_FILES)
    List<Path> models = new ArrayList<>();

    @Option(names = "--width", paramLabel = "W", description = "Resize the image first (default: its own size).")
    Integer width;

    @Option(names = "--height", paramLabel = "H", description = "Resize the image first (default: its own size).")
    Integer height;

    @Mixin
    PluginDirectoryOption plugins = new PluginDirectoryOption();

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        RgbImage in = PngImages.read(image);
        int w = width == null ? in.width() : width;
        int h = height == null ? in.height() : height;
        if (w < 1 || h < 1) {
            throw new InvalidRequestException("--width/--height " + w + "x" + h + ": both must be at least 1");
        }
        try (Conditio conditio = Conditio.start(List.of(plugins.directory()))) {
            long t0 = System.nanoTime();
            RgbImage result = Preprocessors.run(conditio.plugins(), name, in.resizedBilinear(w, h), models);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            PngImages.write(out, result, Map.of("preprocess", name));
            stdout.println("wrote " + out + " (" + name + ", " + w + "x" + h + ", " + ms + " ms)");
        }
        return 0;
    }
}
