package io.conditio.core.pipeline;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Tensor;
import io.conditio.api.UnetInputs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The inputs of one UNet call as the conditionings fill them; turned into the model's feed by {@link #feed()}. One
 * instance serves every step of a generation ({@link #reset}): its maps, the feed and the buffers that appended
 * channels and summed residuals are written into are kept from step to step, so a step allocates nothing that
 * grows with the latents.
 */
final class UnetCall implements UnetInputs {
    private FloatTensor sample;
    private final List<FloatTensor> extraChannels = new ArrayList<>();
    private final Map<String, Tensor> named = new LinkedHashMap<>();
    private final Map<String, String> setBy = new LinkedHashMap<>();
    private final Map<String, Tensor> feed = new LinkedHashMap<>();
    /** Summed residuals by name, kept across steps and rewritten while the shape stays. */
    private final Map<String, FloatTensor> residuals = new LinkedHashMap<>();
    private FloatTensor concatenated;
    private String contributor = "core";

    UnetCall(FloatTensor sample) {
        this.sample = sample;
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
    public void put(String name, Tensor value) {
        if (named.containsKey(name)) {
            throw new InvalidRequestException("UNet input '" + name + "' is set by both " + setBy.get(name) + " and "
                    + contributor + "; only one conditioning may provide it");
        }
        named.put(name, value);
        setBy.put(name, contributor);
    }

    @Override
    public void appendChannels(FloatTensor channels) {
        int[] s = channels.shape();
        if (s.length != 4 || s[0] != sample.dim(0) || s[2] != sample.dim(2) || s[3] != sample.dim(3)) {
            throw new InvalidRequestException(contributor + " appended channels of shape " + channels.shapeString()
                    + " to a sample of shape " + sample.shapeString() + "; batch, height and width must match");
        }
        extraChannels.add(channels);
    }

    @Override
    public void addResidual(String name, FloatTensor value) {
        Tensor prev = named.get(name);
        if (prev == null) {
            FloatTensor sum = residuals.get(name);
            if (sum == null || !sum.sameShape(value)) {
                sum = value.copy();
                residuals.put(name, sum);
            } else {
                System.arraycopy(value.array(), 0, sum.array(), 0, value.size());
            }
            named.put(name, sum);
            setBy.put(name, contributor);
        } else if (prev instanceof FloatTensor f && f.sameShape(value)) {
            float[] a = f.array();
            float[] b = value.array();
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
}
