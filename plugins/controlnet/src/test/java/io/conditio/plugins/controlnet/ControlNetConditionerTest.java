package io.conditio.plugins.controlnet;

import static io.conditio.core.testing.FakeConditioningContext.cfg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.conditio.api.Conditioning;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.core.testing.FakeModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ControlNet conditioner against fake models: what runs, on which rows, with which scale, and the errors. */
class ControlNetConditionerTest {
    private static final Path UNET = Path.of("/models/unet-controlnet/unet/model.onnx");
    private static final Path PLAIN = Path.of("/models/sd/unet/model.onnx");
    private static final Path CN = Path.of("/models/controlnet");
    private static final Path CN2 = Path.of("/models/controlnet-2");
    private static final String DOWN0 = "down_block_0_additional_residual";
    private static final String DOWN8 = "down_block_8_additional_residual";
    private static final String MID = ResidualShapes.MID;

    private final ControlNetConditioner conditioner = new ControlNetConditioner();

    private static Map<String, Object> net(Path model, float pixel, Object... more) {
        Map<String, Object> m = new HashMap<>();
        m.put("model", model);
        m.put("image", Fakes.image(64, 64, pixel));
        for (int i = 0; i < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        return m;
    }

    private static GenerationRequest request(Map<?, ?>... nets) {
        return GenerationRequest.builder().optParameter("controlnets", List.of(nets)).build();
    }

    private Conditioning prepare(GenerationRequest request, FakeModel unet, FakeModel... cns) {
        return conditioner.prepare(new Fakes.Context(request, unet, cfg(), cns)).orElseThrow();
    }

    private static float value(FloatTensor t, int batchEntry) {
        return t.batchEntry(batchEntry).get(0);
    }

    @Test
    void withControlNetsItAsksForTheUnetVariantThatTakesTheResiduals() {
        assertThat(conditioner.unetVariant(request(Map.of("model", "/cn")))).hasValueSatisfying(v -> {
            assertThat(v.folder()).isEqualTo("unet-controlnet");
            assertThat(v.supplies("down_block_3_additional_residual")).isTrue();
            assertThat(v.supplies("mid_block_additional_residual")).isTrue();
            assertThat(v.supplies("down_intrablock_additional_residual_0")).isFalse();
            assertThat(v.supplies("sample")).isFalse();
        });
        assertThat(conditioner.unetVariant(request())).isEmpty();
        assertThat(conditioner.unetVariant(GenerationRequest.builder().build())).isEmpty();
    }

    @Test
    void aControlNetRunsOnTheWholeBatchWithItsScale() {
        FakeModel cn = Fakes.controlNet(CN);
        Conditioning c = prepare(request(net(CN, 0.5f, "scale", 0.8)), Fakes.residualUnet(UNET), cn);
        assertThat(c.provides()).hasSize(10);
        assertThat(c.provides().get(0)).isEqualTo(UnetInputDeclaration.residual(DOWN0, new int[] {2, 16, 8, 8},
                "--controlnet residuals (controlnet)"));
        Fakes.Inputs in = new Fakes.Inputs(2, 751f);
        c.contribute(Fakes.step(0, 8, 751f, cfg()), in);

        assertThat(cn.feeds()).hasSize(1);
        Map<String, ?> feed = cn.feeds().get(0);
        assertThat(feed.get("sample")).isSameAs(in.sample());
        assertThat(((FloatTensor) feed.get("timestep")).array()).containsExactly(751f, 751f);
        assertThat(feed.get("encoder_hidden_states")).isSameAs(in.named.get("encoder_hidden_states"));
        FloatTensor cond = (FloatTensor) feed.get("controlnet_cond");
        assertThat(cond.shape()).containsExactly(2, 3, 64, 64);
        assertThat(cond.array()).containsOnly(0.5f);
        assertThat(((FloatTensor) feed.get("conditioning_scale")).shape()).isEmpty();
        assertThat(((FloatTensor) feed.get("conditioning_scale")).get(0)).isEqualTo(0.8f);

        assertThat(in.residual(DOWN0).shape()).containsExactly(2, 16, 8, 8);
        assertThat(value(in.residual(DOWN0), 0)).isEqualTo(1 * 0.8f * 1.5f);
        assertThat(value(in.residual(DOWN0), 1)).isEqualTo(1 * 0.8f * 1.5f);
        assertThat(value(in.residual(MID), 1)).isEqualTo(10 * 0.8f * 1.5f);
        assertThat(c.provenance()).containsEntry("0.model", CN.toString()).containsEntry("0.scale", "0.8")
                .containsEntry("0.guess_mode", "false").containsEntry("0.image", "64x64");
    }

    @Test
    void guessModeRunsOnTheConditionalHalfAndScalesByLogspace() {
        FakeModel cn = Fakes.controlNet(CN);
        Conditioning c = prepare(request(net(CN, 0f, "scale", 0.8, "guess_mode", true)), Fakes.residualUnet(UNET),
                cn);
        Fakes.Inputs in = new Fakes.Inputs(2, 751f);
        c.contribute(Fakes.step(0, 8, 751f, cfg()), in);

        Map<String, ?> feed = cn.feeds().get(0);
        FloatTensor sample = (FloatTensor) feed.get("sample");
        assertThat(sample.shape()).containsExactly(1, 4, 8, 8);
        assertThat(sample.array()).containsExactly(in.sample().batchEntry(1).array());
        assertThat(((FloatTensor) feed.get("encoder_hidden_states")).array())
                .containsExactly(((FloatTensor) in.named.get("encoder_hidden_states")).batchEntry(1).array());
        assertThat(((FloatTensor) feed.get("controlnet_cond")).dim(0)).isEqualTo(1);
        assertThat(((FloatTensor) feed.get("conditioning_scale")).get(0)).isEqualTo(1f);

        float[] scales = ControlNetConditioning.guessModeScales(9, 0.8f);
        for (int k = 0; k < 9; k++) {
            FloatTensor r = in.residual("down_block_" + k + "_additional_residual");
            assertThat(r.dim(0)).isEqualTo(2);
            assertThat(r.batchEntry(0).array()).as("uncond row of down %d", k).containsOnly(0f);
            assertThat(value(r, 1)).as("cond row of down %d", k).isEqualTo((k + 1) * 1f * scales[k]);
        }
        assertThat(in.residual(MID).batchEntry(0).array()).containsOnly(0f);
        assertThat(value(in.residual(MID), 1)).isEqualTo(10 * 0.8f);
    }

    @Test
    void guessModeScalesAreTorchLogspaceTimesTheScale() {
        // torch.logspace(-1, 0, 10) * 0.8 in float32 (numpy gives the same float32 values)
        assertThat(ControlNetConditioning.guessModeScales(9, 0.8f)).containsExactly(0.08000000566244125f,
                0.10332397371530533f, 0.1334480494260788f, 0.1723547726869583f, 0.22260475158691406f,
                0.2875051200389862f, 0.37132713198661804f, 0.4795874059200287f, 0.6194109320640564f,
                0.800000011920929f);
        float[] sd15 = ControlNetConditioning.guessModeScales(12, 1f);
        assertThat(sd15).hasSize(13);
        assertThat(sd15[0]).isEqualTo(0.1f);
        assertThat(sd15[6]).isCloseTo(0.3162277638912201f, within(0f));
        assertThat(sd15[12]).isEqualTo(1f);
    }

    @Test
    void guessModeWithoutGuidanceRunsOnTheSingleBranch() {
        FakeModel cn = Fakes.controlNet(CN);
        List<GuidanceBranch> one = List.of(GuidanceBranch.CONDITIONAL);
        Conditioning c = conditioner.prepare(new Fakes.Context(request(net(CN, 0f, "guess_mode", true)),
                Fakes.residualUnet(UNET), one, cn)).orElseThrow();
        Fakes.Inputs in = new Fakes.Inputs(1, 1f);
        c.contribute(Fakes.step(0, 4, 1f, one), in);
        assertThat(((FloatTensor) cn.feeds().get(0).get("sample")).dim(0)).isEqualTo(1);
        assertThat(value(in.residual(DOWN0), 0)).isEqualTo(ControlNetConditioning.guessModeScales(9, 1f)[0]);
    }

    @Test
    void outsideStartEndTheControlNetIsNotRunAndZerosGoIn() {
        FakeModel cn = Fakes.controlNet(CN);
        Conditioning c = prepare(request(net(CN, 0f, "start", 0.25, "end", 0.75)), Fakes.residualUnet(UNET), cn);
        List<Integer> active = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Fakes.Inputs in = new Fakes.Inputs(2, 1f);
            int before = cn.feeds().size();
            c.contribute(Fakes.step(i, 8, 1f, cfg()), in);
            if (cn.feeds().size() > before) {
                active.add(i);
                assertThat(value(in.residual(DOWN0), 0)).isEqualTo(1f);
            } else {
                assertThat(in.named).containsKeys(DOWN0, DOWN8, MID);
                assertThat(in.residual(DOWN8).shape()).containsExactly(2, 32, 2, 2);
                assertThat(in.residual(DOWN8).array()).containsOnly(0f);
                assertThat(in.residual(MID).shape()).containsExactly(2, 32, 2, 2);
            }
        }
        // diffusers' controlnet_keep for 8 steps, start 0.25, end 0.75: i / 8 >= 0.25 and (i + 1) / 8 <= 0.75
        assertThat(active).containsExactly(2, 3, 4, 5);
    }

    @Test
    void keepFollowsDiffusers() {
        ControlNetRequest r = new ControlNetRequest(CN, Fakes.image(8, 8, 0f), 1, 0.0, 0.5, false, "none", List.of());
        // i / 5 < 0 or (i + 1) / 5 > 0.5: active for i = 0, 1
        assertThat(List.of(0, 1, 2, 3, 4).stream().filter(i -> r.activeAt(i, 5)).toList()).containsExactly(0, 1);
        ControlNetRequest late = new ControlNetRequest(CN, Fakes.image(8, 8, 0f), 1, 0.99, 1.0, false, "none", List.of());
        assertThat(List.of(0, 1, 2, 3, 4, 5, 6, 7).stream().filter(i -> late.activeAt(i, 8)).toList()).isEmpty();
    }

    @Test
    void severalControlNetsAreSummed() {
        FakeModel a = Fakes.controlNet(CN);
        FakeModel b = Fakes.controlNet(CN2);
        Conditioning c = prepare(request(net(CN, 0f, "scale", 0.5), net(CN2, 1f, "scale", 0.25)),
                Fakes.residualUnet(UNET), a, b);
        Fakes.Inputs in = new Fakes.Inputs(2, 1f);
        c.contribute(Fakes.step(0, 8, 1f, cfg()), in);
        assertThat(value(in.residual(DOWN0), 1)).isEqualTo(0.5f * 1f + 0.25f * 2f);
        assertThat(value(in.residual(MID), 0)).isEqualTo(10 * 0.5f + 10 * 0.25f * 2f);
    }

    @Test
    void aResidualUnetWithoutControlNetGetsZeros() {
        Conditioning c = conditioner.prepare(new Fakes.Context(GenerationRequest.builder().build(),
                Fakes.residualUnet(UNET), cfg())).orElseThrow();
        assertThat(c.provides()).extracting(UnetInputDeclaration::kind)
                .containsOnly(UnetInputDeclaration.Kind.RESIDUAL);
        assertThat(c.provides().get(3).shape()).containsExactly(2, 16, 4, 4);
        Fakes.Inputs in = new Fakes.Inputs(2, 1f);
        c.contribute(Fakes.step(0, 8, 1f, cfg()), in);
        assertThat(in.residual(DOWN0).shape()).containsExactly(2, 16, 8, 8);
        assertThat(in.residual(DOWN0).array()).containsOnly(0f);
        assertThat(c.provenance().get("residuals")).startsWith("zeros (no --controlnet)");
    }

    @Test
    void zerosWhoseShapesCannotBeDerivedAreRefusedWithoutAControlNetAndLearnedWithOne(@TempDir Path dir)
            throws IOException {
        // a config whose structure does not give 9 down residuals: 3 blocks of 3 layers would give 12
        Path unetFile = Files.createDirectories(dir.resolve("unet")).resolve("model.onnx");
        Files.writeString(unetFile, "not a model");
        Files.writeString(dir.resolve("unet/config.json"),
                "{\"layers_per_block\": 3, \"block_out_channels\": [16, 32, 32]}");
        assertThatThrownBy(() -> conditioner.prepare(new Fakes.Context(GenerationRequest.builder().build(),
                Fakes.residualUnet(unetFile), cfg())))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("no --controlnet was given")
                .hasMessageContaining("cannot be derived")
                .hasMessageContaining("--control-scale 0");

        FakeModel cn = Fakes.controlNet(CN);
        Conditioning c = prepare(request(net(CN, 0f, "start", 0.5)), Fakes.residualUnet(unetFile), cn);
        Fakes.Inputs in = new Fakes.Inputs(2, 1f);
        c.contribute(Fakes.step(0, 8, 1f, cfg()), in);
        assertThat(cn.feeds()).hasSize(1);
        assertThat(((FloatTensor) cn.feeds().get(0).get("conditioning_scale")).get(0)).isZero();
        assertThat(in.residual(DOWN8).shape()).containsExactly(2, 32, 2, 2);
        assertThat(in.residual(DOWN8).array()).containsOnly(0f);
        // the next inactive step reuses the learned shapes without running the ControlNet
        Fakes.Inputs next = new Fakes.Inputs(2, 1f);
        c.contribute(Fakes.step(1, 8, 1f, cfg()), next);
        assertThat(cn.feeds()).hasSize(1);
        assertThat(next.residual(MID).shape()).containsExactly(2, 32, 2, 2);
    }

    @Test
    void aPlainUnetWithoutControlNetIsNotConditioned() {
        assertThat(conditioner.prepare(new Fakes.Context(GenerationRequest.builder().build(),
                Fakes.plainUnet(PLAIN), cfg()))).isEmpty();
    }

    @Test
    void aControlNetWithAPlainUnetIsRefused() {
        assertThatThrownBy(() -> prepare(request(net(CN, 0f)), Fakes.plainUnet(PLAIN), Fakes.controlNet(CN)))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("--controlnet needs a UNet with ControlNet residual inputs "
                        + "(down_block_0_additional_residual ...); " + PLAIN + " has none");
    }

    @Test
    void mismatchedResidualsAreNamedInOneMessage() {
        FakeModel cn = Fakes.controlNet(CN);
        cn.outputs().remove(DOWN8);
        cn.out(Fakes.spec("down_block_9_additional_residual", ElementType.FLOAT32, -1, 32, -1, -1));
        assertThatThrownBy(() -> prepare(request(net(CN, 0f)), Fakes.residualUnet(UNET), cn))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("outputs [down_block_9_additional_residual], which " + UNET + " does not take")
                .hasMessageContaining("does not output [" + DOWN8 + "], which " + UNET + " takes");
    }

    @Test
    void aControlNetForAnotherBaseModelIsRefused() {
        FakeModel cn = Fakes.controlNet(CN);
        cn.inputs().put("encoder_hidden_states", Fakes.spec("encoder_hidden_states", ElementType.FLOAT32, -1, -1, 768));
        assertThatThrownBy(() -> prepare(request(net(CN, 0f)), Fakes.residualUnet(UNET), cn))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("another base model");
    }

    @Test
    void badEntriesNameTheKeyAndFlag() {
        FakeModel unet = Fakes.residualUnet(UNET);
        FakeModel cn = Fakes.controlNet(CN);
        assertThatThrownBy(() -> prepare(request(net(CN, 0f, "strength", 1)), unet, cn))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("unknown key 'strength'");
        assertThatThrownBy(() -> prepare(request(net(CN, 0f, "start", 0.6, "end", 0.5)), unet, cn))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--control-start 0.6 and --control-end 0.5");
        assertThatThrownBy(() -> prepare(request(net(CN, 0f, "preprocess", "hed")), unet, cn))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("unknown --control-preprocess 'hed'");
        Map<String, Object> noImage = new HashMap<>(Map.of("model", CN));
        assertThatThrownBy(() -> prepare(request(noImage), unet, cn))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--control-image");
        assertThatThrownBy(() -> conditioner.prepare(new Fakes.Context(GenerationRequest.builder()
                .optParameter("controlnets", "/models/controlnet").build(), unet, cfg(), cn)))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("must be a List of Maps");
    }

    @Test
    void anImageOfAnotherSizeIsResizedAndThenPreprocessedByTheHost() {
        FakeModel cn = Fakes.controlNet(CN);
        Map<String, Object> entry = net(CN, 0.25f, "preprocess", "invert");
        entry.put("image", Fakes.image(32, 16, 0.25f));
        Conditioning c = prepare(request(entry), Fakes.residualUnet(UNET), cn);
        assertThat(c.provenance()).containsEntry("0.image", "32x16 resized (bilinear) to 64x64")
                .containsEntry("0.preprocess", "invert");
        Fakes.Inputs in = new Fakes.Inputs(2, 1f);
        c.contribute(Fakes.step(0, 8, 1f, cfg()), in);
        FloatTensor cond = (FloatTensor) cn.feeds().get(0).get("controlnet_cond");
        assertThat(cond.shape()).containsExactly(2, 3, 64, 64);
        // resized first (a uniform 0.25 stays 0.25), then preprocessed
        assertThat(cond.array()).containsOnly(0.75f);
    }

    @Test
    void bilinearResizeKeepsUniformImagesAndInterpolates() {
        float[] px = {0, 0, 0, 1, 1, 1};
        var resized = new io.conditio.api.RgbImage(2, 1, px).resizedBilinear(4, 1);
        // centres at 0.125, 0.375, 0.625, 0.875 of the row map to source x -0.25 (clamped), 0.25, 0.75, 1.25
        assertThat(resized.pixels()).containsExactly(0, 0, 0, 0.25f, 0.25f, 0.25f, 0.75f, 0.75f, 0.75f, 1, 1, 1);
    }
}
