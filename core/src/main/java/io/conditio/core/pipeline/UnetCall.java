package io.conditio.core.pipeline;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.LongTensor;
import io.conditio.api.Tensor;
import io.conditio.api.UnetInputs;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The inputs of one UNet call as the conditionings fill them; turned into the model's feed by {@link #feed()}. With
 * several images per prompt a tensor given with one entry per branch is repeated for every image
 * ({@link UnetInputs}); the repeats of a tensor put again at the next step come from the generation's cache.
 * One instance serves every step of a generation ({@link #reset}): its maps, the feed and the buffers that
 * appended channels and summed residuals are written into are kept from step to step, so a step allocates nothing
 * that grows with the latents.
 */
final class UnetCall implements UnetInputs {
    /** Past this many entries a generation's cache of repeated inputs starts again (a plugin making new ones). */
    private static final int CACHE_LIMIT = 64;

    private FloatTensor sample;
    private final int branches;
    private final int images;
    private final Map<Tensor, Tensor> repeated;
    private final List<FloatTensor> extraChannels = new ArrayList<>();
    private final Map<String, Tensor> named = new LinkedHashMap<>();
    private final Map<String, String> setBy = new LinkedHashMap<>();
    private final Map<String, Tensor> feed = new LinkedHashMap<>();
    /** Summed residuals by name, kept across steps and rewritten while the shape stays. */
    private final Map<String, FloatTensor> residuals = new LinkedHashMap<>();
    private FloatTensor concatenated;
    private String contributor = "core";

    /** A call of one image per prompt. */
    UnetCall(FloatTensor sample) {
        this(sample, sample.dim(0), 1, new IdentityHashMap<>());
    }

    /**
     * @param sample   the scaled latent batch, {@code branches × images} entries
     * @param branches the guidance branches
     * @param images   the images per prompt
     * @param repeated the generation's cache of repeated per-branch inputs, by the tensor given
     */
    UnetCall(FloatTensor sample, int branches, int images, Map<Tensor, Tensor> repeated) {
        if (sample.dim(0) != branches * images) {
            throw new IllegalArgumentException("a sample of batch " + sample.dim(0) + " for " + branches
                    + " branch(es) of " + images + " image(s)");
        }
        this.sample = sample;
        this.branches = branches;
        this.images = images;
        this.repeated = repeated;
    }

    /**
     * Starts the next call: forgets what the conditionings put, keeps the buffers.
     *
     * @param next the sample of the next call
     */
    void reset(FloatTensor next) {
        sample = next;
        extraChannels.clear();
        named.clear();
        setBy.clear();
        feed.clear();
        contributor = "core";
    }

    void contributor(String id) {
        this.contributor = id;
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
    public int imagesPerPrompt() {
        return images;
    }

    /** Whether a tensor has one entry per branch where the call has several per branch. */
    private boolean perBranch(Tensor t) {
        return images > 1 && t.rank() > 0 && t.dim(0) == branches;
    }

    /** A per-branch tensor repeated for every image, cached (inputs put again at every step are the same object). */
    private Tensor full(Tensor t) {
        if (!perBranch(t)) {
            return t;
        }
        Tensor cached = repeated.get(t);
        if (cached == null) {
            if (repeated.size() >= CACHE_LIMIT) {
                repeated.clear();
            }
            cached = repeat(t);
            repeated.put(t, cached);
        }
        return cached;
    }

    private Tensor repeat(Tensor t) {
        if (t instanceof FloatTensor f) {
            return f.repeatInterleave(images);
        }
        if (t instanceof LongTensor l) {
            return l.repeatInterleave(images);
        }
        throw new InvalidRequestException(contributor + " gave a " + t.elementType() + " tensor of shape "
                + t.shapeString() + " with one entry per branch; only float32 and int64 inputs can be repeated for "
                + images + " images per prompt: give the full batch of " + batchSize());
    }

    @Override
    public void put(String name, Tensor value) {
        if (named.containsKey(name)) {
            throw new InvalidRequestException("UNet input '" + name + "' is set by both " + setBy.get(name) + " and "
                    + contributor + "; only one conditioning may provide it");
        }
        named.put(name, full(value));
        setBy.put(name, contributor);
    }

    @Override
    public void appendChannels(FloatTensor channels) {
        int[] s = channels.shape();
        if (s.length != 4 || (s[0] != sample.dim(0) && !perBranch(channels)) || s[2] != sample.dim(2)
                || s[3] != sample.dim(3)) {
            throw new InvalidRequestException(contributor + " appended channels of shape " + channels.shapeString()
                    + " to a sample of shape " + sample.shapeString() + "; height and width must match, and the "
                    + "batch must be the sample's or one entry per branch (" + branches + ")");
        }
        extraChannels.add((FloatTensor) full(channels));
    }

    @Override
    public void addResidual(String name, FloatTensor value) {
        Tensor prev = named.get(name);
        // repeated residuals are new arrays, summed into below: never from the cache
        FloatTensor v = perBranch(value) ? value.repeatInterleave(images) : value;
        if (prev == null) {
            FloatTensor sum = residuals.get(name);
            if (sum == null || !sum.sameShape(v)) {
                sum = v.copy();
                residuals.put(name, sum);
            } else {
                System.arraycopy(v.array(), 0, sum.array(), 0, v.size());
            }
            named.put(name, sum);
            setBy.put(name, contributor);
        } else if (prev instanceof FloatTensor f && f.sameShape(v)) {
            float[] a = f.array();
            float[] b = v.array();
            for (int i = 0; i < a.length; i++) {
                a[i] += b[i];
            }
        } else {
            throw new InvalidRequestException("residual '" + name + "' from " + contributor + " has shape "
                    + value.shapeString() + " but " + setBy.get(name) + " gave " + prev.shapeString());
        }
    }

    @Override
    public Optional<Tensor> get(String name) {
        return Optional.ofNullable(named.get(name));
    }

    /** @return the feed: {@code sample} (with the appended channels), then the named inputs; valid until reset */
    Map<String, Tensor> feed() {
        feed.clear();
        feed.put("sample", extraChannels.isEmpty() ? sample : concatenated());
        feed.putAll(named);
        return feed;
    }

    /** The sample and the appended channels along the channel axis, written into a buffer kept across steps. */
    private FloatTensor concatenated() {
        int batch = sample.dim(0);
        int plane = sample.dim(2) * sample.dim(3);
        int channels = sample.dim(1);
        for (FloatTensor extra : extraChannels) {
            channels += extra.dim(1);
        }
        if (concatenated == null || concatenated.dim(0) != batch || concatenated.dim(1) != channels
                || concatenated.dim(2) != sample.dim(2) || concatenated.dim(3) != sample.dim(3)) {
            concatenated = FloatTensor.zeros(batch, channels, sample.dim(2), sample.dim(3));
        }
        float[] dst = concatenated.array();
        int at = 0;
        for (int b = 0; b < batch; b++) {
            at = copyEntry(sample, b, plane, dst, at);
            for (FloatTensor extra : extraChannels) {
                at = copyEntry(extra, b, plane, dst, at);
            }
        }
        return concatenated;
    }

    private static int copyEntry(FloatTensor part, int b, int plane, float[] dst, int at) {
        int n = part.dim(1) * plane;
        System.arraycopy(part.array(), b * n, dst, at, n);
        return at + n;
    }

    /**
     * The feed of one branch: the rows of that branch of every input with the call's batch, other inputs whole.
     *
     * @param feed   the whole call's feed
     * @param branch the branch
     * @return the feed of a call of batch {@code images}
     */
    Map<String, Tensor> branchFeed(Map<String, Tensor> feed, int branch) {
        int batch = batchSize();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : feed.entrySet()) {
            Tensor t = e.getValue();
            out.put(e.getKey(), t.rank() > 0 && t.dim(0) == batch ? rows(t, branch * images, images) : t);
        }
        return out;
    }

    private static Tensor rows(Tensor t, int from, int count) {
        int[] shape = t.shape();
        int per = t.size() / shape[0];
        shape[0] = count;
        if (t instanceof FloatTensor f) {
            float[] r = new float[per * count];
            System.arraycopy(f.array(), from * per, r, 0, r.length);
            return FloatTensor.of(r, shape);
        }
        if (t instanceof LongTensor l) {
            long[] r = new long[per * count];
            System.arraycopy(l.array(), from * per, r, 0, r.length);
            return LongTensor.of(r, shape);
        }
        throw new InvalidRequestException("cannot split a " + t.elementType() + " UNet input of shape "
                + t.shapeString() + " by guidance branch; run without splitting the guidance batch");
    }
}
