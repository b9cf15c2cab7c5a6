package io.conditio.core.testing;

import io.conditio.api.GenerationRequest;
import io.conditio.api.Model;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.pipeline.ImageEncoder;
import io.conditio.tck.TestConditioningContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The shipped model folder {@code models/shapes} opened once for a test class, and the conformance kit's
 * {@link TestConditioningContext} over its real ONNX models: the UNet variant a conditioner needs, the text encoder
 * and tokenizer, the VAE encoder, and its ControlNet and T2I-Adapter folders through the model loader. Close it in
 * {@code @AfterAll}.
 */
public final class ShapesFixture implements AutoCloseable {
    private final ModelFolder folder;
    private final ImageEncoder encoder;
    private final Map<Path, OnnxModel> extra = new ConcurrentHashMap<>();

    private ShapesFixture(ModelFolder folder) {
        this.folder = folder;
        this.encoder = new ImageEncoder(folder);
    }

    /** @return the shipped model, found from the working directory up (a module of this repository) */
    public static ShapesFixture open() {
        return new ShapesFixture(ModelFolder.open(root()));
    }

    /** @return the {@code models/shapes} folder of this repository */
    public static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path shapes = dir.resolve("models/shapes");
            if (Files.isRegularFile(shapes.resolve("model_index.json"))) {
                return shapes;
            }
        }
        throw new AssertionError("models/shapes not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * @param relative a path from the repository root, e.g. {@code docs/examples/inpaint-init.png}
     * @return the image there
     */
    public static io.conditio.api.RgbImage image(String relative) {
        return io.conditio.core.image.PngImages.read(root().getParent().getParent().resolve(relative));
    }

    /** @return the model folder */
    public ModelFolder folder() {
        return folder;
    }

    /**
     * @param request the request
     * @param unet    the UNet component the conditioner runs with, e.g. {@code unet}, {@code unet-controlnet}
     * @return a context builder with the folder's models
     */
    public TestConditioningContext.Builder context(GenerationRequest request, String unet) {
        return TestConditioningContext.builder(request)
                .unet(folder.model(unet))
                .component("text_encoder", folder.model("text_encoder"))
                .component("vae_encoder", folder.model("vae_encoder"))
                .tokenizer("tokenizer", folder.tokenizer("tokenizer").orElseThrow())
                .modelIndex(folder.modelIndex())
                .imageEncoder(encoder::encode, encoder::mode)
                .modelLoader(this::load);
    }

    private Model load(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path onnx = Files.isDirectory(abs) ? abs.resolve("model.onnx") : abs;
        return extra.computeIfAbsent(onnx, p -> OnnxModel.open(p.getParent().getFileName().toString(), p));
    }

    @Override
    public void close() {
        extra.values().forEach(OnnxModel::close);
        folder.close();
    }
}
