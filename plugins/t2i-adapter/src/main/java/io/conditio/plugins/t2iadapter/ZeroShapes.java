package io.conditio.plugins.t2iadapter;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The shapes of the zeros a UNet with adapter inputs gets when no adapter is requested: the declared channels, and
 * the spatial size from the UNet's {@code config.json} {@code down_block_types}, as diffusers adds the features: in
 * a block with cross-attention before its downsampler (latent size / 2^i), in a block without after it (one more
 * halving, except for the last block, which has no downsampler).
 */
final class ZeroShapes {
    private ZeroShapes() {
    }

    static List<int[]> derive(Model unet, List<String> inputs, int batch, int[] latent) {
        Optional<List<String>> types = strings(unet.config().asMap().get("down_block_types"));
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            TensorSpec spec = unet.inputs().get(inputs.get(i));
            long c = spec.rank() == 4 ? spec.dim(1) : -1;
            long h = spec.rank() == 4 ? spec.dim(2) : -1;
            long w = spec.rank() == 4 ? spec.dim(3) : -1;
            if ((h < 0 || w < 0) && types.isPresent() && i < types.get().size()) {
                int halvings = i;
                boolean attention = types.get().get(i).contains("CrossAttn");
                if (!attention && i < types.get().size() - 1) {
                    halvings++;
                }
                h = (long) Math.ceil(latent[2] / Math.pow(2, halvings));
                w = (long) Math.ceil(latent[3] / Math.pow(2, halvings));
            }
            if (c < 0 || h < 0 || w < 0) {
                throw new InvalidRequestException(unet.path() + " takes T2I-Adapter features (" + inputs
                        + ") but no --t2i-adapter was given, and the shape of " + inputs.get(i) + " " + spec
                        + " cannot be derived (no down_block_types in its config.json): give a --t2i-adapter (with "
                        + "--adapter-scale 0 for no effect)");
            }
            out.add(new int[] {batch, (int) c, (int) h, (int) w});
        }
        return out;
    }

    private static Optional<List<String>> strings(Object v) {
        if (!(v instanceof List<?> l)) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>();
        for (Object o : l) {
            out.add(String.valueOf(o));
        }
        return Optional.of(out);
    }
}
