package io.conditio.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a {@link Conditioning} puts into the UNet call. The core checks every declaration against the UNet's
 * metadata before the first step and reports all mismatches in one message.
 *
 * @param kind        how the contribution enters the UNet
 * @param name        the UNet input name ({@code sample} for {@link Kind#CHANNELS})
 * @param elementType the element type provided
 * @param shape       the shape provided per call, batch included; for {@link Kind#CHANNELS} only {@code shape[1]}
 *                    (the number of channels appended) is meaningful
 * @param purpose     what it is for, in words users know (e.g. {@code "--mask"}), used in error messages
 */
public record UnetInputDeclaration(Kind kind, String name, ElementType elementType, int[] shape, String purpose) {

    /** How a contribution enters the UNet. */
    public enum Kind {
        /** A named input the conditioning sets, e.g. {@code encoder_hidden_states}, {@code class_labels}. */
        INPUT,
        /** Channels concatenated to {@code sample} after the latents, in contribution order. */
        CHANNELS,
        /** A named residual input; contributions from several conditionings are summed element-wise. */
        RESIDUAL
    }

    /** Validates and copies. */
    public UnetInputDeclaration {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(elementType, "elementType");
        shape = shape.clone();
        Objects.requireNonNull(purpose, "purpose");
    }

    /**
     * @param name the input name @param type its element type @param shape its shape @param purpose in words
     * @return a named-input declaration
     */
    public static UnetInputDeclaration input(String name, ElementType type, int[] shape, String purpose) {
        return new UnetInputDeclaration(Kind.INPUT, name, type, shape, purpose);
    }

    /**
     * @param channels how many channels are appended to {@code sample} @param purpose in words
     * @return a channel-concatenation declaration
     */
    public static UnetInputDeclaration channels(int channels, String purpose) {
        return new UnetInputDeclaration(Kind.CHANNELS, "sample", ElementType.FLOAT32, new int[] {-1, channels},
                purpose);
    }

    /**
     * @param name the residual input name @param shape its shape @param purpose in words
     * @return a residual declaration
     */
    public static UnetInputDeclaration residual(String name, int[] shape, String purpose) {
        return new UnetInputDeclaration(Kind.RESIDUAL, name, ElementType.FLOAT32, shape, purpose);
    }

    /** @return a copy of the shape */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UnetInputDeclaration d && d.kind == kind && d.name.equals(name)
                && d.elementType == elementType && Arrays.equals(d.shape, shape) && d.purpose.equals(purpose);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, name, elementType, Arrays.hashCode(shape), purpose);
    }

    @Override
    public String toString() {
        return kind + " " + name + " " + elementType + Arrays.toString(shape) + " (" + purpose + ")";
    }
}
