package io.conditio.plugins.controlnet;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.ModelConfig;
import io.conditio.api.ElementType;
import io.conditio.api.TensorSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Residual shapes from the UNet's declared inputs and its block structure. */
class ResidualShapesTest {

    private static Map<String, TensorSpec> unet(int[] channels, boolean withMid, int midChannels) {
        Map<String, TensorSpec> in = new LinkedHashMap<>();
        in.put("sample", new TensorSpec("sample", ElementType.FLOAT32, new long[] {-1, 4, -1, -1}));
        for (int i = 0; i < channels.length; i++) {
            String n = "down_block_" + i + "_additional_residual";
            in.put(n, new TensorSpec(n, ElementType.FLOAT32, new long[] {-1, channels[i], -1, -1}));
        }
        if (withMid) {
            in.put(ResidualShapes.MID, new TensorSpec(ResidualShapes.MID, ElementType.FLOAT32,
                    new long[] {-1, midChannels, -1, -1}));
        }
        return in;
    }

    @Test
    void namesAreOrderedByBlockIndexThenMid() {
        assertThat(ResidualShapes.residuals(List.of("mid_block_additional_residual", "sample",
                "down_block_10_additional_residual", "down_block_2_additional_residual")))
                .containsExactly("down_block_2_additional_residual", "down_block_10_additional_residual",
                        "mid_block_additional_residual");
        assertThat(ResidualShapes.downIndex("down_block_7_additional_residual")).isEqualTo(7);
        assertThat(ResidualShapes.downIndex(ResidualShapes.MID)).isEqualTo(-1);
        assertThat(ResidualShapes.isResidual("down_block_x_additional_residual")).isFalse();
    }

    @Test
    void theTinyFixtureStructureIsDerivedWithoutAConfig() {
        ResidualShapes.Derived d = ResidualShapes.derive(unet(new int[] {16, 16, 16, 16, 32, 32, 32, 32, 32}, true,
                32), 2, 8, 8, ModelConfig.empty());
        assertThat(d.complete()).isTrue();
        int[][] expected = {{2, 16, 8, 8}, {2, 16, 8, 8}, {2, 16, 8, 8}, {2, 16, 4, 4}, {2, 32, 4, 4}, {2, 32, 4, 4},
            {2, 32, 2, 2}, {2, 32, 2, 2}, {2, 32, 2, 2}};
        for (int i = 0; i < expected.length; i++) {
            assertThat(d.shapes().get("down_block_" + i + "_additional_residual")).as("down %d", i)
                    .containsExactly(expected[i]);
        }
        assertThat(d.shapes().get(ResidualShapes.MID)).containsExactly(2, 32, 2, 2);
    }

    @Test
    void sd15HalvesRoundingUp() {
        int[] ch = {320, 320, 320, 320, 640, 640, 640, 1280, 1280, 1280, 1280, 1280};
        ResidualShapes.Derived d = ResidualShapes.derive(unet(ch, true, 1280), 1, 75, 100, ModelConfig.empty());
        assertThat(d.complete()).isTrue();
        assertThat(d.shapes().get("down_block_0_additional_residual")).containsExactly(1, 320, 75, 100);
        assertThat(d.shapes().get("down_block_3_additional_residual")).containsExactly(1, 320, 38, 50);
        assertThat(d.shapes().get("down_block_6_additional_residual")).containsExactly(1, 640, 19, 25);
        assertThat(d.shapes().get("down_block_9_additional_residual")).containsExactly(1, 1280, 10, 13);
        assertThat(d.shapes().get("down_block_11_additional_residual")).containsExactly(1, 1280, 10, 13);
        assertThat(d.shapes().get(ResidualShapes.MID)).containsExactly(1, 1280, 10, 13);
    }

    @Test
    void dynamicChannelsComeFromTheConfig() {
        Map<String, TensorSpec> in = new LinkedHashMap<>();
        for (int i = 0; i < 9; i++) {
            String n = "down_block_" + i + "_additional_residual";
            in.put(n, new TensorSpec(n, ElementType.FLOAT32, new long[] {-1, -1, -1, -1}));
        }
        in.put(ResidualShapes.MID, new TensorSpec(ResidualShapes.MID, ElementType.FLOAT32, new long[] {-1, -1, -1, -1}));
        assertThat(ResidualShapes.derive(in, 2, 8, 8, ModelConfig.empty()).complete()).isFalse();
        ResidualShapes.Derived d = ResidualShapes.derive(in, 2, 8, 8,
                ModelConfig.of(java.util.Map.of("layers_per_block", 2L, "block_out_channels", java.util.List.of(16L, 32L, 32L)), null));
        assertThat(d.complete()).isTrue();
        assertThat(d.shapes().get("down_block_3_additional_residual")).containsExactly(2, 16, 4, 4);
        assertThat(d.shapes().get("down_block_4_additional_residual")).containsExactly(2, 32, 4, 4);
        assertThat(d.shapes().get(ResidualShapes.MID)).containsExactly(2, 32, 2, 2);
    }

    @Test
    void anUnusualStructureIsReportedAsUnknown() {
        ResidualShapes.Derived d = ResidualShapes.derive(unet(new int[] {16, 16, 16, 16}, true, 32), 2, 8, 8,
                ModelConfig.empty());
        assertThat(d.complete()).isFalse();
        assertThat(d.unknown()).contains("down_block_0_additional_residual [2, 16, ?, ?]");
    }
}
