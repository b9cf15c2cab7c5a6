package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.RgbImage;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The shipped model's sketch followers, through the built plugin jars: the T2I-Adapter ({@code t2i-adapter/},
 * with {@code unet-adapter/} picked automatically) and the ControlNet ({@code controlnet/}) put the shape where a
 * sketch (a 2-px white outline on black) puts it, at positions and sizes away from the five positions and two sizes
 * the captions name (both were trained on random continuous positions and sizes; these exact ones are not in the
 * training set). Measured as {@link ShapesModelTest} measures: IoU of the drawn shape's foreground with the filled
 * sketched shape. Writes contact sheets (sketch, adapter, ControlNet) to target/.
 */
@ExtendWith(ConditioExtension.class)
class ShapesSketchTest {
    private static final List<String> COLORS = List.of("red", "green", "blue", "yellow", "purple", "orange");
    /** shape index, centre x, centre y, half extent: off the named positions and sizes (issue cases first). */
    static final float[][] CASES = {
        {0, 22, 40, 10.5f}, {1, 41, 24, 9f}, {2, 30, 22, 8.5f}, {3, 44, 44, 10f}, {0, 38, 33, 13f},
        {1, 20, 26, 8f}, {2, 45, 38, 11f}, {3, 27, 46, 9.5f}, {0, 50, 20, 7.5f}, {1, 33, 50, 8.5f},
        {2, 22, 30, 12.5f}, {3, 36, 18, 9f}};

    @Model(Model.SHAPES)
    private static Pipeline shapes;

    /** Mean IoU over the cases with the given parameter; adds sketch and image to the sheet. */
    private static double[] follow(String parameter, Map<String, Object> entry, List<RgbImage> sheet, int seed) {
        double sum = 0;
        double without = 0;
        double worst = 1;
        for (int i = 0; i < CASES.length; i++) {
            float[] c = CASES[i];
            String shape = ShapeImages.SHAPES.get((int) c[0]);
            RgbImage sketch = ShapeImages.sketchAt(shape, c[1], c[2], c[3]);
            boolean[] target = ShapeImages.filledAt(shape, c[1], c[2], c[3]);
            GenerationRequest.Builder request = GenerationRequest.builder()
                    .setPrompt("a " + COLORS.get(i % 6) + " " + shape).optSeed(seed + i);
            Map<String, Object> e = new java.util.HashMap<>(entry);
            e.put("image", sketch);
            RgbImage image = shapes.generate(request.optParameter(parameter, List.of(e)).build()).image();
            RgbImage plain = shapes.generate(GenerationRequest.builder()
                    .setPrompt("a " + COLORS.get(i % 6) + " " + shape).optSeed(seed + i).build()).image();
            double iou = ShapeImages.iou(ShapeImages.measure(image).mask(), target);
            sum += iou;
            worst = Math.min(worst, iou);
            without += ShapeImages.iou(ShapeImages.measure(plain).mask(), target);
            if (sheet != null) {
                sheet.add(sketch);
                sheet.add(image);
            }
        }
        return new double[] {sum / CASES.length, worst, without / CASES.length};
    }

    @Test
    void theT2IAdapterPutsTheShapeWhereTheSketchIs(TestReporter reporter) {
        assertTheShapeFollowsTheSketches(reporter, "t2i_adapters", "t2i-adapter", 500, "shapes-t2i-adapter-sheet.png",
                "t2i-adapter", "adapter");
    }

    @Test
    void theControlNetPutsTheShapeWhereTheSketchIs(TestReporter reporter) {
        assertTheShapeFollowsTheSketches(reporter, "controlnets", "controlnet", 600,
                "shapes-controlnet-sketch-sheet.png", "controlnet (sketches)", "ControlNet");
    }

    /**
     * Generates the sketch cases with the shipped model's {@code model} as a {@code parameter} entry, writes their
     * sheet as {@code sheetFile} in {@code target/}, and checks the shapes' overlap with the sketches, with and
     * without it.
     */
    private static void assertTheShapeFollowsTheSketches(TestReporter reporter, String parameter, String model,
            int seed, String sheetFile, String label, String what) {
        List<RgbImage> sheet = new ArrayList<>();
        double[] r = follow(parameter, Map.of("model", ShapesModelTest.modelDir().resolve(model)), sheet, seed);
        ShapesModelTest.writeSheet(sheet, 8, Path.of("target", sheetFile));
        reporter.publishEntry(String.format(Locale.ROOT,
                "SHAPES %s: mean IoU %.3f (worst %.3f) over %d sketches off the "
                + "named positions and sizes; without it: %.3f", label, r[0], r[1], CASES.length, r[2]));
        assertThat(r[0]).as("mean IoU with the sketched shape").isGreaterThanOrEqualTo(0.5);
        assertThat(r[0]).as("the " + what + ", not the prompt, places the shape").isGreaterThan(r[2] + 0.2);
    }

    @Test
    void adapterScaleZeroIsTheUnetAloneAndTheProvenanceSaysWhatRan() {
        float[] c = CASES[0];
        RgbImage sketch = ShapeImages.sketchAt("circle", c[1], c[2], c[3]);
        GenerationRequest.Builder base = GenerationRequest.builder().setPrompt("a red circle").optSeed(7);
        var plain = shapes.generate(base.build());
        var zero = shapes.generate(base.optParameter("t2i_adapters", List.of(Map.of("model",
                ShapesModelTest.modelDir().resolve("t2i-adapter"), "image", sketch, "scale", 0.0))).build());
        assertThat(TinyFixtures.maxAbsError(zero.latents(), plain.latents())).isLessThan(1e-4);
        assertThat(zero.provenance().entries()).containsEntry("t2i-adapter.0.scale", "0.0")
                .containsEntry("t2i-adapter.0.factor", "1.0");
        assertThat(zero.provenance().entries().toString()).contains("unet-adapter");
    }
}
