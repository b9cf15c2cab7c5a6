package io.conditio.tck;

import io.conditio.api.ElementType;
import io.conditio.api.Model;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Model doubles: a UNet's declared inputs and outputs, for providers that decide by them. */
public final class TestModels {
    private TestModels() {
    }

    /**
     * A Stable Diffusion-style UNet signature: {@code sample [?, inChannels, ?, ?]}, {@code timestep},
     * {@code encoder_hidden_states [?, ?, 32]} in; {@code out_sample [?, outChannels, ?, ?]} out. Running it returns
     * the sample as its output.
     *
     * @param inChannels  the sample's channels (4 plain, 8 instruct-pix2pix, 9 inpainting)
     * @param outChannels the latent channels
     * @return the model
     */
    public static Model unet(int inChannels, int outChannels) {
        Map<String, TensorSpec> in = new LinkedHashMap<>();
        in.put("sample", new TensorSpec("sample", ElementType.FLOAT32, new long[] {-1, inChannels, -1, -1}));
        in.put("timestep", new TensorSpec("timestep", ElementType.FLOAT32, new long[] {-1}));
        in.put("encoder_hidden_states", new TensorSpec("encoder_hidden_states", ElementType.FLOAT32,
                new long[] {-1, -1, 32}));
        Map<String, TensorSpec> out = Map.of("out_sample", new TensorSpec("out_sample", ElementType.FLOAT32,
                new long[] {-1, outChannels, -1, -1}));
        return model("unet", in, out, inputs -> Map.of("out_sample", inputs.get("sample")));
    }

    /**
     * @param name    the component name
     * @param inputs  declared inputs
     * @param outputs declared outputs
     * @param run     what running it returns
     * @return the model
     */
    public static Model model(String name, Map<String, TensorSpec> inputs, Map<String, TensorSpec> outputs,
            Function<Map<String, ? extends Tensor>, Map<String, Tensor>> run) {
        Map<String, TensorSpec> i = Map.copyOf(inputs);
        Map<String, TensorSpec> o = Map.copyOf(outputs);
        return new Model() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Path path() {
                return Path.of("test-doubles", name, "model.onnx");
            }

            @Override
            public Map<String, TensorSpec> inputs() {
                return new LinkedHashMap<>(inputs);
            }

            @Override
            public Map<String, TensorSpec> outputs() {
                return o;
            }

            @Override
            public Map<String, Tensor> run(Map<String, ? extends Tensor> values) {
                return run.apply(values);
            }

            @Override
            public String toString() {
                return name + " (test double, inputs " + i.keySet() + ")";
            }
        };
    }
}
