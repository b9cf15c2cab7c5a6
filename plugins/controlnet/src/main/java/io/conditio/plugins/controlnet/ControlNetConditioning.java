package io.conditio.plugins.controlnet;

import io.conditio.api.Conditioning;
import io.conditio.api.FloatTensor;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.LongTensor;
import io.conditio.api.Model;
import io.conditio.api.RgbImage;
import io.conditio.api.StepContext;
import io.conditio.api.Tensor;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The ControlNets of one generation and what they add to each UNet call (see {@link ControlNetConditioner}). */
final class ControlNetConditioning implements Conditioning {
    private static final String PURPOSE = "--controlnet residuals (controlnet)";

    /**
     * One requested ControlNet, ready to run.
     *
     * @param request    what was asked
     * @param model      the loaded model
     * @param image      the control image at the generation size, preprocessed
     * @param globalPool the ControlNet's config sets {@code global_pool_conditions} (guess mode then does not scale)
     */
    record Net(ControlNetRequest request, Model model, RgbImage image, boolean globalPool) {
    }

    private final List<Net> nets;
    private final List<String> residuals;
    private final ResidualShapes.Derived derived;
    /** Residual shapes for zeros: derived, then those of the latest ControlNet output; null while unknown. */
    private Map<String, int[]> zeroShapes;
    private final Map<String, String> provenance;
    private final Map<Net, Map<Integer, FloatTensor>> conds = new HashMap<>();

    ControlNetConditioning(List<Net> nets, List<String> residuals, ResidualShapes.Derived derived,
            Map<String, String> provenance) {
        this.nets = List.copyOf(nets);
        this.residuals = List.copyOf(residuals);
        this.derived = derived;
        this.zeroShapes = derived.complete() ? new LinkedHashMap<>(derived.shapes()) : null;
        this.provenance = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
    }

    @Override
    public List<UnetInputDeclaration> provides() {
        return residuals.stream()
                .map(n -> UnetInputDeclaration.residual(n, derived.shapes().get(n), PURPOSE))
                .toList();
    }

    @Override
    public Map<String, String> provenance() {
        return provenance;
    }

    @Override
    public void contribute(StepContext step, UnetInputs inputs) {
        int batch = inputs.batchSize();
        boolean contributed = false;
        for (Net net : nets) {
            if (!net.request().activeAt(step.stepIndex(), step.totalSteps())) {
                continue;
            }
            int[] rows = net.request().guessMode() ? controlledRows(step.branches(), batch) : allRows(batch);
            if (rows.length == 0) {
                continue;
            }
            Map<String, FloatTensor> out = run(net, rows, step, inputs, (float) net.request().scale());
            for (String name : residuals) {
                FloatTensor r = out.get(name);
                if (rows.length != batch) {
                    r = expand(r, rows, batch);
                }
                inputs.addResidual(name, r);
                learn(name, r.shape());
            }
            contributed = true;
        }
        if (!contributed) {
            if (zeroShapes == null) {
                // shapes not derivable: run the first ControlNet once with scale 0 (what diffusers does on every
                // inactive step) to learn them
                Map<String, FloatTensor> out = run(nets.get(0), allRows(batch), step, inputs, 0f);
                out.forEach((k, v) -> learn(k, v.shape()));
            }
            for (String name : residuals) {
                int[] shape = zeroShapes.get(name).clone();
                shape[0] = batch;
                inputs.addResidual(name, FloatTensor.zeros(shape));
            }
        }
    }

    private void learn(String name, int[] shape) {
        if (!residuals.contains(name)) {
            return;
        }
        if (zeroShapes == null) {
            zeroShapes = new LinkedHashMap<>();
        }
        zeroShapes.put(name, shape);
    }

    /**
     * Runs one ControlNet on some rows of the UNet batch.
     *
     * @param scale the conditioning scale ({@code scale × keep})
     * @return residuals by name, {@code rows.length} entries each, scaled as diffusers scales them
     */
    private Map<String, FloatTensor> run(Net net, int[] rows, StepContext step, UnetInputs inputs, float scale) {
        Model model = net.model();
        boolean guessScaling = net.request().guessMode() && !net.globalPool();
        boolean graphScales = model.inputs().containsKey(ControlNetConditioner.COND_SCALE);
        Map<String, Tensor> feed = new LinkedHashMap<>();
        for (String name : model.inputs().keySet()) {
            switch (name) {
                case ControlNetConditioner.SAMPLE -> feed.put(name, select(inputs.sample(), rows));
                case ControlNetConditioner.TIMESTEP -> feed.put(name, FloatTensor.full(timestep(step, inputs),
                        rows.length));
                case ControlNetConditioner.COND -> feed.put(name, cond(net, rows.length));
                case ControlNetConditioner.COND_SCALE -> feed.put(name, FloatTensor.scalar(guessScaling ? 1f : scale));
                default -> {
                    Tensor t = inputs.get(name).orElseThrow(() -> new InvalidRequestException("ControlNet "
                            + model.path() + " needs '" + name + "' from the UNet call, but no conditioning before "
                            + "the ControlNet set it"));
                    feed.put(name, select(t, rows));
                }
            }
        }
        Map<String, Tensor> out = model.run(feed);
        Map<String, FloatTensor> result = new LinkedHashMap<>();
        int downCount = (int) out.keySet().stream().filter(n -> ResidualShapes.downIndex(n) >= 0).count();
        float[] guessScales = guessScaling ? guessModeScales(downCount, scale) : null;
        for (String name : residuals) {
            Tensor t = out.get(name);
            if (!(t instanceof FloatTensor f)) {
                throw new InvalidRequestException("ControlNet " + model.path() + " gave " + t + " for '" + name
                        + "'; expected a float tensor");
            }
            if (guessScaling) {
                int k = ResidualShapes.downIndex(name);
                f = f.mul(guessScales[k < 0 ? downCount : k]);
            } else if (!graphScales) {
                f = f.mul(scale);
            }
            result.put(name, f);
        }
        return result;
    }

    /**
     * {@code torch.logspace(-1, 0, n + 1) * conditioning_scale} in float32, as {@code ControlNetModel.forward} in
     * guess mode; torch's CPU logspace evaluates {@code pow(10, start + step * i)} in double for the first half and
     * {@code pow(10, end - step * (steps - i - 1))} for the second, then rounds to float32.
     *
     * @param downResiduals the number of down residuals {@code n}
     * @param scale         the conditioning scale
     * @return {@code n + 1} scales: one per down residual, the last for the mid residual
     */
    static float[] guessModeScales(int downResiduals, float scale) {
        int steps = downResiduals + 1;
        double start = -1;
        double end = 0;
        double step = steps == 1 ? 0 : (end - start) / (steps - 1);
        int halfway = steps / 2;
        float[] out = new float[steps];
        for (int i = 0; i < steps; i++) {
            double exponent = i < halfway ? start + step * i : end - step * (steps - i - 1);
            float s = (float) Math.pow(10, exponent);
            out[i] = s * scale;
        }
        return out;
    }

    private static float timestep(StepContext step, UnetInputs inputs) {
        Tensor t = inputs.get(ControlNetConditioner.TIMESTEP).orElse(null);
        if (t instanceof FloatTensor f && f.size() > 0) {
            return f.get(0);
        }
        if (t instanceof LongTensor l && l.size() > 0) {
            return l.get(0);
        }
        return step.timestep();
    }

    private FloatTensor cond(Net net, int batch) {
        return conds.computeIfAbsent(net, n -> new HashMap<>())
                .computeIfAbsent(batch, b -> ControlImages.batch(net.image(), b));
    }

    private static int[] allRows(int batch) {
        int[] rows = new int[batch];
        for (int i = 0; i < batch; i++) {
            rows[i] = i;
        }
        return rows;
    }

    /**
     * The batch entries whose branch keeps the control condition (guess mode runs the ControlNet on those): every
     * image's entry of those branches, the batch being branch major.
     */
    static int[] controlledRows(List<GuidanceBranch> branches, int batch) {
        int images = batch / branches.size();
        return java.util.stream.IntStream.range(0, batch)
                .filter(i -> !branches.get(i / images).drops(ControlNetConditioner.KIND))
                .toArray();
    }

    private static Tensor select(Tensor t, int[] rows) {
        int n = t.rank() == 0 ? 1 : t.dim(0);
        if (t.rank() == 0 || (rows.length == n && isIdentity(rows))) {
            return t;
        }
        int per = t.size() / n;
        int[] shape = t.shape();
        shape[0] = rows.length;
        if (t instanceof FloatTensor f) {
            float[] out = new float[per * rows.length];
            for (int j = 0; j < rows.length; j++) {
                System.arraycopy(f.array(), rows[j] * per, out, j * per, per);
            }
            return FloatTensor.of(out, shape);
        }
        LongTensor l = (LongTensor) t;
        long[] out = new long[per * rows.length];
        for (int j = 0; j < rows.length; j++) {
            System.arraycopy(l.array(), rows[j] * per, out, j * per, per);
        }
        return LongTensor.of(out, shape);
    }

    private static FloatTensor select(FloatTensor t, int[] rows) {
        return (FloatTensor) select((Tensor) t, rows);
    }

    private static boolean isIdentity(int[] rows) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != i) {
                return false;
            }
        }
        return true;
    }

    /** Puts {@code r}'s entries at {@code rows} of a zero tensor with {@code batch} entries. */
    static FloatTensor expand(FloatTensor r, int[] rows, int batch) {
        int[] shape = r.shape();
        int per = r.size() / Math.max(1, shape[0]);
        shape[0] = batch;
        float[] out = new float[per * batch];
        for (int j = 0; j < rows.length; j++) {
            System.arraycopy(r.array(), j * per, out, rows[j] * per, per);
        }
        return FloatTensor.of(out, shape);
    }

    @Override
    public String toString() {
        return "ControlNetConditioning" + Arrays.toString(nets.stream().map(n -> n.model().path()).toArray());
    }
}
