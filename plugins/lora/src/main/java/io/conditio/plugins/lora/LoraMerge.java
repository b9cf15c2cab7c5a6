package io.conditio.plugins.lora;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ModelGraph;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Merges LoRA modules into the weights of one ONNX graph: W' = W + multiplier · (alpha / r) · up · down.
 *
 * <p>Weights are found through the graph, not by name: exporters rename Linear weights ({@code onnx::MatMul_1234})
 * and store them transposed ([in, out]) for MatMul, while the consuming node's name carries the module path
 * ({@code /down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul}), possibly under a wrapper prefix
 * ({@code /unet/...}). A module path matches a node path that equals it or ends with it after a wrapper prefix;
 * a text-encoder path may also leave out Hugging Face's {@code text_model.} prefix. Where an exporter lost the scope
 * of a node ({@code /te/qkv_1/MatMul}), the named bias an Add puts on the MatMul's output
 * ({@code te.layers.1.qkv.bias}) gives the module path. Gemm honours {@code transB};
 * Conv weights [out, in, kh, kw] take the delta reshaped. A full delta ({@code .diff}) is added in the same layout,
 * a bias delta ({@code .diff_b}) to the bias the node adds: Conv's and Gemm's third input, or the named bias of the
 * Add after a MatMul. A VAE key's {@code decoder.} prefix may be missing from the node names (the decoder graph holds
 * only the decoder, and exporters wrap it under their own prefix).
 */
final class LoraMerge {
    private static final Set<String> OPS = Set.of("MatMul", "Gemm", "Conv");

    /**
     * A weight a LoRA module can patch.
     *
     * @param path   the module path from the node name (dotted)
     * @param weight the initializer name
     * @param op     the consuming operator
     * @param transB Gemm's transB
     * @param bias   the float32 bias initializer the node adds, or null
     */
    record Target(String path, String weight, String op, boolean transB, String bias) {
    }

    /**
     * What was merged.
     *
     * @param weights   patched initializers
     * @param matched   "key → initializer" lines
     * @param unmatched keys no weight matched
     */
    record Result(Map<String, FloatTensor> weights, List<String> matched, List<String> unmatched) {
    }

    private LoraMerge() {
    }

    static List<Target> targets(ModelGraph graph) {
        Map<String, ModelGraph.Initializer> inits = graph.initializers();
        List<Target> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        Map<String, String> biasOf = new LinkedHashMap<>();  // MatMul output -> named bias an Add adds to it
        Map<String, String> addedBias = new LinkedHashMap<>();  // MatMul output -> initializer an Add adds to it
        for (ModelGraph.Node n : graph.nodes()) {
            if (n.opType().equals("Add") && n.inputs().size() == 2) {
                for (int i = 0; i < 2; i++) {
                    String b = n.inputs().get(i);
                    if (b.endsWith(".bias") && inits.containsKey(b)) {
                        biasOf.put(n.inputs().get(1 - i), b.substring(0, b.length() - ".bias".length()));
                    }
                    if (isFloat(inits.get(b))) {
                        addedBias.put(n.inputs().get(1 - i), b);
                    }
                }
            }
        }
        for (ModelGraph.Node n : graph.nodes()) {
            if (!OPS.contains(n.opType()) || n.inputs().size() < 2) {
                continue;
            }
            String w = n.inputs().get(1);
            ModelGraph.Initializer init = inits.get(w);
            if (init == null || init.type() != io.conditio.api.ElementType.FLOAT32) {
                continue;
            }
            boolean transB = n.attributes().getOrDefault("transB", 0L) != 0;
            String bias = n.opType().equals("MatMul") ? (n.outputs().isEmpty() ? null
                    : addedBias.get(n.outputs().get(0)))
                    : n.inputs().size() > 2 && isFloat(inits.get(n.inputs().get(2))) ? n.inputs().get(2) : null;
            String path = nodePath(n.name());
            if (path != null && seen.add(path + "\u0000" + w)) {
                out.add(new Target(path, w, n.opType(), transB, bias));
            }
            String viaBias = n.opType().equals("MatMul") && !n.outputs().isEmpty() ? biasOf.get(n.outputs().get(0))
                    : null;
            if (viaBias != null && seen.add(viaBias + "\u0000" + w)) {  // exporters that lose the scope keep bias names
                out.add(new Target(viaBias, w, n.opType(), transB, bias));
            }
            if (w.endsWith(".weight") && seen.add(w)) {  // a weight that kept its torch name names its module too
                out.add(new Target(w.substring(0, w.length() - ".weight".length()), w, n.opType(), transB, bias));
            }
        }
        return out;
    }

    private static boolean isFloat(ModelGraph.Initializer init) {
        return init != null && init.type() == io.conditio.api.ElementType.FLOAT32;
    }

    /** {@code /a/b.0/c/MatMul} → {@code a.b.0.c}; null when the name carries no module path. */
    static String nodePath(String name) {
        if (name == null || !name.startsWith("/")) {
            return null;
        }
        String[] parts = name.substring(1).split("/");
        if (parts.length < 2) {
            return null;
        }
        return String.join(".", Arrays.copyOf(parts, parts.length - 1));
    }

    static boolean matches(String candidate, String key, boolean kohya) {
        String c = kohya ? candidate.replace('.', '_') : candidate;
        String sep = kohya ? "_" : ".";
        if (c.equals(key) || c.endsWith(sep + key)) {
            return true;
        }
        for (String optional : new String[] {"text_model" + sep, "decoder" + sep}) {
            if (key.startsWith(optional) && matches(candidate, key.substring(optional.length()), kohya)) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param graph   the component's graph
     * @param modules the modules meant for this component, each with its multiplier
     * @return the merged weights and what matched
     */
    static Result merge(ModelGraph graph, List<Map.Entry<LoraFile.Module, Float>> modules) {
        List<Target> targets = targets(graph);
        Map<String, FloatTensor> weights = new LinkedHashMap<>();
        List<String> matched = new ArrayList<>();
        List<String> unmatched = new ArrayList<>();
        for (Map.Entry<LoraFile.Module, Float> e : modules) {
            LoraFile.Module m = e.getKey();
            List<Target> hits = new ArrayList<>();
            for (Target t : targets) {
                if (matches(t.path(), m.path(), m.kohya()) && hits.stream().noneMatch(h -> h.weight().equals(t.weight()))) {
                    hits.add(t);
                }
            }
            if (hits.size() > 1) {
                List<Target> exact = hits.stream().filter(t -> (m.kohya() ? t.path().replace('.', '_') : t.path())
                        .equals(m.path())).toList();
                if (exact.size() == 1) {
                    hits = exact;
                } else {
                    throw new InvalidRequestException("LoRA key " + m.key() + " matches several weights: "
                            + hits.stream().map(t -> t.weight() + " (" + t.path() + ")").toList());
                }
            }
            if (hits.isEmpty()) {
                unmatched.add(m.key());
                continue;
            }
            Target t = hits.get(0);
            if (m.down() != null || m.diff() != null) {
                FloatTensor w = copy(graph, weights, t.weight());
                if (m.down() != null) {
                    add(w, t, m, e.getValue());
                }
                if (m.diff() != null) {
                    addDiff(w, t, m, e.getValue());
                }
            }
            String biasNote = "";
            if (m.diffBias() != null) {
                if (t.bias() == null) {
                    throw new InvalidRequestException("LoRA key " + m.key() + ".diff_b: " + t.weight() + " ("
                            + t.op() + " " + t.path() + ") adds no float32 bias to patch");
                }
                FloatTensor b = copy(graph, weights, t.bias());
                if (b.size() != m.diffBias().size()) {
                    throw new InvalidRequestException("LoRA key " + m.key() + ".diff_b " + Arrays.toString(
                            m.diffBias().shape()) + " does not fit " + t.bias() + " " + Arrays.toString(b.shape()));
                }
                float[] ba = b.array();
                float[] da = m.diffBias().array();
                for (int i = 0; i < ba.length; i++) {
                    ba[i] = (float) (ba[i] + (double) e.getValue() * da[i]);
                }
                biasNote = ", bias " + t.bias();
            }
            matched.add(m.key() + " -> " + t.weight() + " (" + t.path() + ", " + t.op() + biasNote + ")");
        }
        return new Result(weights, matched, unmatched);
    }

    private static FloatTensor copy(ModelGraph graph, Map<String, FloatTensor> weights, String name) {
        FloatTensor w = weights.get(name);
        if (w == null) {
            FloatTensor original = graph.floatValue(name).orElseThrow(() -> new InvalidRequestException(
                    "weight " + name + " has no float32 values to patch"));
            w = FloatTensor.of(original.array().clone(), original.shape());
            weights.put(name, w);
        }
        return w;
    }

    /** Adds a full delta given in the torch layout [out, in(, kh, kw)]. */
    private static void addDiff(FloatTensor w, Target t, LoraFile.Module m, float multiplier) {
        FloatTensor diff = m.diff();
        int[] ws = w.shape();
        boolean inOut = t.op().equals("MatMul") || (t.op().equals("Gemm") && !t.transB());
        int out = diff.dim(0);
        int inner = diff.size() / Math.max(1, out);
        boolean fits = inOut ? ws.length == 2 && diff.rank() == 2 && ws[0] == inner && ws[1] == out
                : Arrays.equals(ws, diff.shape()) || (ws.length == 4 && diff.rank() == 2 && ws[0] == out
                && w.size() == diff.size());
        if (!fits) {
            throw new InvalidRequestException("LoRA key " + m.key() + ".diff " + Arrays.toString(diff.shape())
                    + " does not fit " + t.weight() + " " + Arrays.toString(ws) + " (" + t.op() + ")");
        }
        float[] wa = w.array();
        float[] da = diff.array();
        for (int o = 0; o < out; o++) {
            for (int j = 0; j < inner; j++) {
                int idx = inOut ? j * out + o : o * inner + j;
                wa[idx] = (float) (wa[idx] + (double) multiplier * da[o * inner + j]);
            }
        }
    }

    private static void add(FloatTensor w, Target t, LoraFile.Module m, float multiplier) {
        int r = m.rank();
        FloatTensor up = m.up();
        FloatTensor down = m.down();
        int out = up.dim(0);
        for (int i = 2; i < up.rank(); i++) {
            if (up.dim(i) != 1) {
                throw new InvalidRequestException("LoRA key " + m.key() + ": up " + Arrays.toString(up.shape())
                        + " should be [out, r] or [out, r, 1, 1]");
            }
        }
        int inner = down.size() / r;  // in · kh · kw
        float[] u = up.array();
        float[] d = down.array();
        double scale = (double) multiplier * m.alpha() / r;
        int[] ws = w.shape();
        float[] wa = w.array();
        String shapes = "LoRA key " + m.key() + " (up " + Arrays.toString(up.shape()) + ", down "
                + Arrays.toString(down.shape()) + ") does not fit " + t.weight() + " " + Arrays.toString(ws);
        boolean inOut;  // weight stored [in, out]
        switch (t.op()) {
            case "MatMul" -> inOut = true;
            case "Gemm" -> inOut = !t.transB();
            default -> inOut = false;
        }
        if (inOut) {
            if (ws.length != 2 || ws[0] != inner || ws[1] != out) {
                throw new InvalidRequestException(shapes);
            }
        } else if (ws[0] != out || w.size() != out * inner) {
            throw new InvalidRequestException(shapes);
        } else if (t.op().equals("Conv") && down.rank() == 4 && ws.length == 4
                && (ws[2] != down.dim(2) || ws[3] != down.dim(3))) {
            throw new InvalidRequestException(shapes);
        }
        for (int o = 0; o < out; o++) {
            for (int j = 0; j < inner; j++) {
                double s = 0;
                for (int k = 0; k < r; k++) {
                    s += (double) u[o * r + k] * d[k * inner + j];
                }
                int idx = inOut ? j * out + o : o * inner + j;
                wa[idx] = (float) (wa[idx] + scale * s);
            }
        }
    }
}
