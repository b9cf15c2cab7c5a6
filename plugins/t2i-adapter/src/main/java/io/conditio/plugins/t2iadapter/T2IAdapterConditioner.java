package io.conditio.plugins.t2iadapter;

import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.Ordinals;
import io.conditio.api.RgbImage;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.UnetVariantNeed;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * T2I-Adapter, as diffusers' {@code StableDiffusionAdapterPipeline} and {@code StableDiffusionXLAdapterPipeline}.
 * Each requested adapter model (diffusers {@code T2IAdapter} I/O: one condition image input {@code [B, C, H, W]} in
 * [0, 1], pixel-unshuffled inside the model; one feature map per UNet down block out) runs once per generation on
 * its condition image; its features are multiplied by {@code adapter_conditioning_scale}, several adapters are
 * summed feature by feature with their own scales (diffusers' {@code MultiAdapter}), and the sums go, the same for
 * every batch entry (both halves of classifier-free guidance), to the UNet's inputs
 * {@code down_intrablock_additional_residual_{i}} (feature {@code i} to input {@code i}). The UNet adds them inside its
 * down blocks (diffusers' {@code down_intrablock_additional_residuals}). SD 1.5-style pipelines apply them on every
 * step; SDXL's only while {@code i < int(steps × adapter_conditioning_factor)}: here each adapter has a factor,
 * default 1.0 (every step, the SD 1.5 behaviour); on steps where no adapter acts the UNet gets zeros. A UNet with
 * those inputs while no adapter is requested gets zeros too (shapes from its declared inputs and config).
 *
 * <p>The condition image is resized (bilinear) to the generation size, then preprocessed by the named
 * {@link io.conditio.api.ControlPreprocessor} (as for ControlNets), then given as RGB when the adapter takes 3
 * channels or as luma ({@code 0.299 R + 0.587 G + 0.114 B}, what PIL's {@code convert("L")} computes) when it takes 1
 * (the SD 1.5 sketch and canny adapters).
 *
 * <h2>Request parameter</h2>
 * {@value #ADAPTERS}: a {@code List<Map<String, Object>>}, one per adapter (CLI {@code --t2i-adapter DIR
 * --adapter-image IMG [--adapter-scale S] [--adapter-factor F] [--control-preprocess NAME]}, repeatable), keys
 * {@value #MODEL} (Path), {@value #IMAGE} (RgbImage), {@value #SCALE} (default 1.0), {@value #FACTOR} (default 1.0),
 * {@value #PREPROCESS} (default {@code none}), {@value #PREPROCESS_MODELS} (List of Paths).
 *
 * <p>Provenance (prefixed {@code t2i-adapter.}): per adapter {@code i}: {@code i.model}, {@code i.scale},
 * {@code i.factor}, {@code i.preprocess}, {@code i.image}.
 */
@Extension(ordinal = Ordinals.ADAPTER_FEATURES)
public final class T2IAdapterConditioner implements Conditioner {
    /** Request key: the list of adapters. */
    public static final String ADAPTERS = "t2i_adapters";
    /** Entry key: the adapter folder or file. */
    public static final String MODEL = "model";
    /** Entry key: the condition image. */
    public static final String IMAGE = "image";
    /** Entry key: {@code adapter_conditioning_scale}. */
    public static final String SCALE = "scale";
    /** Entry key: {@code adapter_conditioning_factor}. */
    public static final String FACTOR = "factor";
    /** Entry key: the preprocessor. */
    public static final String PREPROCESS = "preprocess";
    /** Entry key: the preprocessor's model files. */
    public static final String PREPROCESS_MODELS = "preprocess_models";
    /** The UNet input prefix: {@code down_intrablock_additional_residual_{i}}. */
    public static final String INPUT_PREFIX = "down_intrablock_additional_residual_";
    /**
     * With adapters: the model folder's {@code unet-adapter/}, the UNet export with those inputs, unless
     * {@code unet/} has them.
     */
    static final UnetVariantNeed UNET_VARIANT = new UnetVariantNeed("unet-adapter",
            "down_intrablock_additional_residual.*");
    /** The {@value #ADAPTERS} parameter: one group per adapter; its fields are the keys an entry may have. */
    static final ParameterDeclaration DECLARATION = ParameterDeclaration.builder(ADAPTERS, ParameterType.GROUP).list()
            .description("one group per T2I-Adapter (--t2i-adapter DIR --adapter-image IMG ...)")
            .field(ParameterDeclaration.builder(MODEL, ParameterType.FILE).required()
                    .description("T2I-Adapter ONNX folder (model.onnx) or file").build())
            .field(ParameterDeclaration.builder(IMAGE, ParameterType.IMAGE).required()
                    .description("the condition image (a sketch, edges, depth ...)").build())
            .field(ParameterDeclaration.builder(SCALE, ParameterType.NUMBER).defaultValue(1.0)
                    .description("adapter_conditioning_scale").build())
            .field(ParameterDeclaration.builder(FACTOR, ParameterType.NUMBER).range(0, 1).defaultValue(1.0)
                    .description("adapter_conditioning_factor: acts while step < int(steps x factor)").build())
            .field(ParameterDeclaration.builder(PREPROCESS, ParameterType.STRING).defaultValue("none")
                    .description("name of a control preprocessor run on the image").build())
            .field(ParameterDeclaration.builder(PREPROCESS_MODELS, ParameterType.FILE).list()
                    .description("model files of an ONNX preprocessor").build())
            .build();

    @Override
    public String id() {
        return "t2i-adapter";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(DECLARATION);
    }

    @Override
    public Optional<UnetVariantNeed> unetVariant(GenerationRequest request) {
        return request.parameters().get(ADAPTERS) instanceof java.util.Collection<?> c && !c.isEmpty()
                ? Optional.of(UNET_VARIANT) : Optional.empty();
    }

    @Override
    public Optional<Conditioning> prepare(ConditioningContext context) {
        Model unet = context.unet();
        List<String> inputs = unetInputs(unet);
        List<AdapterRequest> requests = AdapterRequest.parse(context.request().parameters().get(ADAPTERS));
        int batch = context.branches().size();
        Map<String, String> provenance = new LinkedHashMap<>();
        if (requests.isEmpty()) {
            if (inputs.isEmpty()) {
                return Optional.empty();
            }
            List<int[]> shapes = ZeroShapes.derive(unet, inputs, batch, context.latentShape());
            provenance.put("features", "zeros (no --t2i-adapter)");
            return Optional.of(new T2IAdapterConditioning(List.of(), inputs, shapes, provenance));
        }
        if (inputs.isEmpty()) {
            throw new InvalidRequestException("--t2i-adapter needs a UNet with T2I-Adapter inputs (" + INPUT_PREFIX
                    + "0 ...); " + unet.path() + " has none (a model folder may ship one in unet-adapter/)");
        }
        List<T2IAdapterConditioning.Features> all = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            AdapterRequest r = requests.get(i);
            Model model = context.loadModel(r.model());
            RgbImage image = r.image().resizedBilinear(context.width(), context.height());
            image = context.preprocess(r.preprocess(), image, r.preprocessModels());
            List<FloatTensor> features = run(model, image, inputs, unet);
            all.add(new T2IAdapterConditioning.Features(r, features));
            provenance.put(i + ".model", model.path().toString());
            provenance.put(i + ".scale", Double.toString(r.scale()));
            provenance.put(i + ".factor", Double.toString(r.factor()));
            provenance.put(i + ".preprocess", r.preprocess());
            provenance.put(i + ".image", r.image().width() + "x" + r.image().height()
                    + (image.width() == r.image().width() && image.height() == r.image().height() ? ""
                            : " resized (bilinear) to " + image.width() + "x" + image.height()));
        }
        List<int[]> shapes = new ArrayList<>();
        for (FloatTensor f : all.get(0).features()) {
            int[] s = f.shape();
            s[0] = batch;
            shapes.add(s);
        }
        return Optional.of(new T2IAdapterConditioning(all, inputs, shapes, provenance));
    }

    /** The UNet's adapter inputs, by index. */
    static List<String> unetInputs(Model unet) {
        return unet.inputs().keySet().stream().filter(n -> n.startsWith(INPUT_PREFIX))
                .sorted(Comparator.comparingInt(T2IAdapterConditioner::index)).toList();
    }

    static int index(String name) {
        int end = name.length();
        int start = end;
        while (start > 0 && Character.isDigit(name.charAt(start - 1))) {
            start--;
        }
        return start == end ? Integer.MAX_VALUE : Integer.parseInt(name.substring(start, end));
    }

    /** Runs the adapter once on the condition image; checks its features against the UNet's inputs. */
    static List<FloatTensor> run(Model adapter, RgbImage image, List<String> unetInputs, Model unet) {
        String where = "T2I-Adapter " + adapter.path();
        if (adapter.inputs().size() != 1) {
            throw new InvalidRequestException(where + " declares inputs " + adapter.inputs().keySet()
                    + "; expected one condition image input [B, C, H, W]");
        }
        Map.Entry<String, TensorSpec> in = adapter.inputs().entrySet().iterator().next();
        TensorSpec spec = in.getValue();
        long channels = spec.rank() == 4 ? spec.dim(1) : -2;
        if (channels != 1 && channels != 3) {
            throw new InvalidRequestException(where + " takes " + in.getKey() + " " + spec
                    + "; expected [B, 1 or 3, H, W]");
        }
        if ((spec.dim(2) > 0 && spec.dim(2) != image.height()) || (spec.dim(3) > 0 && spec.dim(3) != image.width())) {
            throw new InvalidRequestException(where + " takes " + spec + " but the generation is " + image.width()
                    + "x" + image.height());
        }
        FloatTensor x = channels == 3 ? image.toNchw() : Images.luma(image);
        Map<String, Tensor> out = adapter.run(Map.of(in.getKey(), x));
        List<String> names = new ArrayList<>(out.keySet());
        names.sort(Comparator.comparingInt(T2IAdapterConditioner::index));
        if (names.size() != unetInputs.size()) {
            throw new InvalidRequestException(where + " gives " + names.size() + " feature maps " + names + " but "
                    + unet.path() + " takes " + unetInputs.size() + " " + unetInputs
                    + " (an adapter for another UNet)");
        }
        List<FloatTensor> features = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            if (!(out.get(names.get(i)) instanceof FloatTensor f) || f.rank() != 4) {
                throw new InvalidRequestException(where + " gave " + out.get(names.get(i)) + " for '"
                        + names.get(i) + "'; expected a float [1, C, h, w]");
            }
            TensorSpec want = unet.inputs().get(unetInputs.get(i));
            for (int axis = 1; axis < 4; axis++) {
                if (want.rank() == 4 && want.dim(axis) >= 0 && want.dim(axis) != f.dim(axis)) {
                    problems.add(names.get(i) + " " + java.util.Arrays.toString(f.shape()) + " does not fit "
                            + unetInputs.get(i) + " " + want);
                    break;
                }
            }
            features.add(f);
        }
        if (!problems.isEmpty()) {
            throw new InvalidRequestException(where + " does not fit " + unet.path() + ": "
                    + String.join("; ", problems));
        }
        return features;
    }
}
