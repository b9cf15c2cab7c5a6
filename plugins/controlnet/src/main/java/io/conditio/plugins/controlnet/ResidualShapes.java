package io.conditio.plugins.controlnet;

import io.conditio.api.ModelConfig;
import io.conditio.api.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names and shapes of ControlNet residuals, derived without running a model.
 *
 * <p>A Stable Diffusion UNet (and its ControlNet) keeps one down residual after {@code conv_in} at the latent size,
 * then, per down block, {@code layers_per_block} residuals at the block's size and (except after the last block) one
 * after its downsampler, which halves the size rounding up ({@code ceil(h / 2)}: a 3×3 convolution with stride 2 and
 * padding 1); the mid residual has the last block's size. So {@code N} down residuals come from
 * {@code N / (layers_per_block + 1)} blocks. Channels come from the UNet's declared input shapes, else from
 * {@code block_out_channels} (conv_in and block {@code b} and its downsampler: {@code block_out_channels[b]}; mid: the
 * last). {@code layers_per_block} and {@code block_out_channels} are read from a {@code config.json} beside the model
 * when there is one; without it {@code layers_per_block} is taken as 2, as in every Stable Diffusion 1.x/2.x/XL
 * UNet. Fixed sizes a model declares always win over derived ones.
 */
final class ResidualShapes {
    /** The mid-block residual input/output name. */
    static final String MID = "mid_block_additional_residual";
    private static final Pattern DOWN = Pattern.compile("down_block_(\\d+)_additional_residual");

    private ResidualShapes() {
    }

    /**
     * @param name an input or output name
     * @return true for a ControlNet residual name
     */
    static boolean isResidual(String name) {
        return MID.equals(name) || DOWN.matcher(name).matches();
    }

    /**
     * @param name a residual name
     * @return its down-block index, or -1 for the mid residual
     */
    static int downIndex(String name) {
        Matcher m = DOWN.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * @param names input or output names
     * @return the residual names among them: down residuals by index, then mid
     */
    static List<String> residuals(Collection<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (isResidual(n)) {
                out.add(n);
            }
        }
        out.sort(Comparator.comparingInt(n -> {
            int i = downIndex(n);
            return i < 0 ? Integer.MAX_VALUE : i;
        }));
        return out;
    }

    /**
     * Derived shapes.
     *
     * @param shapes   per residual name, {@code [batch, C, H, W]} with -1 where unknown
     * @param complete true when no dimension is unknown
     * @param source   where the structure came from, for messages and provenance
     */
    record Derived(Map<String, int[]> shapes, boolean complete, String source) {
        /** @return the unknown dimensions in words, for an error message */
        String unknown() {
            List<String> out = new ArrayList<>();
            shapes.forEach((k, v) -> {
                if (Arrays.stream(v).anyMatch(d -> d < 0)) {
                    out.add(k + " " + Arrays.toString(v).replace("-1", "?"));
                }
            });
            return String.join(", ", out);
        }
    }

    /**
     * @param inputs  the UNet's declared inputs (the residual ones are used)
     * @param batch   the UNet batch
     * @param latentH the latent height
     * @param latentW the latent width
     * @param config  the UNet's (or a ControlNet's) config values; may be empty
     * @return the residual shapes, possibly incomplete
     */
    static Derived derive(Map<String, TensorSpec> inputs, int batch, int latentH, int latentW, ModelConfig config) {
        List<String> names = residuals(inputs.keySet());
        List<String> down = names.stream().filter(n -> downIndex(n) >= 0).toList();
        int n = down.size();
        boolean contiguous = true;
        for (int i = 0; i < n; i++) {
            contiguous &= downIndex(down.get(i)) == i;
        }
        long layersGiven = config.integer("layers_per_block").orElse(-1);
        int layers = layersGiven > 0 ? (int) layersGiven : 2;
        Optional<List<Integer>> channelsConfig = config.integers("block_out_channels");
        int blocks = channelsConfig.map(List::size).orElse(n % (layers + 1) == 0 ? n / (layers + 1) : -1);
        boolean structured = contiguous && blocks > 0 && blocks * (layers + 1) == n;
        String source = config.source().isPresent() && layersGiven > 0
                ? "layers_per_block " + layers + " from " + config.source().get()
                : "layers_per_block 2 (the Stable Diffusion default; no config.json gives it)";

        int[][] spatial = new int[n + 1][];
        int[] blockOf = new int[n + 1];
        if (structured) {
            int h = latentH;
            int w = latentW;
            int k = 0;
            spatial[k] = new int[] {h, w};
            blockOf[k++] = 0;
            for (int b = 0; b < blocks; b++) {
                for (int l = 0; l < layers; l++) {
                    spatial[k] = new int[] {h, w};
                    blockOf[k++] = b;
                }
                if (b < blocks - 1) {
                    h = (h + 1) / 2;
                    w = (w + 1) / 2;
                    spatial[k] = new int[] {h, w};
                    blockOf[k++] = b;
                }
            }
            spatial[n] = new int[] {h, w};
            blockOf[n] = blocks - 1;
        }

        Map<String, int[]> shapes = new LinkedHashMap<>();
        boolean complete = true;
        for (String name : names) {
            int i = downIndex(name);
            int slot = i < 0 ? n : i;
            TensorSpec spec = inputs.get(name);
            int[] shape = {batch, -1, -1, -1};
            if (structured && slot < spatial.length && spatial[slot] != null) {
                shape[2] = spatial[slot][0];
                shape[3] = spatial[slot][1];
                if (channelsConfig.isPresent() && blockOf[slot] < channelsConfig.get().size()) {
                    shape[1] = channelsConfig.get().get(blockOf[slot]);
                }
            }
            if (spec.rank() == 4) {
                for (int d = 1; d < 4; d++) {
                    if (spec.dim(d) >= 0) {
                        shape[d] = (int) spec.dim(d);
                    }
                }
            } else {
                Arrays.fill(shape, 1, 4, -1);
            }
            complete &= spec.rank() == 4 && Arrays.stream(shape).allMatch(d -> d >= 0);
            shapes.put(name, shape);
        }
        return new Derived(shapes, complete, source);
    }
}
