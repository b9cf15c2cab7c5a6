package io.conditio.plugins.film;

import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.LongTensor;
import io.conditio.api.Model;
import io.conditio.api.ModelConfig;
import io.conditio.api.Ordinals;
import io.conditio.api.StepContext;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.pf4j.Extension;

/**
 * Conditions that a UNet adds to its timestep embedding (FiLM-style): class labels, SDXL's size conditions
 * ({@code time_ids}) and Latent Consistency Models' guidance embedding ({@code timestep_cond}). It acts only when the
 * UNet declares the matching input, and then always provides it; asking for a condition the UNet cannot take is an
 * {@link InvalidRequestException}. SDXL's {@code text_embeds} is not provided here (the text conditioning gives it).
 *
 * <h2>UNet inputs</h2>
 * <ul>
 *   <li>{@code class_labels} int64 {@code [B]}: branches that keep condition kind {@value #KIND} get
 *       {@code class_label}, branches that drop it (the unconditional branch drops everything) get
 *       {@code null_class_label}. A UNet declaring it as float32 gets the same values as floats.</li>
 *   <li>{@code time_ids} float32 {@code [B, 6]}: {@code original_size + crops_coords_top_left + target_size},
 *       identical for every branch (diffusers' {@code _get_add_time_ids}). A UNet declaring {@code [B, 5]} (the SDXL
 *       refiner) gets {@code original_size + crops_coords_top_left + (aesthetic_score,)}, with
 *       {@code negative_aesthetic_score} in branches that drop kind {@code aesthetic}.</li>
 *   <li>{@code timestep_cond} float32 {@code [B, D]}: diffusers' {@code get_guidance_scale_embedding(w, D)} with
 *       {@code w = guidance_scale - 1}, the same row for every batch entry. {@code D} comes from the input's declared
 *       shape, else {@code time_cond_proj_dim} in {@code unet/config.json}.</li>
 * </ul>
 *
 * <h2>Request parameters ({@link io.conditio.api.GenerationRequest#parameters()})</h2>
 * <table>
 *   <caption>keys read by this conditioner</caption>
 *   <tr><th>key</th><th>type</th><th>CLI flag</th><th>meaning</th></tr>
 *   <tr><td>{@value #CLASS_LABEL}</td><td>Long or Integer</td><td>{@code --class-label N}</td>
 *       <td>the class of the conditional branch; without it every branch gets the null class (an error only when
 *       the null class is unknown); refused
 *       when it does not. Must be in {@code [0, num_class_embeds)} when {@code unet/config.json} says
 *       {@code num_class_embeds}.</td></tr>
 *   <tr><td>{@value #NULL_CLASS_LABEL}</td><td>Long or Integer</td><td>{@code --null-class-label N}</td>
 *       <td>the class of branches that drop the class (the unconditional one); default
 *       {@code num_class_embeds - 1} from {@code unet/config.json}; required when that is unknown and guidance
 *       runs an unconditional branch.</td></tr>
 *   <tr><td>{@value #ORIGINAL_SIZE}</td><td>List of two Numbers (height, width)</td>
 *       <td>{@code --original-size W,H} gives {@code [H, W]}</td><td>default (height, width) of the
 *       generation</td></tr>
 *   <tr><td>{@value #CROP_TOP_LEFT}</td><td>List of two Numbers (top, left)</td>
 *       <td>{@code --crop-top-left X,Y} gives {@code [Y, X]}</td><td>default (0, 0)</td></tr>
 *   <tr><td>{@value #TARGET_SIZE}</td><td>List of two Numbers (height, width)</td>
 *       <td>{@code --target-size W,H} gives {@code [H, W]}</td><td>default (height, width) of the
 *       generation</td></tr>
 *   <tr><td>{@value #AESTHETIC_SCORE}</td><td>Number</td><td>(none yet)</td><td>refiner UNets only; default 6.0</td></tr>
 *   <tr><td>{@value #NEGATIVE_AESTHETIC_SCORE}</td><td>Number</td><td>(none yet)</td><td>refiner UNets only;
 *       default 2.5</td></tr>
 *   <tr><td>{@value #GUIDANCE_EMBEDDING_SCALE}</td><td>Number</td><td>(none yet)</td><td>the guidance scale the
 *       {@code timestep_cond} embedding encodes ({@code w = value - 1}); default the request's guidance scale. For
 *       LCMs run without classifier-free guidance (guidance scale 1) as diffusers' LCM pipeline does.</td></tr>
 * </table>
 * The size keys, the aesthetic scores and {@value #GUIDANCE_EMBEDDING_SCALE} are refused when the UNet has no
 * {@code time_ids} / {@code timestep_cond} input.
 *
 * <p>Provenance (prefixed {@code film.}): {@code class_label}, {@code null_class_label}, {@code time_ids},
 * {@code timestep_cond}.
 */
@Extension(ordinal = Ordinals.ADDED_CONDITIONS)
public final class FilmConditioner implements Conditioner {
    /** The condition kind of class labels in {@link GuidanceBranch#drops}. */
    public static final String KIND = "class";
    /** Request key: the class label of the conditional branch. */
    public static final String CLASS_LABEL = "class_label";
    /** Request key: the class label of branches that drop the class. */
    public static final String NULL_CLASS_LABEL = "null_class_label";
    /** Request key: SDXL original size, (height, width). */
    public static final String ORIGINAL_SIZE = "original_size";
    /** Request key: SDXL crop coordinates, (top, left). */
    public static final String CROP_TOP_LEFT = "crops_coords_top_left";
    /** Request key: SDXL target size, (height, width). */
    public static final String TARGET_SIZE = "target_size";
    /** Request key: SDXL refiner aesthetic score. */
    public static final String AESTHETIC_SCORE = "aesthetic_score";
    /** Request key: SDXL refiner aesthetic score of branches that drop it. */
    public static final String NEGATIVE_AESTHETIC_SCORE = "negative_aesthetic_score";
    /** Request key: the guidance scale encoded in {@code timestep_cond}. */
    public static final String GUIDANCE_EMBEDDING_SCALE = "guidance_embedding_scale";

    static final String CLASS_INPUT = "class_labels";
    static final String TIME_IDS_INPUT = "time_ids";
    static final String TIMESTEP_COND_INPUT = "timestep_cond";
    private static final String AESTHETIC_KIND = "aesthetic";

    @Override
    public String id() {
        return "film";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(
                ParameterDeclaration.builder(CLASS_LABEL, ParameterType.INTEGER).minimum(0, true)
                        .description("class of the conditional branch, for a class-conditional UNet (--class-label)")
                        .build(),
                ParameterDeclaration.builder(NULL_CLASS_LABEL, ParameterType.INTEGER).minimum(0, true)
                        .description("class of the unconditional branch (default: the UNet's last class; "
                                + "--null-class-label)").build(),
                size(ORIGINAL_SIZE, "SDXL added condition: original size as [height, width] (--original-size W,H)"),
                size(CROP_TOP_LEFT, "SDXL added condition: crop origin as [top, left] (--crop-top-left X,Y)"),
                size(TARGET_SIZE, "SDXL added condition: target size as [height, width] (--target-size W,H)"),
                ParameterDeclaration.builder(AESTHETIC_SCORE, ParameterType.NUMBER).defaultValue(6.0)
                        .description("SDXL refiner: aesthetic score of the conditional branch").build(),
                ParameterDeclaration.builder(NEGATIVE_AESTHETIC_SCORE, ParameterType.NUMBER).defaultValue(2.5)
                        .description("SDXL refiner: aesthetic score of the unconditional branch").build(),
                ParameterDeclaration.builder(GUIDANCE_EMBEDDING_SCALE, ParameterType.NUMBER)
                        .description("guidance scale encoded in timestep_cond (LCM; default: the request's "
                                + "guidance scale)").build());
    }

    private static ParameterDeclaration size(String key, String description) {
        return ParameterDeclaration.builder(key, ParameterType.INTEGER).list(2, 2).minimum(0, true)
                .description(description).build();
    }

    @Override
    public Optional<Conditioning> prepare(ConditioningContext context) {
        Model unet = context.unet();
        Map<String, TensorSpec> inputs = unet.inputs();
        Map<String, Object> parameters = context.request().parameters();
        TensorSpec classSpec = inputs.get(CLASS_INPUT);
        TensorSpec timeIdsSpec = inputs.get(TIME_IDS_INPUT);
        TensorSpec condSpec = inputs.get(TIMESTEP_COND_INPUT);
        refuseUnusable(unet, parameters, classSpec, timeIdsSpec, condSpec);
        if (classSpec == null && timeIdsSpec == null && condSpec == null) {
            return Optional.empty();
        }
        List<GuidanceBranch> branches = context.branches();
        int batch = branches.size();
        ModelConfig config = unet.config();
        Map<String, Tensor> values = new LinkedHashMap<>();
        List<UnetInputDeclaration> declarations = new ArrayList<>();
        Map<String, String> provenance = new LinkedHashMap<>();
        if (classSpec != null) {
            Tensor labels = classLabels(unet, classSpec, parameters, branches, config, provenance);
            values.put(CLASS_INPUT, labels);
            declarations.add(UnetInputDeclaration.input(CLASS_INPUT, labels.elementType(), labels.shape(),
                    "--class-label (film-conditioning)"));
        }
        if (timeIdsSpec != null) {
            FloatTensor timeIds = timeIds(unet, timeIdsSpec, parameters, branches, context.height(),
                    context.width(), provenance);
            values.put(TIME_IDS_INPUT, timeIds);
            declarations.add(UnetInputDeclaration.input(TIME_IDS_INPUT, ElementType.FLOAT32, timeIds.shape(),
                    "SDXL size conditions --original-size/--crop-top-left/--target-size (film-conditioning)"));
        }
        if (condSpec != null) {
            FloatTensor cond = timestepCond(unet, condSpec, context, batch, config, provenance);
            values.put(TIMESTEP_COND_INPUT, cond);
            declarations.add(UnetInputDeclaration.input(TIMESTEP_COND_INPUT, ElementType.FLOAT32, cond.shape(),
                    "LCM guidance embedding (film-conditioning)"));
        }
        return Optional.of(new FilmConditioning(values, declarations, provenance));
    }

    private static void refuseUnusable(Model unet, Map<String, Object> parameters, TensorSpec classSpec,
            TensorSpec timeIdsSpec, TensorSpec condSpec) {
        if (classSpec == null) {
            if (parameters.get(CLASS_LABEL) != null) {
                throw new InvalidRequestException("--class-label needs a UNet with a class_labels input; "
                        + unet.path() + " has none");
            }
            if (parameters.get(NULL_CLASS_LABEL) != null) {
                throw new InvalidRequestException("--null-class-label needs a UNet with a class_labels input; "
                        + unet.path() + " has none");
            }
        }
        if (timeIdsSpec == null) {
            List<String> given = SizeConditions.KEYS.stream().filter(k -> parameters.get(k) != null).toList();
            if (!given.isEmpty()) {
                throw new InvalidRequestException("request parameters " + given + " (--original-size, "
                        + "--crop-top-left, --target-size) need an SDXL UNet with a time_ids input; " + unet.path()
                        + " has none");
            }
        }
        if (condSpec == null && parameters.get(GUIDANCE_EMBEDDING_SCALE) != null) {
            throw new InvalidRequestException("request parameter '" + GUIDANCE_EMBEDDING_SCALE + "' needs a UNet "
                    + "with a timestep_cond input (a Latent Consistency Model); " + unet.path() + " has none");
        }
    }

    private static Tensor classLabels(Model unet, TensorSpec spec, Map<String, Object> parameters,
            List<GuidanceBranch> branches, ModelConfig config, Map<String, String> provenance) {
        Long label = integral(parameters, CLASS_LABEL, "--class-label");
        // an embedding table only when class_embed_type is null; other types take arbitrary values
        boolean table = config.string("class_embed_type").isEmpty();
        OptionalLong classes = table ? config.integer("num_class_embeds") : OptionalLong.empty();
        Long nullLabel = integral(parameters, NULL_CLASS_LABEL, "--null-class-label");
        if (label == null) {
            // no class asked for: every branch gets the null class, as the model was trained to run without one
            if (nullLabel == null && classes.isEmpty()) {
                throw new InvalidRequestException(unet.path() + " is class-conditional (it takes class_labels): give "
                        + "the class with --class-label (request parameter '" + CLASS_LABEL + "'), or the null "
                        + "class with --null-class-label to run it unconditioned on class");
            }
            label = nullLabel != null ? nullLabel : classes.getAsLong() - 1;
            checkRange(unet, label, "--null-class-label", classes);
            provenance.put(CLASS_LABEL, "none (null class " + label + ")");
            long[] labels = new long[branches.size()];
            java.util.Arrays.fill(labels, label);
            return labelTensor(spec, labels);
        }
        checkRange(unet, label, "--class-label", classes);
        provenance.put(CLASS_LABEL, Long.toString(label));
        boolean needsNull = branches.stream().anyMatch(b -> b.drops(KIND));
        if (nullLabel == null && needsNull) {
            if (classes.isEmpty()) {
                throw new InvalidRequestException("guidance needs a null class for " + unet.path() + " but its "
                        + "number of classes is unknown (no num_class_embeds in "
                        + config.source().map(Object::toString).orElse("a config.json beside it")
                        + "): pass null_class_label (--null-class-label)");
            }
            nullLabel = classes.getAsLong() - 1;
        }
        if (nullLabel != null) {
            checkRange(unet, nullLabel, "--null-class-label", classes);
            if (needsNull) {
                provenance.put(NULL_CLASS_LABEL, Long.toString(nullLabel));
            }
        }
        long[] labels = new long[branches.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = branches.get(i).drops(KIND) ? nullLabel : label;
        }
        return labelTensor(spec, labels);
    }

    /** @return the labels as int64 {@code [B]}, or as float32 when the UNet declares its input so */
    private static Tensor labelTensor(TensorSpec spec, long[] labels) {
        if (spec.elementType() != ElementType.FLOAT32) {
            return LongTensor.of(labels, labels.length);
        }
        float[] f = new float[labels.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = labels[i];
        }
        return FloatTensor.of(f, f.length);
    }

    private static void checkRange(Model unet, long label, String flag, OptionalLong classes) {
        if (classes.isPresent() && (label < 0 || label >= classes.getAsLong())) {
            throw new InvalidRequestException(flag + " " + label + " is out of range: " + unet.path() + " has "
                    + classes.getAsLong() + " classes, 0 to " + (classes.getAsLong() - 1));
        }
    }

    private static Long integral(Map<String, Object> parameters, String key, String flag) {
        Object v = parameters.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Number n && Double.isFinite(n.doubleValue()) && n.doubleValue() == Math.rint(n.doubleValue())
                && Math.abs(n.doubleValue()) < 1e15) {
            return (long) n.doubleValue();
        }
        throw new InvalidRequestException("request parameter '" + key + "' (" + flag + ") must be an integer, got "
                + v + " (" + v.getClass().getSimpleName() + ")");
    }

    private static FloatTensor timeIds(Model unet, TensorSpec spec, Map<String, Object> parameters,
            List<GuidanceBranch> branches, int height, int width, Map<String, String> provenance) {
        long columns = spec.rank() == 2 ? spec.dim(1) : -1;
        if (spec.rank() != 2 || (columns >= 0 && columns != 6 && columns != 5)) {
            throw new InvalidRequestException(unet.path() + " declares " + spec + "; expected time_ids [batch, 6] "
                    + "(SDXL) or [batch, 5] (SDXL refiner)");
        }
        int batch = branches.size();
        if (columns == 5) {
            float[] data = new float[batch * 5];
            List<String> rows = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                float[] row = SizeConditions.refinerTimeIds(parameters, height, width,
                        branches.get(b).drops(AESTHETIC_KIND));
                System.arraycopy(row, 0, data, b * 5, 5);
                rows.add(format(row));
            }
            provenance.put("time_ids", String.join(" ", rows));
            return FloatTensor.of(data, batch, 5);
        }
        float[] row = SizeConditions.timeIds(parameters, height, width);
        provenance.put("time_ids", format(row));
        return repeatRow(row, batch);
    }

    /** @return {@code [batch, row.length]}, {@code row} in every entry */
    private static FloatTensor repeatRow(float[] row, int batch) {
        float[] data = new float[row.length * batch];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(row, 0, data, b * row.length, row.length);
        }
        return FloatTensor.of(data, batch, row.length);
    }

    private static String format(float[] row) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < row.length; i++) {
            float v = row[i];
            s.append(i == 0 ? "" : ", ").append(v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v)
                    : Float.toString(v));
        }
        return s.append(']').toString();
    }

    private static FloatTensor timestepCond(Model unet, TensorSpec spec, ConditioningContext context, int batch,
            ModelConfig config, Map<String, String> provenance) {
        long dim = spec.rank() == 2 ? spec.dim(1) : -2;
        if (dim == -2) {
            throw new InvalidRequestException(unet.path() + " declares " + spec + "; expected timestep_cond "
                    + "[batch, dim]");
        }
        if (dim < 0) {
            dim = config.integer("time_cond_proj_dim").orElseThrow(() -> new InvalidRequestException(
                    unet.path() + " leaves the size of timestep_cond dynamic and no config.json beside it gives "
                            + "time_cond_proj_dim"));
        }
        Object given = context.request().parameters().get(GUIDANCE_EMBEDDING_SCALE);
        double scale;
        if (given == null) {
            scale = context.request().guidanceScale();
        } else if (given instanceof Number n && Double.isFinite(n.doubleValue())) {
            scale = n.doubleValue();
        } else {
            throw new InvalidRequestException("request parameter '" + GUIDANCE_EMBEDDING_SCALE
                    + "' must be a finite number, got " + given);
        }
        float w = (float) (scale - 1.0);
        float[] row = GuidanceScaleEmbedding.embed(w, Math.toIntExact(dim));
        provenance.put("timestep_cond", "guidance embedding w=" + w + " dim=" + dim);
        return repeatRow(row, batch);
    }

    /** The fixed inputs of one generation: the same tensors for every UNet call. */
    private static final class FilmConditioning implements Conditioning {
        private final Map<String, Tensor> values;
        private final List<UnetInputDeclaration> declarations;
        private final Map<String, String> provenance;

        FilmConditioning(Map<String, Tensor> values, List<UnetInputDeclaration> declarations,
                Map<String, String> provenance) {
            this.values = values;
            this.declarations = List.copyOf(declarations);
            this.provenance = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
        }

        @Override
        public List<UnetInputDeclaration> provides() {
            return declarations;
        }

        @Override
        public void contribute(StepContext step, UnetInputs inputs) {
            int batch = inputs.batchSize();
            for (Map.Entry<String, Tensor> e : values.entrySet()) {
                // prepared with one entry per branch; with several images per prompt the host repeats them for
                // every image, so the call's batch is a whole multiple of it
                int prepared = e.getValue().dim(0);
                if (prepared < 1 || batch % prepared != 0) {
                    throw new IllegalStateException(e.getKey() + " was prepared for a batch of "
                            + e.getValue().dim(0) + " but the UNet call has " + batch + " "
                            + Arrays.toString(e.getValue().shape()));
                }
                inputs.put(e.getKey(), e.getValue());
            }
        }

        @Override
        public Map<String, String> provenance() {
            return provenance;
        }
    }
}
