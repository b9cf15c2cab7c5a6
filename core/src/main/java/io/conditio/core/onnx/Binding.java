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
    private final Map<String, OnnxTensor> feed = new LinkedHashMap<>();
    private final Map<String, OnnxTensor> pinned = new LinkedHashMap<>();
    private final Map<String, Tensor> results = new LinkedHashMap<>();
    private boolean closed;

    /** A direct buffer and the tensor viewing it. */
    private static final class Slot implements AutoCloseable {
        final long[] shape;
        final ElementType type;
        final Buffer buffer;
        final OnnxTensor tensor;
        /** The shape of the value last written here when it needed no adaptation to the declared shape, else null. */
        int[] given;
        /** The Java view an output is read into, reused while the shape stays. */
        private io.conditio.api.FloatTensor view;

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

        /** @return whether {@code value} has the shape the slot was last given, so it needs no re-adaptation */
        boolean givenAs(Tensor value) {
            if (given == null || value.rank() != given.length) {
                return false;
            }
            for (int i = 0; i < given.length; i++) {
                if (value.dim(i) != given[i]) {
                    return false;
                }
            }
            return true;
        }

        /** Reads a float32 or float16 output into its reused Java view. */
        io.conditio.api.FloatTensor read() {
            if (view == null) {
                int[] s = new int[shape.length];
                for (int i = 0; i < s.length; i++) {
                    s[i] = Math.toIntExact(shape[i]);
                }
                long n = 1;
                for (long d : shape) {
                    n *= d;
                }
                view = io.conditio.api.FloatTensor.of(new float[Math.toIntExact(n)], s);
            }
            float[] dst = view.array();
            if (type == ElementType.FLOAT16) {
                Half.get((ShortBuffer) buffer, dst);
            } else {
                ((FloatBuffer) buffer).get(0, dst);
            }
            return view;
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

    /**
     * Runs the model on {@code feeds}, copying each into its native buffer (no Java allocation that scales with the
     * tensors once the buffers exist).
     *
     * <p>The returned map and its float32 tensors are reused by the next call: each output's values are read into
     * one Java array per output, kept from call to call while the shapes stay the same. Copy an output to keep it
     * past the next call.
     *
     * @param feeds the inputs by name
     * @return the outputs by name, valid until the next call
     */
    @Override
    public Map<String, Tensor> run(Map<String, ? extends Tensor> feeds) {
        if (closed) {
            throw new IllegalStateException("binding of " + model + " is closed");
        }
        model.checkNames(feeds);
        model.record(feeds);
        OrtEnvironment env = NativeRuntime.environment();
        try {
            for (TensorSpec spec : model.declaredInputs().values()) {
                Tensor value = feeds.get(spec.name());
                Slot slot = inputs.get(spec.name());
                if (slot == null || !slot.givenAs(value)) {
                    long[] shape = model.adaptShape(spec, value.shape(), value);
                    if (slot == null || !slot.fits(spec.elementType(), shape)) {
                        if (slot != null) {
                            slot.close();
                        }
                        slot = new Slot(env, spec.elementType(), shape);
                        inputs.put(spec.name(), slot);
                        feed.put(spec.name(), slot.tensor);
                    }
                    // a scalar input fed a vector is adapted (and its values checked) on every call
                    slot.given = spec.accepts(value.shape()) ? value.shape() : null;
                }
                fill(slot, spec, value);
            }
            OrtSession session = model.session();
            if (outputs.isEmpty()) {
                try (OrtSession.Result result = Cancellation.run(session, feed, null)) {
                    Map<String, Tensor> out = new LinkedHashMap<>();
                    for (Map.Entry<String, OnnxValue> e : result) {
                        Tensor t = model.fromOrt(e.getKey(), e.getValue());
                        out.put(e.getKey(), t);
                        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
                        TensorSpec declared = model.declaredOutputs().get(e.getKey());
                        ElementType type = declared != null && declared.elementType() == ElementType.FLOAT16
                                ? ElementType.FLOAT16 : t.elementType();
                        Slot slot = new Slot(env, type, shape);
                        outputs.put(e.getKey(), slot);
                        pinned.put(e.getKey(), slot.tensor);
                    }
                    return out;
                }
            }
            try {
                Cancellation.run(session, feed, pinned).close();
            } catch (OrtException e) {
                // a shape changed under a pinned output: drop the pins and run unpinned once
                closeAll(outputs);
                pinned.clear();
                results.clear();
                return run(feeds);
            }
            for (Map.Entry<String, Slot> e : outputs.entrySet()) {
                Slot slot = e.getValue();
                if (slot.type == ElementType.FLOAT32 || slot.type == ElementType.FLOAT16) {
                    results.put(e.getKey(), slot.read());
                } else {
                    results.put(e.getKey(), model.fromOrt(e.getKey(), slot.tensor));
                }
            }
            return results;
        } catch (OrtException e) {
            throw new ModelInputException("ONNX Runtime failed running " + model + ": " + e.getMessage(), e);
        }
    }

    /** Writes a value into its slot's buffer straight from the value's array. */
    private static void fill(Slot slot, TensorSpec spec, Tensor value) {
        int n = OnnxModel.feedCount(spec, value);
        switch (slot.type) {
            case FLOAT32 -> {
                FloatBuffer b = (FloatBuffer) slot.buffer;
                b.clear();
                if (value instanceof io.conditio.api.FloatTensor f) {
                    b.put(f.array(), 0, n);
                } else {
                    long[] l = ((io.conditio.api.LongTensor) value).array();
                    for (int i = 0; i < n; i++) {
                        b.put(l[i]);
                    }
                }
                b.flip();
            }
            case FLOAT16 -> {
                ShortBuffer b = (ShortBuffer) slot.buffer;
                b.clear();
                OnnxModel.putHalves(b, value, n);
                b.flip();
            }
            case INT64 -> {
                LongBuffer b = (LongBuffer) slot.buffer;
                b.clear();
                if (value instanceof io.conditio.api.LongTensor l) {
                    b.put(l.array(), 0, n);
                } else {
                    float[] f = ((io.conditio.api.FloatTensor) value).array();
                    for (int i = 0; i < n; i++) {
                        b.put((long) f[i]);
                    }
                }
                b.flip();
            }
            case INT32 -> {
                IntBuffer b = (IntBuffer) slot.buffer;
                b.clear();
                if (value instanceof io.conditio.api.LongTensor l) {
                    long[] a = l.array();
                    for (int i = 0; i < n; i++) {
                        b.put(Math.toIntExact(a[i]));
                    }
                } else {
                    float[] f = ((io.conditio.api.FloatTensor) value).array();
                    for (int i = 0; i < n; i++) {
                        b.put(Math.toIntExact((long) f[i]));
                    }
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
            feed.clear();
            pinned.clear();
            results.clear();
        }
    }
}
