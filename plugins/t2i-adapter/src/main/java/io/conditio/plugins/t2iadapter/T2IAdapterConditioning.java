package io.conditio.plugins.t2iadapter;

import io.conditio.api.Conditioning;
import io.conditio.api.FloatTensor;
import io.conditio.api.StepContext;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The adapters of one generation and what they add to each UNet call (see {@link T2IAdapterConditioner}). */
final class T2IAdapterConditioning implements Conditioning {
    private static final String PURPOSE = "--t2i-adapter features (t2i-adapter)";

    /**
     * One adapter's features, computed once.
     *
     * @param request  what was asked
     * @param features the adapter's outputs, unscaled, batch 1, in UNet input order
     */
    record Features(AdapterRequest request, List<FloatTensor> features) {
    }

    private final List<Features> adapters;
    private final List<String> inputs;
    private final List<int[]> shapes;
    private final Map<String, String> provenance;
    /** Summed, scaled and batched features by the set of active adapters (a bit mask) and batch size. */
    private final Map<String, List<FloatTensor>> cache = new HashMap<>();

    T2IAdapterConditioning(List<Features> adapters, List<String> inputs, List<int[]> shapes,
            Map<String, String> provenance) {
        this.adapters = List.copyOf(adapters);
        this.inputs = List.copyOf(inputs);
        this.shapes = List.copyOf(shapes);
        this.provenance = Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
    }

    @Override
    public List<UnetInputDeclaration> provides() {
        List<UnetInputDeclaration> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            out.add(UnetInputDeclaration.residual(inputs.get(i), shapes.get(i), PURPOSE));
        }
        return out;
    }

    @Override
    public Map<String, String> provenance() {
        return provenance;
    }

    @Override
    public void contribute(StepContext step, UnetInputs unet) {
        int batch = unet.batchSize();
        StringBuilder key = new StringBuilder().append(batch).append(':');
        for (Features f : adapters) {
            key.append(f.request().activeAt(step.stepIndex(), step.inferenceSteps()) ? '1' : '0');
        }
        List<FloatTensor> sums = cache.computeIfAbsent(key.toString(), k -> sum(step, batch));
        for (int i = 0; i < inputs.size(); i++) {
            unet.addResidual(inputs.get(i), sums.get(i));
        }
    }

    /**
     * diffusers: {@code adapter_state[k] = v * adapter_conditioning_scale} (several adapters: {@code MultiAdapter}
     * sums {@code w_j * features_j[k]} in order), repeated for every batch entry; zeros when no adapter acts.
     */
    private List<FloatTensor> sum(StepContext step, int batch) {
        List<FloatTensor> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            FloatTensor acc = null;
            for (Features f : adapters) {
                if (!f.request().activeAt(step.stepIndex(), step.inferenceSteps())) {
                    continue;
                }
                FloatTensor v = f.features().get(i).mul((float) f.request().scale());
                acc = acc == null ? v : acc.add(v);
            }
            int[] shape = shapes.get(i).clone();
            shape[0] = batch;
            out.add(acc == null ? FloatTensor.zeros(shape) : repeat(acc, batch));
        }
        return out;
    }

    static FloatTensor repeat(FloatTensor one, int batch) {
        int[] shape = one.shape();
        int per = one.size() / Math.max(1, shape[0]);
        float[] out = new float[per * batch];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(one.array(), 0, out, b * per, per);
        }
        shape[0] = batch;
        return FloatTensor.of(out, shape);
    }

    @Override
    public String toString() {
        return "T2IAdapterConditioning" + adapters.stream().map(f -> f.request().model()).toList();
    }
}
