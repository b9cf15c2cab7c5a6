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

/** The inputs of one UNet call as the conditionings fill them; turned into the model's feed by {@link #feed()}. */
final class UnetCall implements UnetInputs {
    private final FloatTensor sample;
    private final List<FloatTensor> extraChannels = new ArrayList<>();
    private final Map<String, Tensor> named = new LinkedHashMap<>();
    private final Map<String, String> setBy = new LinkedHashMap<>();
    private String contributor = "core";

    UnetCall(FloatTensor sample) {
        this.sample = sample;
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
            named.put(name, value.copy());
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

    Map<String, Tensor> feed() {
        Map<String, Tensor> feed = new LinkedHashMap<>();
        if (extraChannels.isEmpty()) {
            feed.put("sample", sample);
        } else {
            FloatTensor[] parts = new FloatTensor[extraChannels.size() + 1];
            parts[0] = sample;
            for (int i = 0; i < extraChannels.size(); i++) {
                parts[i + 1] = extraChannels.get(i);
            }
            feed.put("sample", FloatTensor.concatChannels(parts));
        }
        feed.putAll(named);
        return feed;
    }
}
