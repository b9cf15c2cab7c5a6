package io.conditio.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One group of a list-of-groups request parameter (a {@link ParameterType#GROUP} declared as a
 * {@link ParameterDeclaration#list() list}, such as one group per ControlNet), read field by field into typed
 * values. Every refusal is an {@link InvalidRequestException} that names the group by its kind and index, the
 * request parameter, the field and the command-line flag that sets it, e.g.
 * {@code ControlNet 1 (request parameter 'controlnets'): 'scale' (--control-scale) must be a finite number, got big}.
 *
 * <pre>{@code
 * record Net(Path model, double scale) {}
 *
 * List<Net> nets = ParameterGroup.readList(request.parameters().get("controlnets"), CONTROLNETS, "ControlNet",
 *         g -> new Net(g.file("model", "--controlnet", "the Path of a ControlNet folder or .onnx file"),
 *                 g.number("scale", "--control-scale", 1.0)));
 * }</pre>
 *
 * Since SPI 0.3.0.
 */
public final class ParameterGroup {
    private final String where;
    private final Map<?, ?> values;

    private ParameterGroup(String where, Map<?, ?> values) {
        this.where = where;
        this.values = values;
    }

    /**
     * Reads every group of a list-of-groups parameter, in order: each item must be a {@link Map} whose keys are
     * declared fields, and is then given to {@code reader}, which reads its fields (and refuses what it must) before
     * the next item is looked at.
     *
     * @param value       the request value ({@link GenerationRequest#parameters()}{@code .get(declaration.name())};
     *                    null when absent)
     * @param declaration the parameter's declaration: a list of groups, whose fields are the keys a group may have
     * @param kind        what one group is, for messages, e.g. {@code ControlNet}
     * @param reader      makes the plugin's value of one group
     * @param <T>         the plugin's value of a group
     * @return the values, in order; empty when {@code value} is null
     * @throws InvalidRequestException when the value is not a list, an item is not a map or has a key that is not
     *                                 a declared field, or {@code reader} refuses a group
     */
    public static <T> List<T> readList(Object value, ParameterDeclaration declaration, String kind,
            Function<ParameterGroup, T> reader) {
        if (declaration.type() != ParameterType.GROUP || !declaration.list()) {
            throw new IllegalArgumentException(declaration + " is not a list of groups");
        }
        Objects.requireNonNull(reader, "reader");
        if (value == null) {
            return List.of();
        }
        String key = declaration.name();
        if (!(value instanceof List<?> list)) {
            throw new InvalidRequestException("request parameter '" + key + "' must be a List of Maps (one per "
                    + kind + "), got " + value.getClass().getSimpleName());
        }
        List<String> keys = declaration.fields().stream().map(ParameterDeclaration::name).sorted().toList();
        List<T> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> map)) {
                throw new InvalidRequestException("request parameter '" + key + "' entry " + i
                        + " must be a Map with keys " + keys + ", got " + list.get(i));
            }
            String where = kind + " " + i + " (request parameter '" + key + "')";
            for (Object k : map.keySet()) {
                if (!keys.contains(String.valueOf(k))) {
                    throw new InvalidRequestException(where + ": unknown key '" + k + "'; the keys are " + keys);
                }
            }
            out.add(reader.apply(new ParameterGroup(where, map)));
        }
        return out;
    }

    /**
     * @param problem what is wrong with this group, e.g. {@code --control-start 0.6 and --control-end 0.5 must
     *                satisfy 0 <= start < end <= 1}
     * @return an exception whose message names the group, then the problem
     */
    public InvalidRequestException invalid(String problem) {
        return new InvalidRequestException(where + ": " + problem);
    }

    /**
     * @param field    a required field holding a {@link Path} (or its non-blank {@link String} form)
     * @param flag     the command-line flag that sets it, e.g. {@code --controlnet}
     * @param expected what it must be, in words, e.g. {@code the Path of a ControlNet folder or .onnx file}
     * @return the path
     * @throws InvalidRequestException when it is absent or not a path
     */
    public Path file(String field, String flag, String expected) {
        Object v = values.get(field);
        Path p = path(v);
        if (p == null) {
            throw invalid("'" + field + "' (" + flag + ") must be " + expected + ", got " + v);
        }
        return p;
    }

    /**
     * @param field an optional field holding a {@link List} of {@link Path}s (or their non-blank {@link String}
     *              forms)
     * @param flag  the command-line flag that sets it (one path a flag)
     * @return the paths, in order; empty when the field is absent
     * @throws InvalidRequestException when it is not a list or an item is not a path
     */
    public List<Path> files(String field, String flag) {
        Object v = values.get(field);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw invalid("'" + field + "' (" + flag + ") must be a List of Paths, got " + v);
        }
        List<Path> out = new ArrayList<>();
        for (Object o : list) {
            Path p = path(o);
            if (p == null) {
                throw invalid("'" + field + "' entries must be Paths, got " + o);
            }
            out.add(p);
        }
        return List.copyOf(out);
    }

    /**
     * @param field a required field holding an {@link RgbImage}
     * @param flag  the command-line flag that sets it
     * @return the image
     * @throws InvalidRequestException when it is absent or not an image
     */
    public RgbImage image(String field, String flag) {
        Object v = values.get(field);
        if (!(v instanceof RgbImage image)) {
            throw invalid("'" + field + "' (" + flag + ") must be an RgbImage, got "
                    + (v == null ? "nothing" : v.getClass().getSimpleName()));
        }
        return image;
    }

    /**
     * @param field    an optional field holding a finite {@link Number}
     * @param flag     the command-line flag that sets it
     * @param fallback the value when the field is absent
     * @return the number as a double
     * @throws InvalidRequestException when it is not a finite number
     */
    public double number(String field, String flag, double fallback) {
        Object v = values.get(field);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
            return n.doubleValue();
        }
        throw invalid("'" + field + "' (" + flag + ") must be a finite number, got " + v);
    }

    /**
     * @param field    an optional field holding a {@link Boolean}
     * @param flag     the command-line flag that sets it
     * @param fallback the value when the field is absent
     * @return the value
     * @throws InvalidRequestException when it is not a Boolean
     */
    public boolean bool(String field, String flag, boolean fallback) {
        Object v = values.get(field);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw invalid("'" + field + "' (" + flag + ") must be a Boolean, got " + v);
    }

    /**
     * @param field    an optional field naming something, such as a control preprocessor
     * @param fallback the name when the field is absent
     * @return the field's text ({@link String#valueOf}), lower-cased ({@link Locale#ROOT}), or {@code fallback}
     */
    public String name(String field, String fallback) {
        Object v = values.get(field);
        return v == null ? fallback : String.valueOf(v).toLowerCase(Locale.ROOT);
    }

    private static Path path(Object v) {
        if (v instanceof Path p) {
            return p;
        }
        if (v instanceof String s && !s.isBlank()) {
            return Path.of(s);
        }
        return null;
    }
}
