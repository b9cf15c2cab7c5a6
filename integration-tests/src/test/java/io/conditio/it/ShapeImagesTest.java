package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.RgbImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The measurements the default-model tests rely on, checked on drawn images whose answer is known. */
class ShapeImagesTest {

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> everyCombination() {
        java.util.List<org.junit.jupiter.params.provider.Arguments> out = new java.util.ArrayList<>();
        for (String shape : ShapeImages.SHAPES) {
            for (String color : ShapeImages.COLORS.keySet()) {
                for (String pos : ShapeImages.POSITIONS.keySet()) {
                    for (float r : new float[] {7f, 12f}) {
                        out.add(org.junit.jupiter.params.provider.Arguments.of(shape, color, pos, r));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} r={3}")
    @MethodSource("everyCombination")
    void aDrawnShapeIsMeasuredAsDrawn(String shape, String color, String position, float r) {
        RgbImage image = ShapeImages.draw(shape, color, position, r);
        ShapeImages.Measured m = ShapeImages.measure(image);
        assertThat(m.color()).isEqualTo(color);
        assertThat(m.position()).isEqualTo(position);
        assertThat(m.shape()).isEqualTo(shape);
        assertThat(ShapeImages.iou(m.mask(), ShapeImages.maskOf(ShapeImages.mask(shape, position, r))))
                .isGreaterThan(0.7);
    }

    @ParameterizedTest
    @MethodSource("everyCombination")
    void psnrOfAnImageWithItselfIsInfiniteAndOfAnotherIsFinite(String shape, String color, String position, float r) {
        RgbImage a = ShapeImages.draw(shape, color, position, r);
        boolean[] all = new boolean[64 * 64];
        java.util.Arrays.fill(all, true);
        assertThat(ShapeImages.psnr(a, a, all)).isInfinite();
        String other = color.equals("red") ? "blue" : "red";
        assertThat(ShapeImages.psnr(a, ShapeImages.draw(shape, other, position, r), all)).isLessThan(30);
    }
}
