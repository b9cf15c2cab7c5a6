package io.conditio.plugins.controlnet;

import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.Model;
import io.conditio.api.RgbImage;
import io.conditio.api.StepContext;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import io.conditio.api.UnetInputs;
import io.conditio.core.testing.FakeConditioningContext;
import io.conditio.core.testing.FakeModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Metadata-only models, a conditioning context, a step and a recording UnetInputs for unit tests. */
final class Fakes {
    static final int[] TINY_CHANNELS = {16, 16, 16, 16, 32, 32, 32, 32, 32};

    private Fakes() {
    }


    static TensorSpec spec(String name, ElementType type, long... shape) {
        return new TensorSpec(name, type, shape);
    }

    /** The tiny fixture's residual UNet (latents 4 channels, hidden size 32). */
    static FakeModel residualUnet(Path path) {
        FakeModel m = plainUnet(path);
        for (int i = 0; i < TINY_CHANNELS.length; i++) {
            m.in(spec("down_block_" + i + "_additional_residual", ElementType.FLOAT32, -1, TINY_CHANNELS[i], -1, -1));
        }
        m.in(spec(ResidualShapes.MID, ElementType.FLOAT32, -1, 32, -1, -1));
        return m;
    }

    static FakeModel plainUnet(Path path) {
        return new FakeModel(path)
                .in(spec("sample", ElementType.FLOAT32, -1, 4, -1, -1))
                .in(spec("timestep", ElementType.INT64))
                .in(spec("encoder_hidden_states", ElementType.FLOAT32, -1, -1, 32));
    }

    /**
     * A ControlNet with the tiny fixture's outputs. Residual k (mid: 9) of batch entry b is filled with
     * {@code (k + 1) * conditioning_scale * (1 + controlnet_cond[b, 0, 0, 0])}, shaped as the tiny UNet's.
     */
    static FakeModel controlNet(Path path) {
        FakeModel m = new FakeModel(path)
                .in(spec("sample", ElementType.FLOAT32, -1, 4, -1, -1))
                .in(spec("timestep", ElementType.INT64))
                .in(spec("encoder_hidden_states", ElementType.FLOAT32, -1, -1, 32))
                .in(spec("controlnet_cond", ElementType.FLOAT32, -1, 3, -1, -1))
                .in(spec("conditioning_scale", ElementType.FLOAT32));
        for (int i = 0; i < TINY_CHANNELS.length; i++) {
            m.out(spec("down_block_" + i + "_additional_residual", ElementType.FLOAT32, -1, TINY_CHANNELS[i], -1, -1));
        }
        m.out(spec(ResidualShapes.MID, ElementType.FLOAT32, -1, 32, -1, -1));
        m.runs(feed -> {
            FloatTensor sample = (FloatTensor) feed.get("sample");
            FloatTensor cond = (FloatTensor) feed.get("controlnet_cond");
            float scale = ((FloatTensor) feed.get("conditioning_scale")).get(0);
            int b = sample.dim(0);
            int h = sample.dim(2);
            int w = sample.dim(3);
            int[][] sizes = {{h, w}, {h, w}, {h, w}, {h / 2, w / 2}, {h / 2, w / 2}, {h / 2, w / 2}, {h / 4, w / 4},
                {h / 4, w / 4}, {h / 4, w / 4}, {h / 4, w / 4}};
            Map<String, Tensor> out = new LinkedHashMap<>();
            int per = cond.size() / b;
            for (int k = 0; k <= TINY_CHANNELS.length; k++) {
                int c = k < TINY_CHANNELS.length ? TINY_CHANNELS[k] : 32;
                int n = c * sizes[k][0] * sizes[k][1];
                float[] data = new float[b * n];
                for (int e = 0; e < b; e++) {
                    float v = (k + 1) * scale * (1 + cond.get(e * per));
                    java.util.Arrays.fill(data, e * n, (e + 1) * n, v);
                }
                String name = k < TINY_CHANNELS.length ? "down_block_" + k + "_additional_residual" : ResidualShapes.MID;
                out.put(name, FloatTensor.of(data, b, c, sizes[k][0], sizes[k][1]));
            }
            return out;
        });
        return m;
    }

    static RgbImage image(int w, int h, float value) {
        float[] px = new float[w * h * 3];
        java.util.Arrays.fill(px, value);
        return new RgbImage(w, h, px);
    }

    /** A context over a UNet; ControlNets are looked up by path. */
    static final class Context extends FakeConditioningContext {
        final Map<Path, Model> models = new LinkedHashMap<>();

        Context(GenerationRequest request, FakeModel unet, List<GuidanceBranch> branches, FakeModel... controlnets) {
            super(request, unet, branches);
            for (FakeModel m : controlnets) {
                models.put(m.path(), m);
            }
        }

        @Override
        public Model loadModel(Path modelFile) {
            Model m = models.get(modelFile);
            if (m == null) {
                throw new io.conditio.api.ModelLoadException("no fake model at " + modelFile);
            }
            return m;
        }

        /** The host's preprocessor lookup, faked: {@code none}, and {@code invert} (1 - x); others are unknown. */
        @Override
        public io.conditio.api.RgbImage preprocess(String name, io.conditio.api.RgbImage image, List<Path> models) {
            if (name.equals("none")) {
                return image;
            }
            if (!name.equals("invert")) {
                throw new io.conditio.api.InvalidRequestException("unknown --control-preprocess '" + name
                        + "'; the loaded plugins provide: invert, none");
            }
            float[] px = image.pixels().clone();
            for (int i = 0; i < px.length; i++) {
                px[i] = 1f - px[i];
            }
            return new io.conditio.api.RgbImage(image.width(), image.height(), px);
        }
    }

    /** A step of a run with {@code total} model calls. */
    static StepContext step(int index, int total, float timestep, List<GuidanceBranch> branches) {
        return new StepContext() {
            @Override
            public int stepIndex() {
                return index;
            }

            @Override
            public int totalSteps() {
                return total;
            }

            @Override
            public int inferenceSteps() {
                return total;
            }

            @Override
            public float timestep() {
                return timestep;
            }

            @Override
            public FloatTensor latents() {
                return FloatTensor.zeros(1, 4, 8, 8);
            }

            @Override
            public List<GuidanceBranch> branches() {
                return branches;
            }

            @Override
            public GenerationRequest request() {
                throw new UnsupportedOperationException();
            }

            @Override
            public void cancel() {
                throw new UnsupportedOperationException("cancel is not faked");
            }

            @Override
            public String toString() {
                return "step " + index;
            }
        };
    }

    /** UNet inputs as the core's: named values, residuals summed. */
    static final class Inputs implements UnetInputs {
        final FloatTensor sample;
        final Map<String, Tensor> named = new LinkedHashMap<>();

        Inputs(int batch, float timestep) {
            float[] s = new float[batch * 4 * 8 * 8];
            for (int i = 0; i < s.length; i++) {
                s[i] = i % 7;
            }
            sample = FloatTensor.of(s, batch, 4, 8, 8);
            named.put("timestep", FloatTensor.full(timestep, batch));
            float[] h = new float[batch * 77 * 32];
            for (int i = 0; i < h.length; i++) {
                h[i] = i / (float) h.length;
            }
            named.put("encoder_hidden_states", FloatTensor.of(h, batch, 77, 32));
        }

        @Override
        public FloatTensor sample() {
            return sample;
        }

        @Override
        public int batchSize() {
            return sample.dim(0);
        }

        @Override
        public void put(String name, Tensor value) {
            named.put(name, value);
        }

        @Override
        public void appendChannels(FloatTensor channels) {
            throw new AssertionError();
        }

        @Override
        public void addResidual(String name, FloatTensor value) {
            FloatTensor prev = (FloatTensor) named.get(name);
            named.put(name, prev == null ? value.copy() : prev.add(value));
        }

        @Override
        public Optional<Tensor> get(String name) {
            return Optional.ofNullable(named.get(name));
        }

        FloatTensor residual(String name) {
            return (FloatTensor) named.get(name);
        }
    }
}
