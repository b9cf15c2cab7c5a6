package io.conditio.core.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.conditio.api.ElementType;
import io.conditio.api.Model;
import io.conditio.api.ModelConfig;
import io.conditio.api.ModelInputException;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Repeated runs of one model with reused native memory: each input is copied into a direct buffer owned by the
 * binding, which ONNX Runtime reads in place, and outputs are written into pinned buffers allocated after the first
 * run. Buffers are reallocated only when a shape changes. float16 inputs and outputs have float16 buffers, converted
 * from and to the callers' float32 while filling and reading them. Not thread-safe; see {@link OnnxModel#bind()}.
 */
public final class Binding implements Model, AutoCloseable {
    private final OnnxModel model;
    private final Map<String, Slot> inputs = new LinkedHashMap<>();
    private final Map<String, Slot> outputs = new LinkedHashMap<>();
    private boolean closed;

    /** A direct buffer and the tensor viewing it. */
    private static final class Slot implements AutoCloseable {
        final long[] shape;
        final ElementType type;
        final Buffer buffer;
        final OnnxTensor tensor;

        Slot(OrtEnvironment env, ElementType type, long[] shape) throws OrtException {
            this.shape = shape;
            this.type = type;
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            int width = switch (type) {
                case FLOAT16 -> 2;
                case INT32, FLOAT32 -> 4;
                default -> 8;
            };
            int bytes = Math.toIntExact(n * width);
            ByteBuffer raw = ByteBuffer.allocateDirect(Math.max(bytes, 8)).order(ByteOrder.nativeOrder());
            switch (type) {
                case FLOAT32 -> {
                    FloatBuffer b = raw.asFloatBuffer();
                    b.limit((int) n);
                    buffer = b;
                    tensor = OnnxTensor.createTensor(env, b, shape);
                }
                case FLOAT16 -> {
                    ShortBuffer b = raw.asShortBuffer();
                    b.limit((int) n);
                    buffer = b;
                    tensor = OnnxTensor.createTensor(env, b, shape, OnnxJavaType.FLOAT16);
                }
                case INT64 -> {
                    LongBuffer b = raw.asLongBuffer();
                    b.limit((int) n);
                    buffer = b;
                    tensor = OnnxTensor.createTensor(env, b, shape);
                }
                case INT32 -> {
                    IntBuffer b = raw.asIntBuffer();
                    b.limit((int) n);
                    buffer = b;
                    tensor = OnnxTensor.createTensor(env, b, shape);
                }
                default -> throw new IllegalArgumentException("cannot bind " + type);
            }
            NativeObjects.tensorCreated();
        }

        boolean fits(ElementType t, long[] s) {
            return type == t && Arrays.equals(shape, s);
        }

        @Override
        public void close() {
            tensor.close();
            NativeObjects.tensorClosed();
        }
    }

    Binding(OnnxModel model) {
        this.model = model;
    }

    @Override
    public String name() {
        return model.name();
    }

    @Override
    public Path path() {
        return model.path();
    }

    @Override
    public ModelConfig config() {
        return model.config();
    }

    @Override
    public Map<String, TensorSpec> inputs() {
        return model.inputs();
    }

    @Override
    public Map<String, TensorSpec> outputs() {
        return model.outputs();
    }

    @Override
    public Map<String, Tensor> run(Map<String, ? extends Tensor> feeds) {
        if (closed) {
            throw new IllegalStateException("binding of " + model + " is closed");
        }
        model.checkNames(feeds);
        model.record(feeds);
        OrtEnvironment env = NativeRuntime.environment();
        try {
            Map<String, OnnxTensor> ort = new LinkedHashMap<>();
            for (TensorSpec spec : model.declaredInputs().values()) {
                Tensor value = feeds.get(spec.name());
                long[] shape = model.adaptShape(spec, value.shape(), value);
                Slot slot = inputs.get(spec.name());
                if (slot == null || !slot.fits(spec.elementType(), shape)) {
                    if (slot != null) {
                        slot.close();
                    }
                    slot = new Slot(env, spec.elementType(), shape);
                    inputs.put(spec.name(), slot);
                }
                fill(slot, spec, value);
                ort.put(spec.name(), slot.tensor);
            }
            OrtSession session = model.session();
            if (outputs.isEmpty()) {
                try (OrtSession.Result result = Cancellation.run(session, ort, null)) {
                    Map<String, Tensor> out = new LinkedHashMap<>();
                    for (Map.Entry<String, OnnxValue> e : result) {
                        Tensor t = model.fromOrt(e.getKey(), e.getValue());
                        out.put(e.getKey(), t);
                        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
                        TensorSpec declared = model.declaredOutputs().get(e.getKey());
                        ElementType type = declared != null && declared.elementType() == ElementType.FLOAT16
                                ? ElementType.FLOAT16 : t.elementType();
                        outputs.put(e.getKey(), new Slot(env, type, shape));
                    }
                    return out;
                }
            }
            Map<String, OnnxTensor> pinned = new LinkedHashMap<>();
            outputs.forEach((k, v) -> pinned.put(k, v.tensor));
            try {
                Cancellation.run(session, ort, pinned).close();
            } catch (OrtException e) {
                // a shape changed under a pinned output: drop the pins and run unpinned once
                closeAll(outputs);
                return run(feeds);
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, Slot> e : outputs.entrySet()) {
                Slot slot = e.getValue();
                if (slot.type == ElementType.FLOAT16) {
                    ShortBuffer b = (ShortBuffer) slot.buffer;
                    b.rewind();
                    int[] shape = Arrays.stream(slot.shape).mapToInt(Math::toIntExact).toArray();
                    out.put(e.getKey(), io.conditio.api.FloatTensor.of(Half.toFloats(b), shape));
                } else {
                    out.put(e.getKey(), model.fromOrt(e.getKey(), slot.tensor));
                }
            }
            return out;
        } catch (OrtException e) {
            throw new ModelInputException("ONNX Runtime failed running " + model + ": " + e.getMessage(), e);
        }
    }

    private void fill(Slot slot, TensorSpec spec, Tensor value) {
        switch (slot.type) {
            case FLOAT32 -> {
                FloatBuffer b = (FloatBuffer) slot.buffer;
                b.clear();
                b.put(model.asFloats(spec, value));
                b.flip();
            }
            case FLOAT16 -> {
                ShortBuffer b = (ShortBuffer) slot.buffer;
                b.clear();
                OnnxModel.putHalves(b, value, OnnxModel.feedCount(spec, value));
                b.flip();
            }
            case INT64 -> {
                LongBuffer b = (LongBuffer) slot.buffer;
                b.clear();
                b.put(model.asLongs(spec, value));
                b.flip();
            }
            case INT32 -> {
                IntBuffer b = (IntBuffer) slot.buffer;
                b.clear();
                for (long v : model.asLongs(spec, value)) {
                    b.put(Math.toIntExact(v));
                }
                b.flip();
            }
            default -> throw new IllegalStateException(slot.type.toString());
        }
    }

    private static void closeAll(Map<String, Slot> slots) {
        List<Slot> all = new ArrayList<>(slots.values());
        slots.clear();
        all.forEach(Slot::close);
    }

    /** @return how many native buffers the binding holds (inputs and pinned outputs) */
    public int buffers() {
        return inputs.size() + outputs.size();
    }

    /** Releases the native buffers. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeAll(inputs);
            closeAll(outputs);
        }
    }
}
