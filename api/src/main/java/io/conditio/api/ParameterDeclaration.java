package io.conditio.api;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One request parameter a plugin reads from {@link GenerationRequest#parameters()}: its key, type, range or allowed
 * values, default and a one-line description. Hosts validate requests against the declarations before anything
 * runs, list them ({@code conditio plugins --parameters}) and render them as JSON Schema or a form.
 *
 * <pre>{@code
 * ParameterDeclaration.builder("guidance_rescale", ParameterType.NUMBER)
 *         .range(0, false, 1, true)       // (0, 1]
 *         .description("CFG rescale factor phi (Lin et al. 2023)")
 *         .build();
 * }</pre>
 *
 * <p>A declaration may be a list ({@link #list()}): the request value is then a {@link List} whose items each have
 * the declared type, range and fields. A {@link ParameterType#GROUP} declares its named {@link #fields()}.
 */
public final class ParameterDeclaration {
    private final String name;
    private final ParameterType type;
    private final String description;
    private final Double minimum;
    private final boolean minimumInclusive;
    private final Double maximum;
    private final boolean maximumInclusive;
    private final List<String> allowedValues;
    private final Object defaultValue;
    private final boolean list;
    private final boolean singleAllowed;
    private final int minItems;
    private final int maxItems;
    private final boolean required;
    private final List<ParameterDeclaration> fields;

    private ParameterDeclaration(Builder b) {
        this.name = b.name;
        this.type = b.type;
        this.description = b.description;
        this.minimum = b.minimum;
        this.minimumInclusive = b.minimumInclusive;
        this.maximum = b.maximum;
        this.maximumInclusive = b.maximumInclusive;
        this.allowedValues = List.copyOf(b.allowedValues);
        this.defaultValue = b.defaultValue;
        this.list = b.list;
        this.singleAllowed = b.singleAllowed;
        this.minItems = b.minItems;
        this.maxItems = b.maxItems;
        this.required = b.required;
        this.fields = List.copyOf(b.fields);
    }

    /**
     * @param name the request key (for a group field: the field's key), e.g. {@code guidance_rescale}
     * @param type its type
     * @return a builder
     */
    public static Builder builder(String name, ParameterType type) {
        return new Builder(name, type);
    }

    /** @return the request key */
    public String name() {
        return name;
    }

    /** @return the type (of each item, for a list) */
    public ParameterType type() {
        return type;
    }

    /** @return one line saying what the parameter does; never null */
    public String description() {
        return description;
    }

    /** @return the lower bound of a number or integer, or empty for none */
    public Optional<Double> minimum() {
        return Optional.ofNullable(minimum);
    }

    /** @return true when the lower bound itself is allowed */
    public boolean minimumInclusive() {
        return minimumInclusive;
    }

    /** @return the upper bound of a number or integer, or empty for none */
    public Optional<Double> maximum() {
        return Optional.ofNullable(maximum);
    }

    /** @return true when the upper bound itself is allowed */
    public boolean maximumInclusive() {
        return maximumInclusive;
    }

    /** @return the values an {@link ParameterType#ENUM} allows (empty for other types) */
    public List<String> allowedValues() {
        return allowedValues;
    }

    /** @return the value the plugin uses when the key is absent, or empty when absence means "off" */
    public Optional<Object> defaultValue() {
        return Optional.ofNullable(defaultValue);
    }

    /** @return true when the request value is a list of items of {@link #type()} */
    public boolean list() {
        return list;
    }

    /** @return true when a single item is accepted where the list is declared (as a list of one) */
    public boolean singleAllowed() {
        return singleAllowed;
    }

    /** @return the least number of items of a list (0 when unbounded) */
    public int minItems() {
        return minItems;
    }

    /** @return the most items of a list ({@link Integer#MAX_VALUE} when unbounded) */
    public int maxItems() {
        return maxItems;
    }

    /** @return true when a group field must be present (top-level parameters are never required) */
    public boolean required() {
        return required;
    }

    /** @return the fields of a {@link ParameterType#GROUP}, in order (empty for other types) */
    public List<ParameterDeclaration> fields() {
        return fields;
    }

    /**
     * @param field a field name
     * @return the field of this group, or empty
     */
    public Optional<ParameterDeclaration> field(String field) {
        return fields.stream().filter(f -> f.name.equals(field)).findFirst();
    }

    /** @return the range in interval notation, e.g. {@code (0, 1]} or {@code >= 0}; empty when unbounded */
    public String rangeText() {
        if (minimum == null && maximum == null) {
            return "";
        }
        if (minimum != null && maximum != null) {
            return (minimumInclusive ? "[" : "(") + number(minimum) + ", " + number(maximum)
                    + (maximumInclusive ? "]" : ")");
        }
        if (minimum != null) {
            return (minimumInclusive ? ">= " : "> ") + number(minimum);
        }
        return (maximumInclusive ? "<= " : "< ") + number(maximum);
    }

    /** @return the type in words, e.g. {@code number in (0, 1]}, {@code list of 2 integer >= 0}, {@code enum a|b} */
    public String typeText() {
        StringBuilder s = new StringBuilder();
        if (list) {
            s.append(singleAllowed ? "one or a list of " : "list of ");
            if (minItems == maxItems) {
                s.append(minItems).append(' ');
            } else if (minItems > 0 || maxItems != Integer.MAX_VALUE) {
                s.append(minItems).append("..").append(maxItems == Integer.MAX_VALUE ? "" : maxItems).append(' ');
            }
        }
        s.append(type.label());
        if (type == ParameterType.ENUM) {
            s.append(' ').append(String.join("|", allowedValues));
        }
        String range = rangeText();
        if (!range.isEmpty()) {
            s.append(range.startsWith("[") || range.startsWith("(") ? " in " : " ").append(range);
        }
        return s.toString();
    }

    /**
     * Checks a request value against this declaration.
     *
     * @param value the value as it would be in {@link GenerationRequest#parameters()}; not null
     * @return what is wrong, in words naming the key and the expected type or bound, or empty when it is valid
     */
    public Optional<String> check(Object value) {
        return check(value, "'" + name + "'");
    }

    private Optional<String> check(Object value, String where) {
        if (list) {
            if (singleAllowed && !(value instanceof List<?>)) {
                return checkItem(value, where);
            }
            if (!(value instanceof List<?> items)) {
                return Optional.of(where + " must be a list of " + type.label() + " (" + typeText() + "), got "
                        + kind(value));
            }
            if (items.size() < minItems || items.size() > maxItems) {
                return Optional.of(where + " must have " + (minItems == maxItems ? Integer.toString(minItems)
                        : minItems + ".." + (maxItems == Integer.MAX_VALUE ? "" : maxItems)) + " items, got "
                        + items.size());
            }
            for (int i = 0; i < items.size(); i++) {
                Object item = items.get(i);
                if (item == null) {
                    return Optional.of(where + " item " + i + " is null");
                }
                Optional<String> p = checkItem(item, where + " item " + i);
                if (p.isPresent()) {
                    return p;
                }
            }
            return Optional.empty();
        }
        return checkItem(value, where);
    }

    private Optional<String> checkItem(Object value, String where) {
        switch (type) {
            case NUMBER -> {
                if (!(value instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                    return Optional.of(where + " must be a finite number" + boundText() + ", got " + kind(value));
                }
                return checkRange(n.doubleValue(), where);
            }
            case INTEGER -> {
                boolean integral = value instanceof Integer || value instanceof Long || value instanceof Short
                        || value instanceof Byte || value instanceof BigInteger
                        || (value instanceof Number n && Double.isFinite(n.doubleValue())
                                && n.doubleValue() == Math.rint(n.doubleValue()));
                if (!integral) {
                    return Optional.of(where + " must be an integer" + boundText() + ", got " + kind(value));
                }
                return checkRange(((Number) value).doubleValue(), where);
            }
            case BOOLEAN -> {
                return value instanceof Boolean ? Optional.empty()
                        : Optional.of(where + " must be true or false, got " + kind(value));
            }
            case STRING -> {
                return value instanceof String ? Optional.empty()
                        : Optional.of(where + " must be text, got " + kind(value));
            }
            case ENUM -> {
                if (value instanceof String s && allowedValues.contains(s)) {
                    return Optional.empty();
                }
                return Optional.of(where + " must be one of " + allowedValues + ", got " + kind(value));
            }
            case IMAGE -> {
                return value instanceof RgbImage ? Optional.empty()
                        : Optional.of(where + " must be an image (RgbImage), got " + kind(value));
            }
            case FILE -> {
                return value instanceof Path || (value instanceof String s && !s.isBlank()) ? Optional.empty()
                        : Optional.of(where + " must be a file path, got " + kind(value));
            }
            case TENSOR -> {
                return value instanceof Tensor ? Optional.empty()
                        : Optional.of(where + " must be a tensor, got " + kind(value));
            }
            case GROUP -> {
                return checkGroup(value, where);
            }
            default -> throw new IllegalStateException(type.toString());
        }
    }

    private Optional<String> checkGroup(Object value, String where) {
        if (!(value instanceof Map<?, ?> map)) {
            return Optional.of(where + " must be a group of fields " + fieldNames() + ", got " + kind(value));
        }
        List<String> known = fieldNames();
        for (Object k : map.keySet()) {
            String key = String.valueOf(k);
            if (!known.contains(key)) {
                return Optional.of(where + ": unknown field '" + key + "'" + nearest(key, known)
                        .map(n -> " (did you mean '" + n + "'?)").orElse("") + "; the fields are " + known);
            }
        }
        for (ParameterDeclaration f : fields) {
            Object v = map.get(f.name);
            if (v == null) {
                if (f.required) {
                    return Optional.of(where + ": field '" + f.name + "' (" + f.typeText() + ") is required");
                }
                continue;
            }
            Optional<String> p = f.check(v, where + " field '" + f.name + "'");
            if (p.isPresent()) {
                return p;
            }
        }
        return Optional.empty();
    }

    private List<String> fieldNames() {
        return fields.stream().map(ParameterDeclaration::name).toList();
    }

    private Optional<String> checkRange(double v, String where) {
        boolean low = minimum != null && (minimumInclusive ? v < minimum : v <= minimum);
        boolean high = maximum != null && (maximumInclusive ? v > maximum : v >= maximum);
        if (low || high) {
            return Optional.of(where + " must be " + (rangeText().startsWith("[") || rangeText().startsWith("(")
                    ? "in " : "") + rangeText() + ", got " + number(v));
        }
        return Optional.empty();
    }

    private String boundText() {
        String r = rangeText();
        return r.isEmpty() ? "" : (r.startsWith("[") || r.startsWith("(") ? " in " : " ") + r;
    }

    private static String kind(Object value) {
        if (value == null) {
            return "nothing";
        }
        String shown = value instanceof String s ? "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'"
                : value instanceof Number || value instanceof Boolean ? value.toString() : null;
        String cls = value instanceof String ? "text" : value.getClass().getSimpleName();
        return shown == null ? "a " + cls : cls + " " + shown;
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /**
     * The known name closest to a misspelled one, by edit distance (at most a third of the name's length, at least
     * 2), as used for "did you mean" suggestions.
     *
     * @param name  the unknown name
     * @param known the known names
     * @return the nearest known name, or empty when none is close
     */
    public static Optional<String> nearest(String name, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String lower = name.toLowerCase(Locale.ROOT);
        for (String k : known) {
            int d = distance(lower, k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        int allowed = Math.max(2, name.length() / 3);
        return best != null && bestDistance <= allowed ? Optional.of(best) : Optional.empty();
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * @param other another declaration of the same key (by another plugin)
     * @return true when both accept the same values (type, list shape, range, allowed values, fields)
     */
    public boolean compatibleWith(ParameterDeclaration other) {
        return name.equals(other.name) && type == other.type && list == other.list && minItems == other.minItems
                && maxItems == other.maxItems && singleAllowed == other.singleAllowed
                && Objects.equals(minimum, other.minimum)
                && Objects.equals(maximum, other.maximum) && minimumInclusive == other.minimumInclusive
                && maximumInclusive == other.maximumInclusive && allowedValues.equals(other.allowedValues)
                && fields.size() == other.fields.size() && fieldsCompatible(other);
    }

    private boolean fieldsCompatible(ParameterDeclaration other) {
        for (int i = 0; i < fields.size(); i++) {
            if (!fields.get(i).compatibleWith(other.fields.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** @return a map of this declaration's properties (for JSON and listings): name, type, range, default... */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("type", type.label());
        if (list) {
            m.put("list", true);
            if (singleAllowed) {
                m.put("single_allowed", true);
            }
            if (minItems > 0) {
                m.put("min_items", minItems);
            }
            if (maxItems != Integer.MAX_VALUE) {
                m.put("max_items", maxItems);
            }
        }
        if (minimum != null) {
            m.put(minimumInclusive ? "minimum" : "exclusive_minimum", minimum);
        }
        if (maximum != null) {
            m.put(maximumInclusive ? "maximum" : "exclusive_maximum", maximum);
        }
        if (!allowedValues.isEmpty()) {
            m.put("allowed_values", allowedValues);
        }
        if (defaultValue != null) {
            m.put("default", defaultValue);
        }
        if (required) {
            m.put("required", true);
        }
        m.put("description", description);
        if (!fields.isEmpty()) {
            List<Map<String, Object>> f = new ArrayList<>();
            fields.forEach(d -> f.add(d.toMap()));
            m.put("fields", f);
        }
        return m;
    }

    @Override
    public String toString() {
        return name + " (" + typeText() + ")";
    }

    /** Builds a {@link ParameterDeclaration}. */
    public static final class Builder {
        private final String name;
        private final ParameterType type;
        private String description = "";
        private Double minimum;
        private boolean minimumInclusive = true;
        private Double maximum;
        private boolean maximumInclusive = true;
        private final List<String> allowedValues = new ArrayList<>();
        private Object defaultValue;
        private boolean list;
        private boolean singleAllowed;
        private int minItems;
        private int maxItems = Integer.MAX_VALUE;
        private boolean required;
        private final List<ParameterDeclaration> fields = new ArrayList<>();

        private Builder(String name, ParameterType type) {
            if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_.-]*")) {
                throw new IllegalArgumentException("parameter name must be a letter or _ then letters, digits, _ . -;"
                        + " got " + name);
            }
            this.name = name;
            this.type = Objects.requireNonNull(type, "type");
        }

        /**
         * @param description one line saying what the parameter does
         * @return this
         */
        public Builder description(String description) {
            this.description = Objects.requireNonNull(description, "description");
            return this;
        }

        /**
         * An inclusive range {@code [min, max]}.
         *
         * @param min the lower bound
         * @param max the upper bound
         * @return this
         */
        public Builder range(double min, double max) {
            return range(min, true, max, true);
        }

        /**
         * @param min          the lower bound
         * @param minInclusive whether the bound itself is allowed
         * @param max          the upper bound
         * @param maxInclusive whether the bound itself is allowed
         * @return this
         */
        public Builder range(double min, boolean minInclusive, double max, boolean maxInclusive) {
            minimum(min, minInclusive);
            return maximum(max, maxInclusive);
        }

        /**
         * @param min       the lower bound
         * @param inclusive whether the bound itself is allowed
         * @return this
         */
        public Builder minimum(double min, boolean inclusive) {
            requireNumeric();
            this.minimum = min;
            this.minimumInclusive = inclusive;
            return this;
        }

        /**
         * @param max       the upper bound
         * @param inclusive whether the bound itself is allowed
         * @return this
         */
        public Builder maximum(double max, boolean inclusive) {
            requireNumeric();
            this.maximum = max;
            this.maximumInclusive = inclusive;
            return this;
        }

        private void requireNumeric() {
            if (type != ParameterType.NUMBER && type != ParameterType.INTEGER) {
                throw new IllegalArgumentException(name + ": a range needs a number or integer, not " + type.label());
            }
        }

        /**
         * @param values the values an {@link ParameterType#ENUM} allows
         * @return this
         */
        public Builder allowedValues(String... values) {
            if (type != ParameterType.ENUM) {
                throw new IllegalArgumentException(name + ": allowed values need an enum, not " + type.label());
            }
            allowedValues.addAll(List.of(values));
            return this;
        }

        /**
         * @param value the value used when the key is absent (documentation; the plugin applies it)
         * @return this
         */
        public Builder defaultValue(Object value) {
            this.defaultValue = value;
            return this;
        }

        /**
         * The request value is a list of items of the declared type.
         *
         * @return this
         */
        public Builder list() {
            this.list = true;
            return this;
        }

        /**
         * The request value is a list of items of the declared type, or a single item standing for a list of one.
         *
         * @return this
         */
        public Builder listOrSingle() {
            this.list = true;
            this.singleAllowed = true;
            return this;
        }

        /**
         * A list of exactly or between these many items.
         *
         * @param min the least number of items
         * @param max the most
         * @return this
         */
        public Builder list(int min, int max) {
            if (min < 0 || max < min) {
                throw new IllegalArgumentException(name + ": list size " + min + ".." + max);
            }
            this.list = true;
            this.minItems = min;
            this.maxItems = max;
            return this;
        }

        /**
         * A group field that must be present.
         *
         * @return this
         */
        public Builder required() {
            this.required = true;
            return this;
        }

        /**
         * @param field a field of this {@link ParameterType#GROUP}
         * @return this
         */
        public Builder field(ParameterDeclaration field) {
            if (type != ParameterType.GROUP) {
                throw new IllegalArgumentException(name + ": fields need a group, not " + type.label());
            }
            if (fields.stream().anyMatch(f -> f.name().equals(field.name()))) {
                throw new IllegalArgumentException(name + ": field '" + field.name() + "' declared twice");
            }
            fields.add(field);
            return this;
        }

        /** @return the declaration */
        public ParameterDeclaration build() {
            if (type == ParameterType.ENUM && allowedValues.isEmpty()) {
                throw new IllegalArgumentException(name + ": an enum needs allowed values");
            }
            if (type == ParameterType.GROUP && fields.isEmpty()) {
                throw new IllegalArgumentException(name + ": a group needs fields");
            }
            return new ParameterDeclaration(this);
        }
    }
}
