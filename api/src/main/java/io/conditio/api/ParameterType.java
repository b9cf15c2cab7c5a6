package io.conditio.api;

import java.util.Locale;

/**
 * The type of a request parameter a plugin declares ({@link ParameterDeclaration}). Each type names the Java class a
 * value has in {@link GenerationRequest#parameters()} once a host has converted it from text or JSON.
 */
public enum ParameterType {
    /** A finite decimal number; any {@link Number} in the request. */
    NUMBER,
    /** A whole number; an {@link Integer}, {@link Long}, {@link Short} or {@link Byte} in the request. */
    INTEGER,
    /** {@code true} or {@code false}; a {@link Boolean} in the request. */
    BOOLEAN,
    /** Free text; a {@link String} in the request. */
    STRING,
    /** One of the declaration's allowed values; a {@link String} in the request. */
    ENUM,
    /** An image; an {@link RgbImage} in the request (hosts read it from a PNG path or a {@code data:} URI). */
    IMAGE,
    /** A file or folder; a {@link java.nio.file.Path} (or its {@link String} form) in the request. */
    FILE,
    /** A tensor; a {@link Tensor} in the request (hosts read it from a NumPy {@code .npy} file). */
    TENSOR,
    /**
     * A set of named fields, each declared in {@link ParameterDeclaration#fields()}; a {@code Map<String, ?>} in the
     * request. Declared as a list, it is one group per item, e.g. one per ControlNet.
     */
    GROUP;

    /** @return the lower-case name used in listings and JSON Schema, e.g. {@code number} */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
