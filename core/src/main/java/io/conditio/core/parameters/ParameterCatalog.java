package io.conditio.core.parameters;

import io.conditio.api.Conditioner;
import io.conditio.api.ControlPreprocessor;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.PluginFailureException;
import io.conditio.api.SchedulerProvider;
import io.conditio.api.WeightPatcher;
import io.conditio.core.plugin.PluginGuard;
import io.conditio.core.plugin.PluginHost;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Every request parameter the loaded plugins (and the host itself) declare, with who declares it, and the
 * validation of requests against them.
 *
 * <p><b>Plugins built against SPI 0.1.0</b> could not declare parameters. An extension whose plugin's
 * {@code Plugin-Requires} admits 0.1.0 and that does not override {@code parameters()} is <em>undeclared</em>: it
 * still loads and runs, and while one is loaded a key that nobody declares is passed through unchecked (with a
 * warning naming the undeclared plugins), because such a plugin may read it. Declared keys are always checked. A
 * plugin requiring 0.2.0 or later that does not override {@code parameters()} declares that it reads none.
 *
 * <p>Keys starting with {@value #ANNOTATION_PREFIX} are annotations a host adds for provenance (the file an image
 * was read from, e.g. {@code source.init_image}); they are never validated.
 */
public final class ParameterCatalog {
    /** Prefix of request keys that annotate other keys (for provenance) and are not parameters. */
    public static final String ANNOTATION_PREFIX = "source.";
    /** The owner name of the host's own parameters. */
    public static final String HOST = "host";

    /**
     * One declared key.
     *
     * @param declaration the declaration (the first one, when several plugins declare the key alike)
     * @param owners      who declares it, e.g. {@code conditioner text (text-conditioning@0.1.0)}
     */
    public record Entry(ParameterDeclaration declaration, List<String> owners) {
    }

    private final Map<String, Entry> entries;
    private final List<String> undeclared;
    private final List<String> conflicts;

    private ParameterCatalog(Builder b) {
        Map<String, Entry> e = new TreeMap<>();
        b.entries.forEach((k, v) -> e.put(k, new Entry(v.declaration(), List.copyOf(v.owners()))));
        this.entries = Collections.unmodifiableMap(e);
        this.undeclared = List.copyOf(b.undeclared);
        this.conflicts = List.copyOf(b.conflicts);
    }

    /** @return a builder for hosts and tests that assemble a catalog themselves */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The parameters the host reads itself: img2img and inpainting keys of the denoise loop.
     *
     * @return the declarations
     */
    public static List<ParameterDeclaration> hostParameters() {
        return List.of(
                ParameterDeclaration.builder("init_image", ParameterType.IMAGE)
                        .description("img2img / inpainting: the image to start from (--init-image)").build(),
                ParameterDeclaration.builder("strength", ParameterType.NUMBER).range(0, false, 1, true)
                        .defaultValue(0.8)
                        .description("img2img: the fraction of the schedule that runs (1.0 with a mask)").build(),
                ParameterDeclaration.builder("mask_image", ParameterType.IMAGE)
                        .description("inpainting mask, white = repaint, with init_image (--mask)").build(),
                ParameterDeclaration.builder("mask_blend", ParameterType.BOOLEAN)
                        .description("inpainting: keep the unmasked area by latent blending after every step "
                                + "(default: on for a regular UNet, off for an inpainting UNet)").build());
    }

    /**
     * The catalog of a plugin host: the host's parameters and those of every conditioner, guidance provider,
     * scheduler provider, weight patcher and control preprocessor.
     *
     * @param host the plugin host
     * @return the catalog
     * @throws PluginFailureException when a plugin's {@code parameters()} fails or returns null entries
     */
    public static ParameterCatalog of(PluginHost host) {
        return of(host.view());
    }

    /**
     * The catalog of one view of a plugin host's plugins, as {@link #of(PluginHost)} says.
     *
     * @param view the plugins, as a generation sees them
     * @return the catalog
     * @throws PluginFailureException when a plugin's {@code parameters()} fails or returns null entries
     */
    public static ParameterCatalog of(PluginHost.View view) {
        PluginHost host = view.host();
        PluginGuard guard = new PluginGuard(host);
        Builder b = builder().add(HOST, hostParameters());
        for (Conditioner c : view.extensions(Conditioner.class)) {
            b.addExtension(host, guard, c, "conditioner " + c.id());
        }
        for (GuidanceProvider g : view.extensions(GuidanceProvider.class)) {
            b.addExtension(host, guard, g, "guidance " + g.id());
        }
        for (SchedulerProvider s : view.extensions(SchedulerProvider.class)) {
            b.addExtension(host, guard, s, "scheduler " + String.join("/", s.classNames()));
        }
        for (WeightPatcher w : view.extensions(WeightPatcher.class)) {
            b.addExtension(host, guard, w, "weight patcher " + w.id());
        }
        for (ControlPreprocessor p : view.extensions(ControlPreprocessor.class)) {
            b.addExtension(host, guard, p, "preprocessor " + p.name());
        }
        return b.build();
    }

    /** @return the declared keys with their declarations and owners, sorted by key */
    public Map<String, Entry> entries() {
        return entries;
    }

    /**
     * @param key a request key
     * @return its declaration, or empty when no plugin declares it
     */
    public Optional<ParameterDeclaration> declaration(String key) {
        Entry e = entries.get(key);
        return e == null ? Optional.empty() : Optional.of(e.declaration());
    }

    /**
     * @return the extensions of plugins built against SPI 0.1.0 that declare nothing, e.g.
     *     {@code conditioner leaky (leaky-plugin@1.0.0)}; while any is loaded, undeclared keys pass unchecked
     */
    public List<String> undeclaredOwners() {
        return undeclared;
    }

    /** @return one line per key that two plugins declare differently (the first declaration is used) */
    public List<String> conflicts() {
        return conflicts;
    }

    /**
     * Validates request parameters against the declarations: every key must be declared (unless an undeclared
     * plugin is loaded, see the class comment) and every value must have its declared type and range.
     *
     * @param parameters the request parameters
     * @return warnings: the undeclared keys passed through to undeclared plugins; empty when all keys are declared
     * @throws InvalidRequestException listing every problem: an unknown key with the nearest known name and all the
     *     known keys, a value of the wrong type or out of range with the bound
     */
    public List<String> validate(Map<String, ?> parameters) {
        List<String> problems = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, ?> p : parameters.entrySet()) {
            String key = p.getKey();
            if (key.startsWith(ANNOTATION_PREFIX)) {
                continue;
            }
            Entry e = entries.get(key);
            if (e == null) {
                unknown.add(key);
                continue;
            }
            if (p.getValue() != null) {
                e.declaration().check(p.getValue()).ifPresent(m -> problems.add("request parameter " + m));
            }
        }
        List<String> warnings = new ArrayList<>();
        if (!unknown.isEmpty() && !undeclared.isEmpty()) {
            for (String key : unknown) {
                warnings.add("request parameter '" + key + "' is declared by no plugin; passed on unchecked "
                        + "because these plugins were built against SPI 0.1.0 and declare nothing: "
                        + String.join(", ", undeclared));
            }
        } else {
            for (String key : unknown) {
                problems.add(unknownKey(key));
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidRequestException(String.join("; ", problems)
                    + (unknown.isEmpty() || !undeclared.isEmpty() ? ""
                            : "; the known parameters are: " + String.join(", ", entries.keySet())));
        }
        return warnings;
    }

    /**
     * @param key a key no plugin declares
     * @return "unknown request parameter 'KEY' (did you mean 'NEAR'?)"
     */
    public String unknownKey(String key) {
        return "unknown request parameter '" + key + "'" + ParameterDeclaration.nearest(key, entries.keySet())
                .map(n -> " (did you mean '" + n + "'?)").orElse("");
    }

    /**
     * @return a JSON Schema (draft 2020-12) of the request's {@code parameters} object, as nested maps and lists
     *     (write it with {@link io.conditio.core.json.Json#writePretty}); every property carries its owners in
     *     {@code x-conditio-owners}
     */
    public Map<String, Object> jsonSchema() {
        Map<String, Object> s = objectSchema("Conditio request parameters");
        Map<String, Object> props = new LinkedHashMap<>();
        entries.forEach((k, e) -> {
            Map<String, Object> p = JsonSchemas.of(e.declaration());
            p.put("x-conditio-owners", e.owners());
            props.put(k, p);
        });
        s.put("properties", props);
        Map<String, Object> annotations = new LinkedHashMap<>();
        annotations.put("type", "string");
        annotations.put("description", "a host's note for provenance, e.g. the file an image was read from");
        s.put("patternProperties", Map.of("^source\\.", annotations));
        // while an undeclared plugin is loaded it may read keys nobody declares
        s.put("additionalProperties", !undeclared.isEmpty());
        return s;
    }

    /**
     * @return a JSON Schema (draft 2020-12) of a whole recipe / request document: {@code id, model, prompt,
     *     negative_prompt, seed, steps, guidance_scale, width, height, scheduler, scheduler_config} and
     *     {@code parameters}, whose schema is {@link #jsonSchema()}
     */
    public Map<String, Object> recipeJsonSchema() {
        Map<String, Object> s = objectSchema("Conditio recipe");
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("id", field("string", "a name for the request (output file names, manifests)"));
        props.put("model", field("string", "model folder, relative to the recipe file"));
        props.put("prompt", field("string", "what to draw"));
        props.put("negative_prompt", field("string", "what to steer away from"));
        props.put("seed", field("integer", "seed of the torch-compatible generator"));
        Map<String, Object> steps = field("integer", "inference steps");
        steps.put("minimum", 1);
        props.put("steps", steps);
        Map<String, Object> scale = field("number", "classifier-free guidance scale; 1 or less turns it off");
        scale.put("minimum", 0);
        props.put("guidance_scale", scale);
        Map<String, Object> width = field("integer", "width in pixels");
        width.put("minimum", 1);
        props.put("width", width);
        Map<String, Object> height = field("integer", "height in pixels (default: as width)");
        height.put("minimum", 1);
        props.put("height", height);
        props.put("scheduler", field("string", "scheduler name (conditio plugins lists them) or diffusers class"));
        props.put("scheduler_config", field("object", "diffusers scheduler config keys on top of the model's"));
        Map<String, Object> parameters = jsonSchema();
        parameters.remove("$schema");
        props.put("parameters", parameters);
        s.put("properties", props);
        s.put("additionalProperties", false);
        return s;
    }

    /** A draft 2020-12 schema of an object, with its title: the start of both documents' schemas. */
    private static Map<String, Object> objectSchema(String title) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        s.put("title", title);
        s.put("type", "object");
        return s;
    }

    private static Map<String, Object> field(String type, String description) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        m.put("description", description);
        return m;
    }

    /** Assembles a catalog. */
    public static final class Builder {
        private final Map<String, Entry> entries = new LinkedHashMap<>();
        private final List<String> undeclared = new ArrayList<>();
        private final List<String> conflicts = new ArrayList<>();

        private Builder() {
        }

        /**
         * @param owner        who declares them, e.g. {@code conditioner text (text-conditioning@0.1.0)}
         * @param declarations the declarations
         * @return this
         */
        public Builder add(String owner, List<ParameterDeclaration> declarations) {
            for (ParameterDeclaration d : declarations) {
                Entry e = entries.get(d.name());
                if (e == null) {
                    List<String> owners = new ArrayList<>();
                    owners.add(owner);
                    entries.put(d.name(), new Entry(d, owners));
                } else if (e.declaration().compatibleWith(d)) {
                    e.owners().add(owner);
                } else {
                    conflicts.add("request parameter '" + d.name() + "' is declared as " + e.declaration().typeText()
                            + " by " + String.join(", ", e.owners()) + " but as " + d.typeText() + " by " + owner
                            + "; the first is used");
                    e.owners().add(owner);
                }
            }
            return this;
        }

        /**
         * @param owner an extension that declares nothing (built against SPI 0.1.0)
         * @return this
         */
        public Builder addUndeclared(String owner) {
            undeclared.add(owner);
            return this;
        }

        private void addExtension(PluginHost host, PluginGuard guard, Object extension, String what) {
            String owner = what + " (" + host.origin(extension) + ")";
            if (!overridesParameters(extension) && host.admits(extension, "0.1.0")) {
                addUndeclared(owner);
                return;
            }
            List<ParameterDeclaration> declared = guard.call(extension, "parameters", () -> declarations(extension));
            if (declared == null || declared.stream().anyMatch(d -> d == null)) {
                throw new PluginFailureException("parameters() of " + owner + " returned "
                        + (declared == null ? "null" : "a null entry") + "; expected a list of declarations");
            }
            add(owner, declared);
        }

        private static List<ParameterDeclaration> declarations(Object extension) {
            if (extension instanceof Conditioner c) {
                return c.parameters();
            }
            if (extension instanceof GuidanceProvider g) {
                return g.parameters();
            }
            if (extension instanceof SchedulerProvider s) {
                return s.parameters();
            }
            if (extension instanceof WeightPatcher w) {
                return w.parameters();
            }
            return ((ControlPreprocessor) extension).parameters();
        }

        private static boolean overridesParameters(Object extension) {
            try {
                Method m = extension.getClass().getMethod("parameters");
                return !m.getDeclaringClass().isInterface();
            } catch (NoSuchMethodException e) {
                return false;
            }
        }

        /** @return the catalog */
        public ParameterCatalog build() {
            return new ParameterCatalog(this);
        }
    }
}
