package io.conditio.api;

import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A UNet export a {@link Conditioner} needs for a request. A model folder may ship task variants of its UNet beside
 * {@code unet/}, each a folder of its own (the shipped shapes model has {@code unet-controlnet/} with ControlNet
 * residual inputs, {@code unet-adapter/} with T2I-Adapter feature inputs). The core runs {@link #folder()} instead
 * of {@code unet/} when the model folder has it and {@code unet/} declares none of the inputs the conditioner
 * supplies; otherwise {@code unet/}. Several conditioners may state a need; the first one (in conditioner order)
 * whose variant is used wins.
 *
 * @param folder the variant's folder name inside the model folder, e.g. {@code unet-controlnet}
 * @param inputs a regular expression matched against whole UNet input names: the inputs this conditioner supplies,
 *               e.g. {@code .*_additional_residual}; a {@code unet/} declaring any of them needs no variant
 */
public record UnetVariantNeed(String folder, String inputs) {

    /** Validates: a plain folder name and a valid pattern. */
    public UnetVariantNeed {
        Objects.requireNonNull(folder, "folder");
        Objects.requireNonNull(inputs, "inputs");
        if (folder.isBlank() || folder.contains("/") || folder.contains("\\") || folder.startsWith(".")) {
            throw new IllegalArgumentException("UNet variant folder must be a plain folder name, got '" + folder + "'");
        }
        try {
            Pattern.compile(inputs);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("UNet variant " + folder + ": inputs is not a regular expression: "
                    + e.getMessage(), e);
        }
    }

    /**
     * @param inputName a UNet input name
     * @return whether it is one of the inputs this conditioner supplies
     */
    public boolean supplies(String inputName) {
        return Pattern.compile(inputs).matcher(inputName).matches();
    }
}
