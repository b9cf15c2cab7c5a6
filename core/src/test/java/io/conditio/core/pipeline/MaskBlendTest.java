package io.conditio.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyFloat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.api.Scheduler;
import org.junit.jupiter.api.Test;

class MaskBlendTest {
    /** add_noise as {@code original + timestep × noise}, so the test can tell which timestep was used. */
    private static Scheduler noisingByTimestep() {
        Scheduler scheduler = mock(Scheduler.class);
        when(scheduler.addNoise(any(), any(), anyFloat())).thenAnswer(call -> {
            FloatTensor original = call.getArgument(0);
            FloatTensor noise = call.getArgument(1);
            float timestep = call.getArgument(2);
            return original.add(noise.mul(timestep));
        });
        // the buffer form runs the interface's default, which calls the add_noise above
        when(scheduler.addNoiseInto(any(), any(), anyFloat(), any())).thenCallRealMethod();
        return scheduler;
    }

    /** A 16×16 mask, white (repaint) on the right half: latent columns 1 of a 2×2 grid. */
    private static RgbImage rightHalf() {
        float[] px = new float[16 * 16 * 3];
        for (int y = 0; y < 16; y++) {
            for (int x = 8; x < 16; x++) {
                java.util.Arrays.fill(px, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3, 1f);
            }
        }
        return new RgbImage(16, 16, px);
    }

    @Test
    void keepsTheInitLatentsNoisedToTheNextTimestepOutsideTheMask() {
        FloatTensor init = FloatTensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 1, 2, 2, 2);
        FloatTensor noise = FloatTensor.full(0.5f, 1, 2, 2, 2);
        MaskBlend blend = MaskBlend.of(rightHalf(), init, noise, 16, 16);
        FloatTensor latents = FloatTensor.full(-9f, 1, 2, 2, 2);
        float[] timesteps = {900, 600, 300};
        Scheduler scheduler = noisingByTimestep();

        FloatTensor afterFirst = blend.apply(latents, 0, timesteps, scheduler);
        // left column (kept): init + 600 × 0.5; right column (repainted): the scheduler's latents
        assertThat(afterFirst.array()).containsExactly(301, -9, 303, -9, 305, -9, 307, -9);
        FloatTensor afterLast = blend.apply(latents, 2, timesteps, scheduler);
        assertThat(afterLast.array()).containsExactly(1, -9, 3, -9, 5, -9, 7, -9);
        assertThat(latents.array()).as("the input is not changed").containsOnly(-9f);
    }

    @Test
    void refusesAMaskOfAnotherSizeThanTheOutput() {
        FloatTensor z = FloatTensor.zeros(1, 4, 2, 2);
        assertThatThrownBy(() -> MaskBlend.of(rightHalf(), z, z, 32, 16))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("--mask is 16x16 but the generation is 32x16; give a mask of the output size");
    }
}
