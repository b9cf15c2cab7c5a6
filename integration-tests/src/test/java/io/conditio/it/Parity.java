package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationResult;
import io.conditio.api.RgbImage;
import io.conditio.core.npy.Npy;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.TestReporter;

/**
 * How far a generation is from reference arrays, as the fixture README measures it: the latents' max absolute error,
 * that error relative to max(1, max|expected|), and the image's max absolute error.
 */
record Parity(double latentAbs, double latentRel, double imageAbs) {
    /**
     * @param result   the generation
     * @param latents  the expected latents (.npy)
     * @param image    the expected image (.npy, 1×H×W×3)
     * @return the errors
     */
    static Parity of(GenerationResult result, Path latents, Path image) {
        FloatTensor expectedLatents = Npy.readFloat(latents);
        FloatTensor expectedImage = Npy.readFloat(image);
        RgbImage actual = result.image();
        return new Parity(TinyFixtures.maxAbsError(result.latents(), expectedLatents),
                TinyFixtures.relativeError(result.latents(), expectedLatents),
                TinyFixtures.maxAbsError(FloatTensor.of(actual.pixels(), 1, actual.height(), actual.width(), 3),
                        expectedImage));
    }

    /**
     * @param result the generation
     * @param c      a case of cases.json, which names its latents and image arrays
     * @return the errors against that case's arrays
     */
    static Parity ofCase(GenerationResult result, Map<String, Object> c) {
        return of(result, TinyFixtures.array((String) c.get("latents")), TinyFixtures.array((String) c.get("image")));
    }

    /**
     * Publishes the PARITY line of a diffusers-tiny case: the errors and the mean step and UNet times.
     *
     * @param reporter the test's reporter
     * @param caseName the case
     * @param model    the model it ran on
     * @param result   the generation
     */
    void report(TestReporter reporter, String caseName, String model, GenerationResult result) {
        reporter.publishEntry(String.format(Locale.ROOT,
                "PARITY %-40s %-15s latents max abs %.3e rel %.3e | image max abs %.3e"
                + " | step %.2f ms, unet %.2f ms", caseName, model, latentAbs, latentRel, imageAbs,
                result.timings().meanStepMillis(), result.timings().meanUnetMillis()));
    }

    /**
     * @param latentTolerance the most relative latent error
     * @param imageTolerance  the most absolute image error
     */
    void assertWithin(double latentTolerance, double imageTolerance) {
        assertThat(latentRel).as("latent error relative to max(1, max|expected|)")
                .isLessThanOrEqualTo(latentTolerance);
        assertThat(imageAbs).as("image max abs error").isLessThanOrEqualTo(imageTolerance);
    }
}
