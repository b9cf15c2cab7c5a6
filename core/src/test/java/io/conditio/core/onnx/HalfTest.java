package io.conditio.core.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ShortBuffer;
import org.junit.jupiter.api.Test;

class HalfTest {
    private static int bits(float f) {
        return Half.fromFloat(f) & 0xffff;
    }

    @Test
    void everyHalfSurvivesARoundTripThroughFloat() {
        for (int h = 0; h <= 0xffff; h++) {
            float f = Half.toFloat((short) h);
            boolean nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
            if (nan) {
                assertThat(f).as("0x%04x", h).isNaN();
                assertThat(Float.isNaN(Half.toFloat(Half.fromFloat(f)))).as("0x%04x back", h).isTrue();
            } else {
                assertThat(bits(f)).as("0x%04x via %s", h, f).isEqualTo(h);
            }
        }
    }

    @Test
    void knownValues() {
        assertThat(bits(1.0f)).isEqualTo(0x3c00);
        assertThat(bits(-2.0f)).isEqualTo(0xc000);
        assertThat(bits(0.1f)).isEqualTo(0x2e66);
        assertThat(bits(65504f)).isEqualTo(0x7bff);
        assertThat(bits(0x1p-14f)).as("smallest normal").isEqualTo(0x0400);
        assertThat(bits(0x1p-24f)).as("smallest subnormal").isEqualTo(0x0001);
        assertThat(bits(-0.0f)).isEqualTo(0x8000);
        assertThat(Half.toFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(Half.toFloat((short) 0x03ff)).isEqualTo(1023 * 0x1p-24f);
        assertThat(Half.toFloat((short) 0x3555)).isEqualTo(0.333251953125f);
    }

    @Test
    void infinitiesNanAndOverflow() {
        assertThat(bits(Float.POSITIVE_INFINITY)).isEqualTo(0x7c00);
        assertThat(bits(Float.NEGATIVE_INFINITY)).isEqualTo(0xfc00);
        assertThat(Half.toFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Half.toFloat((short) 0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
        int nan = bits(Float.NaN);
        assertThat(nan & 0x7c00).isEqualTo(0x7c00);
        assertThat(nan & 0x3ff).isNotZero();
        assertThat(Half.toFloat((short) nan)).isNaN();
        assertThat(bits(Float.intBitsToFloat(0x7f800001))).as("a NaN with only low payload bits").isNotEqualTo(0x7c00);
        assertThat(bits(65519.99f)).as("below the rounding edge").isEqualTo(0x7bff);
        assertThat(bits(65520f)).as("halfway to 2^16 rounds to even: infinity").isEqualTo(0x7c00);
        assertThat(bits(1e6f)).isEqualTo(0x7c00);
        assertThat(bits(-1e6f)).isEqualTo(0xfc00);
    }

    @Test
    void tinyValuesRoundToZeroOrTheSmallestSubnormal() {
        assertThat(bits(0x1p-25f)).as("exactly half the smallest subnormal: ties to even, zero").isZero();
        assertThat(bits(Math.nextUp(0x1p-25f))).isEqualTo(0x0001);
        assertThat(bits(-Math.nextUp(0x1p-25f))).isEqualTo(0x8001);
        assertThat(bits(0x1p-26f)).isZero();
        assertThat(bits(-0x1p-30f)).isEqualTo(0x8000);
        assertThat(bits(Float.MIN_VALUE)).as("a float32 subnormal").isZero();
        assertThat(bits(3 * 0x1p-25f)).as("1.5 subnormal ulps: ties to even, 2").isEqualTo(0x0002);
    }

    @Test
    void midpointsBetweenNeighboursRoundToTheEvenOneAndAnythingElseToTheNearest() {
        for (int h = 0; h < 0x7bff; h++) {
            float lo = Half.toFloat((short) h);
            float hi = Half.toFloat((short) (h + 1));
            float mid = (lo + hi) / 2; // exact in float32: half has 11 significant bits
            int even = (h & 1) == 0 ? h : h + 1;
            assertThat(bits(mid)).as("midpoint of 0x%04x and 0x%04x", h, h + 1).isEqualTo(even);
            assertThat(bits(Math.nextDown(mid))).as("just below the midpoint after 0x%04x", h).isEqualTo(h);
            assertThat(bits(Math.nextUp(mid))).as("just above the midpoint after 0x%04x", h).isEqualTo(h + 1);
            assertThat(bits(-mid)).isEqualTo(even | 0x8000);
        }
    }

    @Test
    void bulkConversionsKeepOrderAndPositions() {
        float[] values = {0.5f, -3.25f, 1000f, 1e-5f};
        ShortBuffer buffer = ShortBuffer.allocate(6);
        buffer.put((short) 0);
        Half.put(buffer, values, 1, 3);
        assertThat(buffer.position()).isEqualTo(4);
        buffer.flip().position(1);
        float[] back = Half.toFloats(buffer);
        assertThat(buffer.position()).isEqualTo(1);
        assertThat(back).containsExactly(-3.25f, 1000f, Half.toFloat(Half.fromFloat(1e-5f)));
        assertThat(back[2]).as("a subnormal, within half its ulp (2^-25)").isCloseTo(1e-5f, org.assertj.core.data.Offset.offset(0x1p-25f));
    }
}
