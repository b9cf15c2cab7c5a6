package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.api.RgbImage;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The shipped LoRA {@code models/shapes/loras/cyan.safetensors} (trained by {@code tools/shapes-model/cyan.py} to
 * teach the colour word "cyan", which the base model does not know) through the lora plugin jar. The file carries
 * low-rank deltas for the UNet, the text encoder and the VAE decoder (whose shipped weights decode cyan latents as
 * blue); with it "a cyan SHAPE at POSITION" draws a shape whose mean colour is within 20° of cyan's hue (0, 180, 190:
 * 183°) where the prompt says, without it no shape comes out cyan, and with it the six known colours still come out as
 * themselves.
 */
class ShapesCyanLoraTest {
    private static final List<String> POSITIONS = List.of("top left", "top right", "bottom left", "bottom right",
            "center");
    private static final double CYAN_HUE = ShapeImages.hue(0, 180 / 255.0, 190 / 255.0);
    private static final int CASES = 20;
    /** The bar for cyan with the LoRA, out of {@link #CASES}. */
    private static final int CYAN_BAR = 18;

    private static String where(String position) {
        return position.equals("center") ? "in the center" : "at the " + position;
    }

    /** Case 0 is the README's "a cyan circle at the top left". */
    private static String prompt(int i) {
        return "a cyan " + ShapeImages.SHAPES.get(i % 4) + " " + where(POSITIONS.get(i % 5));
    }

    /** The hue of the mean colour of the measured foreground; NaN when there is none. */
    static double foregroundHue(RgbImage image, ShapeImages.Measured m) {
        if (m.foreground() < 8) {
            return Double.NaN;
        }
        double[] sum = new double[3];
        float[] p = image.pixels();
        boolean[] mask = m.mask();
        for (int i = 0; i < mask.length; i++) {
            if (mask[i]) {
                for (int c = 0; c < 3; c++) {
                    sum[c] += p[i * 3 + c];
                }
            }
        }
        return ShapeImages.hue(sum[0] / m.foreground(), sum[1] / m.foreground(), sum[2] / m.foreground());
    }

    static boolean isCyan(double hue) {
        double d = Math.abs(hue - CYAN_HUE);
        return !Double.isNaN(hue) && Math.min(d, 360 - d) <= 20;
    }

    /** Counts of [cyan, right position, both] over the cases; each image and a line per miss are collected. */
    private static int[] score(Pipeline p, Path lora, List<RgbImage> sheet, List<String> misses) {
        int[] s = new int[3];
        for (int i = 0; i < CASES; i++) {
            GenerationRequest.Builder b = GenerationRequest.builder().setPrompt(prompt(i)).optSeed(800 + i);
            if (lora != null) {
                b.optParameter("lora", lora.toString());
            }
            GenerationResult r = p.generate(b.build());
            ShapeImages.Measured m = ShapeImages.measure(r.image());
            double hue = foregroundHue(r.image(), m);
            boolean cyan = isCyan(hue);
            boolean pos = m.position().equals(POSITIONS.get(i % 5));
            s[0] += cyan ? 1 : 0;
            s[1] += pos ? 1 : 0;
            s[2] += cyan && pos ? 1 : 0;
            sheet.add(r.image());
            if (!(cyan && pos)) {
                misses.add(String.format(Locale.ROOT, "%s -> hue %.0f, %s", prompt(i), hue, m.position()));
            }
        }
        return s;
    }

    @Test
    void theLoraTeachesTheWordCyanAndKeepsTheOtherColours() {
        Path shipped = ShapesModelTest.modelDir();
        Path lora = shipped.resolve("loras/cyan.safetensors");
        assertThat(lora).isRegularFile();
        List<RgbImage> sheet = new ArrayList<>();
        List<String> missesWith = new ArrayList<>();
        List<String> missesWithout = new ArrayList<>();
        int[] with;
        int[] without;
        int knownColours = 0;
        List<String> colourMisses = new ArrayList<>();
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()))) {
            try (Pipeline p = conditio.open(shipped)) {
                with = score(p, lora, sheet, missesWith);
                without = score(p, null, sheet, missesWithout);
                List<String> colours = List.of("red", "green", "blue", "yellow", "purple", "orange");
                for (int i = 0; i < colours.size(); i++) {
                    String prompt = "a " + colours.get(i) + " " + ShapeImages.SHAPES.get(i % 4) + " "
                            + where(POSITIONS.get(i % 5));
                    GenerationResult r = p.generate(GenerationRequest.builder().setPrompt(prompt).optSeed(900 + i)
                            .optParameter("lora", lora.toString()).build());
                    String got = ShapeImages.measure(r.image()).color();
                    if (got.equals(colours.get(i))) {
                        knownColours++;
                    } else {
                        colourMisses.add(prompt + " -> " + got);
                    }
                    if (i == 0) {
                        assertThat(r.provenance().entries()).as("the LoRA patches the decoder")
                                .containsKeys("weights.unet", "weights.text_encoder", "weights.vae_decoder");
                    }
                }
            }
        }
        ShapesModelTest.writeSheet(sheet, 10, Path.of("target", "shapes-cyan-lora-sheet.png"));
        System.out.printf(Locale.ROOT, "SHAPES cyan LoRA: cyan %d/%d, position %d/%d, both %d/%d; without the LoRA:"
                + " cyan %d, position %d; known colours with the LoRA %d/6 %s; misses with: %s; without: %s%n",
                with[0], CASES, with[1], CASES, with[2], CASES, without[0], without[1], knownColours, colourMisses,
                missesWith, missesWithout);
        assertThat(with[0]).as("cyan with the LoRA (of %d)", CASES).isGreaterThanOrEqualTo(CYAN_BAR);
        assertThat(with[1]).as("position with the LoRA (of %d)", CASES).isGreaterThanOrEqualTo(17);
        assertThat(without[0]).as("cyan without the LoRA").isZero();
        assertThat(knownColours).as("the six known colours with the LoRA").isGreaterThanOrEqualTo(5);
    }
}
