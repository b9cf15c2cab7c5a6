package io.conditio.core.pipeline;

import io.conditio.api.ElementType;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.TensorSpec;
import io.conditio.api.UnetInputDeclaration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks, before the first step, what the active conditionings declare against what the UNet declares, and
 * reports every mismatch in one message.
 */
final class UnetInputCheck {
    private UnetInputCheck() {
    }

    /** A declaration with the conditioner that made it. */
    record Declared(String conditioner, UnetInputDeclaration declaration) {
    }

    static void check(Model unet, int latentChannels, List<Declared> declared) {
        List<String> problems = new ArrayList<>();
        Map<String, TensorSpec> inputs = unet.inputs();
        String where = unet.name() + "/" + unet.path().getFileName();
        Map<String, String> providers = new LinkedHashMap<>();
        providers.put("sample", "core");
        providers.put("timestep", "core");
        int channels = latentChannels;
        List<String> channelParts = new ArrayList<>();
        channelParts.add(latentChannels + " latent");
        for (Declared d : declared) {
            UnetInputDeclaration decl = d.declaration();
            switch (decl.kind()) {
                case CHANNELS -> {
                    channels += decl.shape()[1];
                    channelParts.add(decl.shape()[1] + " " + decl.purpose());
                }
                case INPUT, RESIDUAL -> {
                    TensorSpec spec = inputs.get(decl.name());
                    if (spec == null) {
                        problems.add(decl.purpose() + " needs a UNet input '" + decl.name() + "'; " + where
                                + " declares only " + inputs.keySet());
                        continue;
                    }
                    String prev = providers.putIfAbsent(decl.name(), d.conditioner());
                    if (prev != null && decl.kind() == UnetInputDeclaration.Kind.INPUT) {
                        problems.add("UNet input '" + decl.name() + "' is provided by both " + prev + " and "
                                + d.conditioner());
                    }
                    if (!compatible(spec.elementType(), decl.elementType())) {
                        problems.add(decl.purpose() + " gives '" + decl.name() + "' as "
                                + decl.elementType().name().toLowerCase() + "; " + where + " expects " + spec);
                    } else if (!shapeFits(spec, decl.shape())) {
                        problems.add(decl.purpose() + " gives '" + decl.name() + "' shape "
                                + Arrays.toString(decl.shape()) + "; " + where + " expects " + spec);
                    }
                }
                default -> throw new IllegalStateException(decl.kind().toString());
            }
        }
        TensorSpec sample = inputs.get("sample");
        if (sample == null) {
            problems.add(where + " has no 'sample' input; expected a UNet taking sample, timestep and conditions");
        } else if (sample.rank() == 4 && sample.dim(1) > 0 && sample.dim(1) != channels) {
            problems.add((channelParts.size() > 1 ? String.join(" + ", channelParts) + " channels = " + channels
                    : channels + " latent channels") + " for 'sample', but " + where + " has " + sample.dim(1)
                    + unetChannelHint((int) sample.dim(1), latentChannels));
        }
        if (!inputs.containsKey("timestep")) {
            problems.add(where + " has no 'timestep' input");
        }
        for (String name : inputs.keySet()) {
            if (!providers.containsKey(name)) {
                problems.add(where + " needs input '" + name + "' (" + inputs.get(name)
                        + ") but no active conditioning provides it");
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidRequestException("the request does not fit the UNet: " + String.join("; ", problems));
        }
    }

    private static String unetChannelHint(int unetChannels, int latent) {
        if (unetChannels == 2 * latent + 1) {
            return " (an inpainting UNet: give --mask and --init-image)";
        }
        if (unetChannels == 2 * latent) {
            return " (an image-conditioned UNet, e.g. instruct-pix2pix: give --init-image)";
        }
        return "";
    }

    private static boolean compatible(ElementType model, ElementType given) {
        boolean modelInt = model == ElementType.INT64 || model == ElementType.INT32;
        boolean givenInt = given == ElementType.INT64 || given == ElementType.INT32;
        return model == given || (modelInt && givenInt) || (modelInt && given == ElementType.FLOAT32);
    }

    private static boolean shapeFits(TensorSpec spec, int[] shape) {
        if (spec.rank() != shape.length) {
            // scalars and one-element vectors are adapted at run time
            int n = 1;
            for (int d : shape) {
                n *= Math.max(d, 1);
            }
            return spec.rank() <= 1 && shape.length <= 1 && (n == 1 || spec.rank() == 1);
        }
        for (int i = 0; i < shape.length; i++) {
            if (spec.dim(i) >= 0 && shape[i] >= 0 && spec.dim(i) != shape[i]) {
                return false;
            }
        }
        return true;
    }
}
