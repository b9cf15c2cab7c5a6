package io.conditio.plugins.film;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * {@link GuidanceScaleEmbedding} against values computed with numpy in float32, step by step as diffusers'
 * {@code get_guidance_scale_embedding} does in torch. float32 {@code exp} is only faithful to about one ulp in numpy
 * and torch alike (numpy gives exp(-6.1402268) = 0.0021544350, the correctly rounded value is 0.0021544348), and the
 * sine multiplies that ulp by an argument of up to {@code 1000 w}; so each value is compared within 1e-6 plus two
 * float32 ulps of its sine argument.
 */
class GuidanceScaleEmbeddingTest {

    private static void assertMatches(float[] actual, float w, int dim, int[] positions, float[] expected) {
        int half = dim / 2;
        for (int i = 0; i < positions.length; i++) {
            int p = positions[i];
            int k = p < half ? p : p - half;
            double argument = p >= 2 * half ? 0 : 1000.0 * w * Math.exp(-k * Math.log(10000.0) / (half - 1));
            float tolerance = (float) (1e-6 + 2 * Math.ulp((float) argument));
            assertThat(actual[p]).as("position %d (sine argument %.3f)", p, argument)
                    .isCloseTo(expected[i], within(tolerance));
        }
    }

    @Test
    void evenSizeMatchesNumpy() {
        // w = 8.5 - 1, dim 8
        float[] expected = {-0.8512359261512756f, 0.5626711249351501f, -0.43523475527763367f, 0.6816387176513672f,
            -0.5247832536697388f, -0.8266808390617371f, -0.9003170132637024f, 0.731688916683197f};
        float[] actual = GuidanceScaleEmbedding.embed((float) (8.5 - 1), 8);
        assertThat(actual).hasSize(8);
        assertMatches(actual, 7.5f, 8, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, expected);
        // the first frequency is exactly 1: sin(7500) and cos(7500) in float32
        assertThat(actual[0]).isEqualTo((float) Math.sin(7500.0));
        assertThat(actual[4]).isEqualTo((float) Math.cos(7500.0));
    }

    @Test
    void oddSizeIsZeroPadded() {
        // w = 2 - 1, dim 7: three sines, three cosines, one zero
        float[] expected = {0.8268795609474182f, -0.5440202951431274f, 0.0998334065079689f, 0.5623790621757507f,
            -0.839072048664093f, 0.9950041770935059f, 0.0f};
        float[] actual = GuidanceScaleEmbedding.embed(1f, 7);
        assertThat(actual).hasSize(7);
        assertMatches(actual, 1f, 7, new int[] {0, 1, 2, 3, 4, 5, 6}, expected);
        assertThat(actual[6]).isZero();
    }

    @Test
    void largeSizeMatchesNumpyAtSampledPositions() {
        // w = 4 - 1, dim 256 (an LCM's time_cond_proj_dim)
        float[] actual = GuidanceScaleEmbedding.embed(3f, 256);
        assertThat(actual).hasSize(256);
        assertMatches(actual, 3f, 256, new int[] {0, 1, 2, 63, 127, 128, 129, 200, 255},
                new float[] {0.21918997168540955f, 0.38986891508102417f, -0.004604114685207605f,
                    -0.303279846906662f, 0.29552018642425537f, -0.9756821990013123f, 0.9208703637123108f,
                    -0.8833065032958984f, 0.9553365111351013f});
    }

    @Test
    void zeroGuidanceGivesSinZeroAndCosOne() {
        float[] e = GuidanceScaleEmbedding.embed(0f, 6);
        assertThat(e).containsExactly(0f, 0f, 0f, 1f, 1f, 1f);
    }
}
