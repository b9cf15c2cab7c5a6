package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.core.json.Json;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The diffusers-tiny fixtures copied into this module's test resources, and the built plugin directory. */
final class TinyFixtures {
    private TinyFixtures() {
    }

    static Path root() {
        URL url = TinyFixtures.class.getResource("/diffusers-tiny/cases.json");
        assertThat(url).as("diffusers-tiny fixtures on the test class path").isNotNull();
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path model(String name) {
        return root().resolve("models").resolve(name);
    }

    static Path array(String file) {
        return root().resolve("arrays").resolve(file);
    }

    /** The directory the build copied the plugin jars into (never the test class path). */
    static Path pluginDir() {
        return directoryProperty("conditio.plugins", "plugin directory");
    }

    /**
     * @param property a system property the build sets
     * @param what     what the directory is, for the failure message
     * @return the existing directory the property names
     */
    static Path directoryProperty(String property, String what) {
        String dir = System.getProperty(property);
        assertThat(dir).as("system property %s (set by the build)", property).isNotNull();
        Path p = Path.of(dir);
        assertThat(Files.isDirectory(p)).as("%s %s exists", what, p).isTrue();
        return p;
    }

    /** A test resource outside diffusers-tiny, e.g. {@code pix2pix-tiny/unet-image.onnx}. */
    static Path resource(String relative) {
        return root().getParent().resolve(relative);
    }

    /**
     * A model folder in {@code dir}: sd-tiny's text encoder, tokenizer, scheduler and VAE, with another UNet.
     *
     * @param dir  an empty folder
     * @param unet the UNet's model.onnx
     * @return {@code dir}
     */
    static Path sdTinyWithUnet(Path dir, Path unet) {
        try {
            Path sd = model("sd-tiny");
            for (String c : List.of("text_encoder", "tokenizer", "scheduler", "vae_decoder", "vae_encoder")) {
                Files.createSymbolicLink(dir.resolve(c), sd.resolve(c));
            }
            Files.createDirectories(dir.resolve("unet"));
            Files.createSymbolicLink(dir.resolve("unet/model.onnx"), unet);
            Path config = unet.resolveSibling("config.json");
            Files.createSymbolicLink(dir.resolve("unet/config.json"),
                    Files.isRegularFile(config) ? config : sd.resolve("unet/config.json"));
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A model folder in {@code dir} of links: sd-tiny's components, with its task variants beside {@code unet/}:
     * {@code unet-inpaint/} for masks and {@code unet-controlnet/} for ControlNets.
     *
     * @param dir an empty folder
     * @return {@code dir}
     * @throws java.io.IOException if a link cannot be made
     */
    static Path sdTinyWithVariants(Path dir) throws java.io.IOException {
        Path sd = model("sd-tiny");
        for (String c : List.of("text_encoder", "tokenizer", "scheduler", "vae_decoder", "vae_encoder", "unet")) {
            Files.createSymbolicLink(dir.resolve(c), sd.resolve(c));
        }
        Files.createSymbolicLink(dir.resolve("unet-inpaint"), model("unet-inpaint"));
        Files.createSymbolicLink(dir.resolve("unet-controlnet"), model("unet-controlnet"));
        return dir;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> testCase(String name) {
        Map<String, Object> all = Json.parseObject(root().resolve("cases.json"));
        for (Object c : (List<Object>) all.get("cases")) {
            Map<String, Object> m = (Map<String, Object>) c;
            if (name.equals(m.get("case"))) {
                return m;
            }
        }
        throw new IllegalArgumentException("no case " + name + " in cases.json");
    }

    /**
     * @param c a case of cases.json
     * @return a request with the case's prompt (where it has one), negative prompt, steps, guidance scale, seed and
     *         scheduler config
     */
    @SuppressWarnings("unchecked")
    static GenerationRequest.Builder caseRequest(Map<String, Object> c) {
        GenerationRequest.Builder b = GenerationRequest.builder()
                .optNegativePrompt((String) c.get("negative_prompt"))
                .optSteps(((Number) c.get("steps")).intValue())
                .optGuidanceScale(((Number) c.get("guidance_scale")).doubleValue())
                .optSeed(((Number) c.get("seed")).longValue())
                .optSchedulerConfig((Map<String, Object>) c.get("scheduler_config"));
        if (c.get("prompt") != null) {
            b.setPrompt((String) c.get("prompt"));
        }
        return b;
    }

    /**
     * @param c a case of cases.json
     * @return {@link #caseRequest} at the case's width and height
     */
    static GenerationRequest.Builder sizedCaseRequest(Map<String, Object> c) {
        return caseRequest(c).optSize(((Number) c.get("width")).intValue(), ((Number) c.get("height")).intValue());
    }

    /** Max absolute difference. */
    static double maxAbsError(FloatTensor actual, FloatTensor expected) {
        assertThat(actual.shape()).isEqualTo(expected.shape());
        double m = 0;
        for (int i = 0; i < actual.size(); i++) {
            m = Math.max(m, Math.abs((double) actual.get(i) - expected.get(i)));
        }
        return m;
    }

    /** Max absolute difference divided by max(1, max |expected|): the fixture README's relative measure. */
    static double relativeError(FloatTensor actual, FloatTensor expected) {
        return maxAbsError(actual, expected) / Math.max(1.0, expected.absMax());
    }
}
