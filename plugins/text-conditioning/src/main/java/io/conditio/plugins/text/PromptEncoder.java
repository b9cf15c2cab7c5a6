package io.conditio.plugins.text;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.LongTensor;
import io.conditio.api.Model;
import io.conditio.api.Tensor;
import io.conditio.api.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One tokenizer + text encoder pair turning prompts into hidden states, with weighting, chunking of long prompts and
 * CLIP skip. A prompt without weighting syntax that fits one window is encoded exactly as diffusers'
 * {@code encode_prompt} does.
 *
 * <p>Long prompts are split into windows of {@code maxLength - 2} tokens, each encoded as
 * {@code [bos] tokens [eos] pad...}, and the windows' hidden states are concatenated along the sequence axis. Weighted
 * tokens have their hidden state multiplied by the weight, then each window is rescaled so its mean is unchanged.
 */
final class PromptEncoder {
    private static final Pattern HIDDEN = Pattern.compile("hidden_states\\.(\\d+)");

    private final Model encoder;
    private final TextTokenizer tokenizer;
    private final boolean weighting;
    private final String hiddenOutput;
    private final boolean reapplyFinalNorm;
    private float[][] finalNorm;

    /** The encoding of one prompt. */
    record Encoded(FloatTensor hidden, FloatTensor pooled, int tokens) {
    }

    /**
     * @param encoder       the text encoder
     * @param tokenizer     its tokenizer
     * @param weighting     whether to honour the weighting syntax
     * @param clipSkip      layers to skip from the end (0 = the last layer)
     * @param penultimate   SDXL's convention: take {@code hidden_states[-2 - clipSkip]} without the final layer norm
     */
    PromptEncoder(Model encoder, TextTokenizer tokenizer, boolean weighting, int clipSkip, boolean penultimate) {
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.weighting = weighting;
        TreeMap<Integer, String> hidden = new TreeMap<>();
        for (String out : encoder.outputs().keySet()) {
            Matcher m = HIDDEN.matcher(out);
            if (m.matches()) {
                hidden.put(Integer.parseInt(m.group(1)), out);
            }
        }
        int back = clipSkip + (penultimate ? 1 : 0);
        if (back == 0) {
            hiddenOutput = encoder.outputs().containsKey("last_hidden_state") ? "last_hidden_state"
                    : encoder.outputs().keySet().iterator().next();
            reapplyFinalNorm = false;
        } else {
            if (hidden.isEmpty() || hidden.lastKey() - back < 0) {
                throw new InvalidRequestException((penultimate ? "SDXL-style conditioning uses the penultimate layer"
                        : "--clip-skip " + clipSkip + " needs the text encoder's intermediate layers") + ", but "
                        + encoder.path() + " exports " + encoder.outputs().keySet()
                        + "; expected outputs hidden_states.0 ... hidden_states.N (export with output_hidden_states)");
            }
            hiddenOutput = hidden.get(hidden.lastKey() - back);
            // diffusers re-applies CLIP's final layer norm to a skipped layer for SD 1.x/2.x, not for SDXL
            reapplyFinalNorm = !penultimate;
            if (reapplyFinalNorm && !encoder.outputs().containsKey("last_hidden_state")) {
                throw new InvalidRequestException("--clip-skip needs last_hidden_state from " + encoder.path());
            }
        }
    }

    /** @return the number of windows a text needs */
    int windows(String text) {
        return Math.max(1, (tokens(text).size() + window() - 1) / window());
    }

    private int window() {
        return tokenizer.maxLength() - 2;
    }

    private record Token(int id, float weight) {
    }

    private List<Token> tokens(String text) {
        List<Token> out = new ArrayList<>();
        List<PromptSyntax.Fragment> fragments = weighting ? PromptSyntax.parse(text)
                : List.of(new PromptSyntax.Fragment(text, 1.0));
        if (PromptSyntax.isPlain(fragments)) {
            // no effective weighting: tokenize the text as written, exactly as diffusers does
            for (int id : tokenizer.tokenize(weighting ? join(fragments) : text)) {
                out.add(new Token(id, 1f));
            }
            return out;
        }
        for (PromptSyntax.Fragment f : fragments) {
            for (int id : tokenizer.tokenize(f.text())) {
                out.add(new Token(id, (float) f.weight()));
            }
        }
        return out;
    }

    private static String join(List<PromptSyntax.Fragment> fragments) {
        StringBuilder b = new StringBuilder();
        fragments.forEach(f -> b.append(f.text()));
        return b.toString();
    }

    /**
     * @param text    the prompt
     * @param windows how many windows to produce (at least {@link #windows(String)}; extra ones encode nothing)
     * @return hidden states {@code [1, windows * maxLength, dim]} and the pooled output of the first window
     */
    Encoded encode(String text, int windows) {
        List<Token> tokens = tokens(text);
        int per = window();
        int needed = Math.max(1, (tokens.size() + per - 1) / per);
        if (windows < needed) {
            throw new IllegalArgumentException("asked for " + windows + " windows, the text needs " + needed);
        }
        List<FloatTensor> parts = new ArrayList<>();
        FloatTensor pooled = null;
        for (int w = 0; w < windows; w++) {
            int from = Math.min(tokens.size(), w * per);
            int to = Math.min(tokens.size(), from + per);
            List<Token> chunk = tokens.subList(from, to);
            long[] ids = new long[tokenizer.maxLength()];
            float[] weights = new float[ids.length];
            java.util.Arrays.fill(ids, tokenizer.padId());
            java.util.Arrays.fill(weights, 1f);
            ids[0] = tokenizer.bosId();
            for (int i = 0; i < chunk.size(); i++) {
                ids[i + 1] = chunk.get(i).id();
                weights[i + 1] = chunk.get(i).weight();
            }
            ids[chunk.size() + 1] = tokenizer.eosId();
            Map<String, Tensor> out = run(ids);
            FloatTensor hidden = selectHidden(out);
            boolean weighted = false;
            for (float x : weights) {
                weighted |= x != 1f;
            }
            if (weighted) {
                hidden = applyWeights(hidden, weights);
            }
            parts.add(hidden);
            if (w == 0) {
                pooled = pooled(out);
            }
        }
        FloatTensor hidden = parts.size() == 1 ? parts.get(0) : FloatTensor.concat(1, parts.toArray(FloatTensor[]::new));
        return new Encoded(hidden, pooled, tokens.size());
    }

    private Map<String, Tensor> run(long[] ids) {
        String input = encoder.inputs().containsKey("input_ids") ? "input_ids"
                : encoder.inputs().keySet().iterator().next();
        return encoder.run(Map.of(input, LongTensor.of(ids, 1, ids.length)));
    }

    private FloatTensor selectHidden(Map<String, Tensor> out) {
        Tensor t = out.get(hiddenOutput);
        if (!(t instanceof FloatTensor f) || f.rank() != 3) {
            throw new InvalidRequestException(encoder + " gave " + t + " as '" + hiddenOutput
                    + "'; expected a float tensor [batch, tokens, dim]");
        }
        if (!reapplyFinalNorm) {
            return f;
        }
        if (finalNorm == null) {
            finalNorm = deriveFinalNorm(out);
        }
        return layerNorm(f, finalNorm[0], finalNorm[1], epsilon());
    }

    private FloatTensor pooled(Map<String, Tensor> out) {
        Tensor t = out.containsKey("text_embeds") ? out.get("text_embeds") : out.get("pooler_output");
        return t instanceof FloatTensor f ? f : null;
    }

    /**
     * Recovers the final layer norm's scale and shift from one forward pass: last_hidden_state is
     * {@code LN(hidden_states[-1])}, so per channel {@code last = gamma * normalized + beta} over all tokens.
     */
    private float[][] deriveFinalNorm(Map<String, Tensor> out) {
        TreeMap<Integer, String> hidden = new TreeMap<>();
        for (String name : out.keySet()) {
            Matcher m = HIDDEN.matcher(name);
            if (m.matches()) {
                hidden.put(Integer.parseInt(m.group(1)), name);
            }
        }
        FloatTensor pre = (FloatTensor) out.get(hidden.lastEntry().getValue());
        FloatTensor post = (FloatTensor) out.get("last_hidden_state");
        int tokens = pre.dim(1);
        int dim = pre.dim(2);
        double eps = epsilon();
        double[] norm = normalized(pre.array(), tokens, dim, eps);
        float[] gamma = new float[dim];
        float[] beta = new float[dim];
        float[] y = post.array();
        for (int d = 0; d < dim; d++) {
            double sx = 0;
            double sy = 0;
            double sxx = 0;
            double sxy = 0;
            for (int t = 0; t < tokens; t++) {
                double x = norm[t * dim + d];
                double v = y[t * dim + d];
                sx += x;
                sy += v;
                sxx += x * x;
                sxy += x * v;
            }
            double g = (tokens * sxy - sx * sy) / (tokens * sxx - sx * sx);
            gamma[d] = (float) g;
            beta[d] = (float) ((sy - g * sx) / tokens);
        }
        return new float[][] {gamma, beta};
    }

    private static double[] normalized(float[] x, int tokens, int dim, double eps) {
        double[] out = new double[x.length];
        for (int t = 0; t < tokens; t++) {
            double mean = 0;
            for (int d = 0; d < dim; d++) {
                mean += x[t * dim + d];
            }
            mean /= dim;
            double var = 0;
            for (int d = 0; d < dim; d++) {
                double c = x[t * dim + d] - mean;
                var += c * c;
            }
            var /= dim;
            double inv = 1 / Math.sqrt(var + eps);
            for (int d = 0; d < dim; d++) {
                out[t * dim + d] = (x[t * dim + d] - mean) * inv;
            }
        }
        return out;
    }

    private static FloatTensor layerNorm(FloatTensor x, float[] gamma, float[] beta, double eps) {
        int tokens = x.dim(1);
        int dim = x.dim(2);
        double[] norm = normalized(x.array(), tokens, dim, eps);
        float[] out = new float[norm.length];
        for (int t = 0; t < tokens; t++) {
            for (int d = 0; d < dim; d++) {
                out[t * dim + d] = (float) (norm[t * dim + d] * gamma[d] + beta[d]);
            }
        }
        return FloatTensor.of(out, x.shape());
    }

    private double epsilon() {
        return encoder.config().number("layer_norm_eps").orElse(1e-5);
    }

    /** Multiplies each token's hidden state by its weight, then restores the window's mean (A1111's rule). */
    private static FloatTensor applyWeights(FloatTensor hidden, float[] weights) {
        int tokens = hidden.dim(1);
        int dim = hidden.dim(2);
        float[] h = hidden.array();
        float[] out = new float[h.length];
        double before = 0;
        double after = 0;
        for (int t = 0; t < tokens; t++) {
            for (int d = 0; d < dim; d++) {
                float v = h[t * dim + d];
                before += v;
                out[t * dim + d] = v * weights[t];
                after += out[t * dim + d];
            }
        }
        float scale = (float) (before / after);
        for (int i = 0; i < out.length; i++) {
            out[i] *= scale;
        }
        return FloatTensor.of(out, hidden.shape());
    }
}
