package io.conditio.plugins.controlnet;

import io.conditio.api.ModelConfig;
import io.conditio.api.Ordinals;
import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.RgbImage;
import io.conditio.api.TensorSpec;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.UnetVariantNeed;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * ControlNet residual hints. Every UNet call, each active ControlNet runs on the call's scaled latents, timestep and
 * {@code encoder_hidden_states} (so this conditioner comes after the text conditioning, {@code ordinal 50}) with its
 * control image, and its outputs {@code down_block_{i}_additional_residual} and {@code mid_block_additional_residual}
 * are added by name to the UNet's residual inputs; several ControlNets are summed. As diffusers'
 * {@code StableDiffusionControlNetPipeline}:
 * <ul>
 *   <li>the control image goes to every batch entry ({@code controlnet_cond [B, 3, H, W]}, values in [0, 1]), and
 *       {@code conditioning_scale} to the model (a ControlNet without that input is scaled here instead);</li>
 *   <li>control start/end: a ControlNet acts on step {@code i} of {@code n} model calls only when
 *       {@code not (i / n < start or (i + 1) / n > end)} ({@code controlnet_keep}); on other steps it contributes
 *       zeros without being run (diffusers runs it with scale 0, which gives the same zeros);</li>
 *   <li>guess mode: the ControlNet runs only on the batch entries whose guidance branch keeps condition kind
 *       {@value #KIND} (with classifier-free guidance: the conditional half), the others get zeros, and the down
 *       residual {@code k} of {@code N} is scaled by {@code logspace(-1, 0, N + 1)[k] × scale} (the mid residual by
 *       {@code 1.0 × scale}), as {@code ControlNetModel.forward}; not for ControlNets whose {@code config.json} sets
 *       {@code global_pool_conditions}. diffusers applies guess mode to all ControlNets of a pipeline; here each
 *       ControlNet has its own setting;</li>
 *   <li>other ControlNet inputs (an SDXL ControlNet's {@code text_embeds}, {@code time_ids}) are taken from the same
 *       UNet call, as set by the conditionings before this one.</li>
 * </ul>
 * A UNet that takes residuals while no ControlNet is requested gets zeros. Their shapes are derived from the UNet
 * without running anything (see {@link ResidualShapes}: declared channels, the down-block structure, and the latent
 * size); when that is impossible the request is refused with a message saying so. With ControlNets, steps where none
 * acts get zeros shaped like the last ControlNet output (or the derived shapes before the first run; when those are
 * unknown the first ControlNet is run once with scale 0 to learn them).
 *
 * <h2>Request parameter ({@link io.conditio.api.GenerationRequest#parameters()})</h2>
 * {@value #CONTROLNETS}: a {@code List<Map<String, Object>>}, one map per ControlNet (the CLI's
 * {@code --controlnet DIR --control-image IMG [--control-scale S] [--control-start A] [--control-end B]
 * [--guess-mode] [--control-preprocess NAME [--preprocess-model FILE]...]} gives one map). Keys:
 * <table>
 *   <caption>keys of one ControlNet entry</caption>
 *   <tr><th>key</th><th>type</th><th>CLI flag</th><th>meaning</th></tr>
 *   <tr><td>{@value #MODEL}</td><td>{@link java.nio.file.Path} (a String is accepted too)</td>
 *       <td>{@code --controlnet}</td><td>required: a ControlNet folder holding {@code model.onnx}, or the
 *       {@code .onnx} file; loaded through {@link ConditioningContext#loadModel} (owned and cached by the
 *       pipeline)</td></tr>
 *   <tr><td>{@value #IMAGE}</td><td>{@link RgbImage}</td><td>{@code --control-image}</td><td>required: the
 *       control image, already loaded, values in [0, 1]. When its size differs from the generation's it is resized
 *       bilinearly (pixel centres aligned, no antialiasing; diffusers uses PIL Lanczos, so give the image at the output
 *       size for exact parity)</td></tr>
 *   <tr><td>{@value #SCALE}</td><td>Number</td><td>{@code --control-scale}</td><td>{@code conditioning_scale},
 *       default 1.0</td></tr>
 *   <tr><td>{@value #START}</td><td>Number</td><td>{@code --control-start}</td><td>fraction of the steps where the
 *       ControlNet starts acting, default 0.0</td></tr>
 *   <tr><td>{@value #END}</td><td>Number</td><td>{@code --control-end}</td><td>fraction of the steps where it stops,
 *       default 1.0; {@code 0 <= start < end <= 1}</td></tr>
 *   <tr><td>{@value #GUESS_MODE}</td><td>Boolean</td><td>{@code --guess-mode}</td><td>diffusers' guess mode,
 *       default false</td></tr>
 *   <tr><td>{@value #PREPROCESS}</td><td>String</td><td>{@code --control-preprocess}</td><td>{@code none}
 *       (default) or the name of a loaded {@link io.conditio.api.ControlPreprocessor} ({@code canny}, {@code depth},
 *       ... as {@code conditio plugins} lists them), run on the control image after resizing</td></tr>
 *   <tr><td>{@value #PREPROCESS_MODELS}</td><td>{@code List<Path>}</td><td>{@code --preprocess-model}</td><td>model
 *       files of an ONNX preprocessor</td></tr>
 * </table>
 *
 * <p>Provenance (prefixed {@code controlnet.}): per ControlNet {@code i}: {@code i.model}, {@code i.scale},
 * {@code i.start}, {@code i.end}, {@code i.guess_mode}, {@code i.preprocess}, {@code i.image}; or
 * {@code residuals} when the UNet got zeros because no ControlNet was requested.
 */
@Extension(ordinal = Ordinals.RESIDUALS)
public final class ControlNetConditioner implements Conditioner {
    /** The condition kind guidance branches drop to be left out of guess mode. */
    public static final String KIND = "control";
    /** Request key: the list of ControlNets. */
    public static final String CONTROLNETS = "controlnets";
    /** ControlNet entry key: the model folder or file. */
    public static final String MODEL = "model";
    /** ControlNet entry key: the control image. */
    public static final String IMAGE = "image";
    /** ControlNet entry key: the conditioning scale. */
    public static final String SCALE = "scale";
    /** ControlNet entry key: control guidance start. */
    public static final String START = "start";
    /** ControlNet entry key: control guidance end. */
    public static final String END = "end";
    /** ControlNet entry key: guess mode. */
    public static final String GUESS_MODE = "guess_mode";
    /** ControlNet entry key: the preprocessor. */
    public static final String PREPROCESS = "preprocess";
    /** ControlNet entry key: the preprocessor's model files (a List of Paths). */
    public static final String PREPROCESS_MODELS = "preprocess_models";

    static final String SAMPLE = "sample";
    static final String TIMESTEP = "timestep";
    static final String HIDDEN = "encoder_hidden_states";
    static final String COND = "controlnet_cond";
    static final String COND_SCALE = "conditioning_scale";
    private static final Set<String> OWN_INPUTS = Set.of(SAMPLE, TIMESTEP, HIDDEN, COND, COND_SCALE);
    /**
     * With ControlNets: the model folder's {@code unet-controlnet/}, the UNet export with the residual inputs
     * ({@code down_block_{i}_additional_residual}, {@code mid_block_additional_residual}), unless {@code unet/} has them.
     */
    static final UnetVariantNeed UNET_VARIANT = new UnetVariantNeed("unet-controlnet", ".*_additional_residual");
    /** The {@value #CONTROLNETS} parameter: one group per ControlNet; its fields are the keys an entry may have. */
    static final ParameterDeclaration DECLARATION = ParameterDeclaration.builder(CONTROLNETS, ParameterType.GROUP)
            .list()
            .description("one group per ControlNet (--controlnet DIR --control-image IMG ...)")
            .field(ParameterDeclaration.builder(MODEL, ParameterType.FILE).required()
                    .description("ControlNet ONNX folder (model.onnx) or file").build())
            .field(ParameterDeclaration.builder(IMAGE, ParameterType.IMAGE).required()
                    .description("the control image").build())
            .field(ParameterDeclaration.builder(SCALE, ParameterType.NUMBER).defaultValue(1.0)
                    .description("conditioning scale").build())
            .field(ParameterDeclaration.builder(START, ParameterType.NUMBER).range(0, 1).defaultValue(0.0)
                    .description("fraction of the steps where it starts acting").build())
            .field(ParameterDeclaration.builder(END, ParameterType.NUMBER).range(0, 1).defaultValue(1.0)
                    .description("fraction of the steps where it stops acting").build())
            .field(ParameterDeclaration.builder(GUESS_MODE, ParameterType.BOOLEAN).defaultValue(false)
                    .description("on the conditional branch only, scales ramped").build())
            .field(ParameterDeclaration.builder(PREPROCESS, ParameterType.STRING).defaultValue("none")
                    .description("name of a control preprocessor run on the image (conditio plugins lists them)")
                    .build())
            .field(ParameterDeclaration.builder(PREPROCESS_MODELS, ParameterType.FILE).list()
                    .description("model files of an ONNX preprocessor (depth, dwpose)").build())
            .build();

    @Override
    public String id() {
        return "controlnet";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(DECLARATION);
    }

    @Override
    public Optional<UnetVariantNeed> unetVariant(GenerationRequest request) {
        return request.parameters().get(CONTROLNETS) instanceof java.util.Collection<?> c && !c.isEmpty()
                ? Optional.of(UNET_VARIANT) : Optional.empty();
    }

    @Override
    public Optional<Conditioning> prepare(ConditioningContext context) {
        Model unet = context.unet();
        List<String> unetResiduals = ResidualShapes.residuals(unet.inputs().keySet());
        List<ControlNetRequest> requests = ControlNetRequest.parse(context.request().parameters().get(CONTROLNETS));
        int batch = context.branches().size();
        int[] latent = context.latentShape();
        ModelConfig unetConfig = unet.config();
        Map<String, String> provenance = new LinkedHashMap<>();
        if (requests.isEmpty()) {
            if (unetResiduals.isEmpty()) {
                return Optional.empty();
            }
            ResidualShapes.Derived shapes = ResidualShapes.derive(unet.inputs(), batch, latent[2], latent[3],
                    unetConfig);
            if (!shapes.complete()) {
                throw new InvalidRequestException(unet.path() + " takes ControlNet residuals (" + unetResiduals
                        + ") but no --controlnet was given, and the shapes of the zeros it needs cannot be derived "
                        + "from its declared inputs and " + shapes.source() + " (unknown: " + shapes.unknown()
                        + "): give a --controlnet (with --control-scale 0 for no effect)");
            }
            provenance.put("residuals", "zeros (no --controlnet); shapes from " + shapes.source());
            return Optional.of(new ControlNetConditioning(List.of(), unetResiduals, shapes, provenance));
        }
        if (unetResiduals.isEmpty()) {
            throw new InvalidRequestException("--controlnet needs a UNet with ControlNet residual inputs "
                    + "(down_block_0_additional_residual ...); " + unet.path() + " has none");
        }
        List<String> problems = new ArrayList<>();
        List<ControlNetConditioning.Net> nets = new ArrayList<>();
        ModelConfig firstConfig = ModelConfig.empty();
        for (int i = 0; i < requests.size(); i++) {
            ControlNetRequest r = requests.get(i);
            Model model = context.loadModel(r.model());
            problems.addAll(check(model, unet, unetResiduals, latent[1], context.width(), context.height()));
            if (r.image().width() < latent[3] || r.image().height() < latent[2]) {
                // resized up from fewer pixels than the latent grid has cells, it carries no layout to follow
                throw new InvalidRequestException("ControlNet " + i + ": the control image is " + r.image().width()
                        + "x" + r.image().height() + ", smaller than the " + latent[3] + "x" + latent[2]
                        + " latent grid of a " + context.width() + "x" + context.height() + " generation; give a "
                        + "control image of at least " + latent[3] + "x" + latent[2] + " (best: the output size)");
            }
            RgbImage image = r.image().resizedBilinear(context.width(), context.height());
            image = context.preprocess(r.preprocess(), image, r.preprocessModels());
            ModelConfig config = model.config();
            if (i == 0) {
                firstConfig = config;
            }
            nets.add(new ControlNetConditioning.Net(r, model, image, config.flag("global_pool_conditions")));
            provenance.put(i + ".model", model.path().toString());
            provenance.put(i + ".scale", Double.toString(r.scale()));
            provenance.put(i + ".start", Double.toString(r.start()));
            provenance.put(i + ".end", Double.toString(r.end()));
            provenance.put(i + ".guess_mode", Boolean.toString(r.guessMode()));
            provenance.put(i + ".preprocess", r.preprocess());
            provenance.put(i + ".image", r.image().width() + "x" + r.image().height()
                    + (image.width() == r.image().width() && image.height() == r.image().height() ? ""
                            : " resized (bilinear) to " + image.width() + "x" + image.height()));
        }
        if (!problems.isEmpty()) {
            throw new InvalidRequestException("the ControlNet does not fit the UNet: " + String.join("; ", problems));
        }
        ResidualShapes.Derived shapes = ResidualShapes.derive(unet.inputs(), batch, latent[2], latent[3],
                unetConfig);
        if (!shapes.complete() && unetConfig.source().isEmpty() && firstConfig.source().isPresent()) {
            shapes = ResidualShapes.derive(unet.inputs(), batch, latent[2], latent[3], firstConfig);
        }
        return Optional.of(new ControlNetConditioning(nets, unetResiduals, shapes, provenance));
    }

    /** What makes a ControlNet unusable with this UNet, in words; empty when it fits. */
    private static List<String> check(Model controlnet, Model unet, List<String> unetResiduals, int latentChannels,
            int width, int height) {
        List<String> problems = new ArrayList<>();
        Map<String, TensorSpec> in = controlnet.inputs();
        String cn = "ControlNet " + controlnet.path();
        for (String required : List.of(SAMPLE, TIMESTEP, HIDDEN, COND)) {
            if (!in.containsKey(required)) {
                problems.add(cn + " has no '" + required + "' input (it declares " + in.keySet() + "; expected "
                        + "sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale)");
            }
        }
        for (String name : in.keySet()) {
            if (!OWN_INPUTS.contains(name) && !unet.inputs().containsKey(name)) {
                problems.add(cn + " needs input '" + name + "', which " + unet.path() + " does not take, so no "
                        + "conditioning provides it");
            }
        }
        List<String> outputs = ResidualShapes.residuals(controlnet.outputs().keySet());
        List<String> extra = outputs.stream().filter(n -> !unetResiduals.contains(n)).toList();
        List<String> missing = unetResiduals.stream().filter(n -> !outputs.contains(n)).toList();
        if (!extra.isEmpty() || !missing.isEmpty()) {
            List<String> parts = new ArrayList<>();
            if (!extra.isEmpty()) {
                parts.add("outputs " + extra + ", which " + unet.path() + " does not take");
            }
            if (!missing.isEmpty()) {
                parts.add("does not output " + missing + ", which " + unet.path() + " takes");
            }
            problems.add(cn + " " + String.join(", and ", parts));
        }
        TensorSpec sample = in.get(SAMPLE);
        if (sample != null && sample.rank() == 4 && sample.dim(1) >= 0 && sample.dim(1) != latentChannels) {
            problems.add(cn + " takes " + sample + " but the latents have " + latentChannels + " channels");
        }
        TensorSpec hidden = in.get(HIDDEN);
        TensorSpec unetHidden = unet.inputs().get(HIDDEN);
        if (hidden != null && unetHidden != null && hidden.rank() == 3 && unetHidden.rank() == 3
                && hidden.dim(2) >= 0 && unetHidden.dim(2) >= 0 && hidden.dim(2) != unetHidden.dim(2)) {
            problems.add(cn + " takes " + hidden + " but " + unet.path() + " takes " + unetHidden
                    + " (a ControlNet for another base model)");
        }
        TensorSpec cond = in.get(COND);
        if (cond != null && cond.rank() == 4 && ((cond.dim(2) >= 0 && cond.dim(2) != height)
                || (cond.dim(3) >= 0 && cond.dim(3) != width))) {
            problems.add(cn + " takes " + cond + " but the generation is " + width + "x" + height);
        }
        return problems;
    }
}
