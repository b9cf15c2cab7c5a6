package io.conditio.core.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.conditio.api.FloatTensor;
import io.conditio.api.LongTensor;
import io.conditio.api.ModelInputException;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The floor a denoise loop is measured against: the feeds one real generation gave a model, recorded and turned into
 * native tensors once, then run again as bare ONNX Runtime calls into pinned outputs allocated once, so a replay
 * costs what ONNX Runtime costs on the loop's own data and nothing else.
 */
public final class Replay implements AutoCloseable {
    private final OnnxModel model;
    private final List<Map<String, OnnxTensor>> calls = new ArrayList<>();
    private final Map<String, OnnxTensor> outputs = new LinkedHashMap<>();
    private boolean closed;

    private Replay(OnnxModel model) {
        this.model = model;
    }

    /**
     * Records every call {@code work} makes to {@code model} on this thread and prepares their replay.
     *
     * @param model the model, e.g. the pipeline's UNet
     * @param work  what calls it, e.g. one generation
     * @return the replay; close it to free its native tensors
     * @throws IllegalStateException when {@code work} did not call the model
     */
    public static Replay record(OnnxModel model, Runnable work) {
        List<Map<String, Tensor>> recorded = new ArrayList<>();
        Thread self = Thread.currentThread();
        model.recordFeeds(feeds -> {
            if (Thread.currentThread() == self) {
                Map<String, Tensor> copy = new LinkedHashMap<>();
                feeds.forEach((k, v) -> copy.put(k, copyOf(v)));
                recorded.add(copy);
            }
        });
        try {
            work.run();
        } finally {
            model.recordFeeds(null);
        }
        if (recorded.isEmpty()) {
            throw new IllegalStateException("nothing called " + model + " while recording");
        }
        Replay replay = new Replay(model);
        try {
            replay.prepare(recorded);
            return replay;
        } catch (OrtException | RuntimeException e) {
            replay.close();
            throw e instanceof RuntimeException r ? r
                    : new ModelInputException("preparing the replay of " + model + ": " + e.getMessage(), e);
        }
    }

    private static Tensor copyOf(Tensor t) {
        if (t instanceof FloatTensor f) {
            return FloatTensor.of(f.array().clone(), f.shape());
        }
        LongTensor l = (LongTensor) t;
        return LongTensor.of(l.array().clone(), l.shape());
    }

    private void prepare(List<Map<String, Tensor>> recorded) throws OrtException {
        OrtEnvironment env = NativeRuntime.environment();
        for (Map<String, Tensor> feeds : recorded) {
            Map<String, OnnxTensor> call = new LinkedHashMap<>();
            calls.add(call);
            for (TensorSpec spec : model.declaredInputs().values()) {
                call.put(spec.name(), model.toOrt(env, spec, feeds.get(spec.name())));
            }
        }
        try (OrtSession.Result first = model.session().run(calls.get(0))) {
            for (Map.Entry<String, OnnxValue> e : first) {
                OnnxTensor t = (OnnxTensor) e.getValue();
                long[] shape = t.getInfo().getShape();
                long n = t.getInfo().getNumElements();
                OnnxJavaType type = t.getInfo().type;
                ByteBuffer raw = ByteBuffer.allocateDirect(Math.toIntExact(n * t.getInfo().type.size))
                        .order(ByteOrder.nativeOrder());
                OnnxTensor pinned = switch (type) {
                    case FLOAT -> OnnxTensor.createTensor(env, raw.asFloatBuffer(), shape);
                    case FLOAT16 -> OnnxTensor.createTensor(env, raw.asShortBuffer(), shape, OnnxJavaType.FLOAT16);
                    case INT64 -> OnnxTensor.createTensor(env, raw.asLongBuffer(), shape);
                    case INT32 -> OnnxTensor.createTensor(env, raw.asIntBuffer(), shape);
                    default -> throw new ModelInputException(model + " output " + e.getKey() + " is " + type
                            + "; a replay pins float32, float16, int64 and int32 outputs");
                };
                outputs.put(e.getKey(), pinned);
            }
        }
    }

    /** @return how many calls were recorded */
    public int calls() {
        return calls.size();
    }

    /**
     * Runs every recorded call once, in order.
     *
     * @return the nanoseconds the calls took together
     */
    public long run() {
        if (closed) {
            throw new IllegalStateException("replay of " + model + " is closed");
        }
        OrtSession session = model.session();
        long t0 = System.nanoTime();
        try {
            for (Map<String, OnnxTensor> call : calls) {
                session.run(call, outputs).close();
            }
        } catch (OrtException e) {
            throw new ModelInputException("ONNX Runtime failed replaying " + model + ": " + e.getMessage(), e);
        }
        return System.nanoTime() - t0;
    }

    /** Frees the native tensors. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            calls.forEach(c -> c.values().forEach(OnnxTensor::close));
            outputs.values().forEach(OnnxTensor::close);
        }
    }
}
