package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.image.PngImages;
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
 * The shipped default model draws what it is told: images generated with fixed seeds and the folder's suggested
 * settings (20 steps, guidance 3, mask blending for inpainting), measured with simple image analysis
 * ({@link ShapeImages}): colour, position and shape from text, shape from class labels, the ControlNet's shape against
 * its control mask (IoU), and inpainting's unmasked area against the init image (PSNR) and masked area's colour.
 * Writes contact sheets of the text, ControlNet and inpainting results to target/ (the ones under docs/ are copies).
 */
@ExtendWith(ConditioExtension.class)
class ShapesModelTest {
    private static final List<String> COLORS = List.of("red", "green", "blue", "yellow", "purple", "orange");
    private static final List<String> POSITIONS = List.of("top left", "top right", "bottom left", "bottom right",
            "center");
    @Fixture
    private static Conditio conditio;
    @Model(Model.SHAPES)
    private static Pipeline shapes;

    static Path modelDir() {
        return TinyFixtures.directoryProperty("conditio.shapesModel", "the shipped model");
    }

    private static String where(String position) {
        return position.equals("center") ? "in the center" : "at the " + position;
    }

    /** Every colour, shape and position, 30 distinct combinations. */
    static List<String[]> textCases() {
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            out.add(new String[] {COLORS.get(i % 6), ShapeImages.SHAPES.get(i % 4), POSITIONS.get(i % 5)});
        }
        return out;
    }

    @Test
    void textPromptsGiveTheColourPositionAndShapeTheySay(TestReporter reporter) throws Exception {
        int color = 0;
        int position = 0;
        int shape = 0;
        List<RgbImage> sheet = new ArrayList<>();
        List<String> misses = new ArrayList<>();
        List<String[]> cases = textCases();
        for (int i = 0; i < cases.size(); i++) {
            String[] c = cases.get(i);
            String prompt = "a large " + c[0] + " " + c[1] + " " + where(c[2]);
            RgbImage image = shapes.generate(GenerationRequest.builder().setPrompt(prompt).optSeed(100 + i).build())
                    .image();
            sheet.add(image);
            ShapeImages.Measured m = ShapeImages.measure(image);
            color += m.color().equals(c[0]) ? 1 : 0;
            shape += m.shape().equals(c[1]) ? 1 : 0;
            position += m.position().equals(c[2]) ? 1 : 0;
            if (!m.color().equals(c[0]) || !m.shape().equals(c[1]) || !m.position().equals(c[2])) {
                misses.add(prompt + " -> " + m.color() + " " + m.shape() + " " + m.position());
            }
        }
        writeSheet(sheet, 6, Path.of("target", "shapes-contact-sheet.png"));
        int n = cases.size();
        reporter.publishEntry(String.format(Locale.ROOT,
                "SHAPES text: colour %d/%d, position %d/%d, shape %d/%d; misses: %s", color,
                n, position, n, shape, n, misses));
        assertThat(color / (double) n).as("right colour").isGreaterThanOrEqualTo(0.9);
        assertThat(position / (double) n).as("right position").isGreaterThanOrEqualTo(0.9);
        assertThat(shape / (double) n).as("right shape").isGreaterThanOrEqualTo(0.75);
    }

    @Test
    void classLabelsGiveTheShapeWhenThePromptDoesNotSayIt(TestReporter reporter) {
        int right = 0;
        int n = 0;
        List<String> misses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String shapeName = ShapeImages.SHAPES.get(i % 4);
            String prompt = "a large " + COLORS.get(i % 6) + " shape " + where(POSITIONS.get(i % 5));
            RgbImage image = shapes.generate(GenerationRequest.builder().setPrompt(prompt).optSeed(200 + i)
                    .optParameter("class_label", (long) (i % 4)).build()).image();
            String measured = ShapeImages.measure(image).shape();
            right += measured.equals(shapeName) ? 1 : 0;
            n++;
            if (!measured.equals(shapeName)) {
                misses.add(prompt + " [" + shapeName + "] -> " + measured);
            }
        }
        reporter.publishEntry(String.format(Locale.ROOT,
                "SHAPES class labels: shape %d/%d; misses: %s", right, n, misses));
        assertThat(right / (double) n).as("right shape from the class label").isGreaterThanOrEqualTo(0.75);
    }

    @Test
    void controlNetPutsTheShapeWhereTheControlMaskIs(TestReporter reporter) {
        Path controlnet = modelDir().resolve("controlnet");
        List<RgbImage> sheet = new ArrayList<>();
        double withControl = 0;
        double without = 0;
        double worst = 1;
        int n = 12;
        for (int i = 0; i < n; i++) {
            String shape = ShapeImages.SHAPES.get(i % 4);
            RgbImage control = ShapeImages.mask(shape, POSITIONS.get(i % 5), 12f);
            boolean[] target = ShapeImages.maskOf(control);
            GenerationRequest.Builder request = GenerationRequest.builder()
                    .setPrompt("a large " + COLORS.get(i % 6) + " " + shape).optSeed(300 + i);
            RgbImage plain = shapes.generate(request.build()).image();
            RgbImage image = shapes.generate(request.optParameter("controlnets",
                    List.of(Map.of("model", controlnet, "image", control))).build()).image();
            double iou = ShapeImages.iou(ShapeImages.measure(image).mask(), target);
            withControl += iou;
            worst = Math.min(worst, iou);
            without += ShapeImages.iou(ShapeImages.measure(plain).mask(), target);
            sheet.add(control);
            sheet.add(image);
        }
        writeSheet(sheet, 8, Path.of("target", "shapes-controlnet-sheet.png"));
        reporter.publishEntry(String.format(Locale.ROOT,
                "SHAPES controlnet: mean IoU %.3f (worst %.3f) over %d control masks; "
                + "the same prompts and seeds without the ControlNet: %.3f", withControl / n, worst, n, without / n));
        assertThat(withControl / n).as("mean IoU with the control mask").isGreaterThanOrEqualTo(0.6);
        assertThat(withControl / n).as("the ControlNet, not the prompt, places the shape")
                .isGreaterThan(without / n + 0.2);
    }

    @Test
    void inpaintingRepaintsInsideTheMaskAndKeepsTheRest(TestReporter reporter) {
        List<String> corners = List.of("top left", "top right", "bottom left");
        boolean[] inside = new boolean[64 * 64];
        float[] maskPx = new float[64 * 64 * 3];
        for (int y = 32; y < 64; y++) {
            for (int x = 32; x < 64; x++) {
                inside[y * 64 + x] = true;
                java.util.Arrays.fill(maskPx, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3, 1f);
            }
        }
        boolean[] outside = new boolean[inside.length];
        for (int i = 0; i < inside.length; i++) {
            outside[i] = !inside[i];
        }
        RgbImage mask = new RgbImage(64, 64, maskPx);
        List<RgbImage> sheet = new ArrayList<>();
        List<String> misses = new ArrayList<>();
        double worstPsnr = Double.POSITIVE_INFINITY;
        double sumPsnr = 0;
        double sumModelOnly = 0;
        int painted = 0;
        int n = 8;
        for (int i = 0; i < n; i++) {
            String color = COLORS.get((i + 2) % 6);
            RgbImage init = ShapeImages.draw(ShapeImages.SHAPES.get(i % 4), COLORS.get(i % 6), corners.get(i % 3), 12f);
            String prompt = "a large " + color + " " + ShapeImages.SHAPES.get((i + 1) % 4) + " at the bottom right";
            GenerationRequest.Builder request = GenerationRequest.builder().setPrompt(prompt).optSeed(400 + i)
                    .optParameter("init_image", init).optParameter("mask_image", mask);
            GenerationResult result = shapes.generate(request.build());
            assertThat(result.provenance().get("mask_blend")).as("the folder's suggested mask blending")
                    .isEqualTo("true");
            RgbImage image = result.image();
            double psnr = ShapeImages.psnr(image, init, outside);
            worstPsnr = Math.min(worstPsnr, psnr);
            sumPsnr += psnr;
            GenerationResult modelOnly = shapes.generate(request.optParameter("mask_blend", false).build());
            assertThat(modelOnly.provenance().get("mask_blend")).as("the request overrides the folder")
                    .isEqualTo("false");
            sumModelOnly += ShapeImages.psnr(modelOnly.image(), init, outside);
            String inColor = ShapeImages.measure(ShapeImages.keepOnly(image, inside, ShapeImages.blank(238 / 255f))).color();
            painted += inColor.equals(color) ? 1 : 0;
            if (!inColor.equals(color)) {
                misses.add(prompt + " -> " + inColor);
            }
            sheet.add(init);
            sheet.add(ShapeImages.keepOnly(init, outside, ShapeImages.blank(0.5f)));
            sheet.add(image);
        }
        writeSheet(sheet, 6, Path.of("target", "shapes-inpaint-sheet.png"));
        reporter.publishEntry(String.format(Locale.ROOT,
                "SHAPES inpainting: PSNR outside the mask mean %.2f dB, worst %.2f dB; "
                + "prompted colour inside %d/%d; misses: %s; the UNet alone (mask_blend off): mean PSNR outside "
                + "%.2f dB", sumPsnr / n, worstPsnr, painted, n, misses, sumModelOnly / n));
        assertThat(worstPsnr).as("PSNR outside the mask, worst of %d", n).isGreaterThanOrEqualTo(30);
        assertThat(painted / (double) n).as("prompted colour inside the mask").isGreaterThanOrEqualTo(0.85);
    }

    @Test
    void theFolderSuggestedSettingsApplyUnlessTheRequestSetsThem() {
        GenerationResult suggested = shapes.generate(GenerationRequest.builder().setPrompt("a red circle")
                .optSeed(1).build());
        assertThat(suggested.provenance().get("guidance_scale")).isEqualTo("3.0");
        assertThat(suggested.provenance().get("steps")).isEqualTo("20");
        GenerationResult explicit = shapes.generate(GenerationRequest.builder().setPrompt("a red circle")
                .optSeed(1).optGuidanceScale(7.5).optSteps(10).build());
        assertThat(explicit.provenance().get("guidance_scale")).isEqualTo("7.5");
        assertThat(explicit.provenance().get("steps")).isEqualTo("10");
    }

    @Test
    void theSameSeedGivesTheSameImage() {
        GenerationRequest r = GenerationRequest.builder().setPrompt("a small green cross at the top right")
                .optSeed(7).build();
        GenerationResult a = shapes.generate(r);
        GenerationResult b = shapes.generate(r);
        assertThat(b.image().pixels()).containsExactly(a.image().pixels());
    }

    static void writeSheet(List<RgbImage> images, int columns, Path file) {
        int rows = (images.size() + columns - 1) / columns;
        int w = 64 * columns + (columns + 1) * 2;
        int h = 64 * rows + (rows + 1) * 2;
        float[] px = new float[w * h * 3];
        java.util.Arrays.fill(px, 1f);
        for (int k = 0; k < images.size(); k++) {
            int ox = 2 + (k % columns) * 66;
            int oy = 2 + (k / columns) * 66;
            RgbImage img = images.get(k);
            for (int y = 0; y < 64; y++) {
                for (int x = 0; x < 64; x++) {
                    for (int ch = 0; ch < 3; ch++) {
                        px[((oy + y) * w + ox + x) * 3 + ch] = img.get(x, y, ch);
                    }
                }
            }
        }
        PngImages.write(file, new RgbImage(w, h, px), Map.of("Title", "Conditio shapes model: text prompts"));
    }
}
