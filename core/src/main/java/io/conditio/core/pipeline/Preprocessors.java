package io.conditio.core.pipeline;

import io.conditio.api.ControlPreprocessor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.PluginFailureException;
import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.plugin.PluginGuard;
import io.conditio.core.plugin.PluginHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The control preprocessors the loaded plugins provide, by name. */
public final class Preprocessors {
    private Preprocessors() {
    }

    /**
     * @param host the plugins
     * @return name to one-line description, sorted, {@code none} included
     */
    public static TreeMap<String, String> names(PluginHost host) {
        TreeMap<String, String> out = new TreeMap<>();
        out.put("none", "the image as given");
        for (ControlPreprocessor p : host.extensions(ControlPreprocessor.class)) {
            out.putIfAbsent(p.name().toLowerCase(Locale.ROOT), p.description() + " (plugin " + host.origin(p) + ")");
        }
        return out;
    }

    /**
     * @param host the plugins
     * @param name the name asked for, case-insensitive
     * @return the preprocessor, or null for {@code none}
     * @throws InvalidRequestException listing the available names when none has that name
     */
    static ControlPreprocessor find(PluginHost host, String name) {
        String n = name == null ? "none" : name.toLowerCase(Locale.ROOT);
        if (n.equals("none")) {
            return null;
        }
        List<ControlPreprocessor> all = host.extensions(ControlPreprocessor.class);
        for (ControlPreprocessor p : all) {
            if (p.name().equalsIgnoreCase(n)) {
                return p;
            }
        }
        throw new InvalidRequestException("unknown --control-preprocess '" + name + "'; the loaded plugins provide: "
                + String.join(", ", names(host).keySet()));
    }

    /**
     * Runs a preprocessor through the guard and checks that it kept the image size.
     *
     * @param host    the plugins, for the error message
     * @param guard   the guard for the call
     * @param p       the preprocessor
     * @param image   the input image
     * @param context its model files and loading
     * @return the control image
     */
    static RgbImage apply(PluginHost host, PluginGuard guard, ControlPreprocessor p, RgbImage image,
            PreprocessorContext context) {
        RgbImage out = guard.call(p, "control preprocessor", () -> p.process(image, context));
        if (out == null || out.width() != image.width() || out.height() != image.height()) {
            throw new PluginFailureException("control preprocessor '" + p.name() + "' from plugin " + host.origin(p)
                    + " returned " + (out == null ? "nothing" : out.width() + "x" + out.height()) + " for a "
                    + image.width() + "x" + image.height() + " image");
        }
        return out;
    }

    /**
     * Runs a preprocessor outside a generation (the CLI's {@code conditio preprocess}); the models it opens are
     * closed before this returns.
     *
     * @param host   the plugins
     * @param name   the preprocessor's name, case-insensitive; {@code none} returns the image
     * @param image  the input image
     * @param models its model files ({@code --preprocess-model})
     * @return the control image, the size of {@code image}
     * @throws InvalidRequestException for an unknown name (listing the loaded ones) or unusable options
     */
    public static RgbImage run(PluginHost host, String name, RgbImage image, List<Path> models) {
        ControlPreprocessor p = find(host, name);
        if (p == null) {
            return image;
        }
        List<Path> files = List.copyOf(models);
        Map<Path, OnnxModel> opened = new LinkedHashMap<>();
        PreprocessorContext context = new PreprocessorContext() {
            @Override
            public List<Path> models() {
                return files;
            }

            @Override
            public Model loadModel(Path modelFile) {
                Path abs = modelFile.toAbsolutePath().normalize();
                Path onnx = Files.isDirectory(abs) ? abs.resolve("model.onnx") : abs;
                return opened.computeIfAbsent(onnx, f -> OnnxModel.open(f.getFileName().toString(), f));
            }
        };
        try {
            return apply(host, new PluginGuard(host), p, image, context);
        } finally {
            opened.values().forEach(OnnxModel::close);
        }
    }
}
