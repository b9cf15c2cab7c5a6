package io.conditio.tck;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Tensor;
import io.conditio.api.UnetInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link UnetInputs} for unit tests: holds a sample batch and records what conditionings put, append and add, with
 * the host's rules (an input set twice is refused; residuals of the same name are summed; appended channels must
 * match the sample's batch and spatial size).
 *
 * <pre>{@code
 * TestUnetInputs in = TestUnetInputs.of(latentBatch);
 * conditioning.contribute(step, in);
 * FloatTensor hint = (FloatTensor) in.inputs().get("encoder_hidden_states");
 * }</pre>
 */
public final class TestUnetInputs implements UnetInputs {
    private final FloatTensor sample;
    private final float[] sampleBefore;
    private final Map<String, Tensor> given = new LinkedHashMap<>();
    private final Map<String, Tensor> inputs = new LinkedHashMap<>();
    private final Map<String, FloatTensor> residuals = new LinkedHashMap<>();
    private final Map<String, Integer> residualCounts = new LinkedHashMap<>();
    private final List<FloatTensor> channels = new ArrayList<>();

    private TestUnetInputs(FloatTensor sample) {
        if (sample.rank() != 4) {
            throw new IllegalArgumentException("the sample batch is NCHW, got " + Arrays.toString(sample.shape()));
        }
        this.sample = sample;
        this.sampleBefore = sample.array().clone();
    }

    /**
     * @param sample the scaled latent batch of the call, {@code [batch, C, H, W]}
     * @return inputs holding nothing else yet
     */
    public static TestUnetInputs of(FloatTensor sample) {
        return new TestUnetInputs(sample);
    }

    /**
     * Sets an input as a conditioning that runs earlier in the call would (the text encoder's
     * {@code encoder_hidden_states} for a ControlNet); it is not part of {@link #inputs()}.
     *
     * @param name  the input name
     * @param value its value, batch first
     * @return this
     */
    public TestUnetInputs given(String name, Tensor value) {
        given.put(name, value);
        return this;
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
        if (inputs.containsKey(name) || given.containsKey(name)) {
            throw new InvalidRequestException("UNet input '" + name + "' is set twice");
        }
        inputs.put(name, value);
    }

    @Override
    public void appendChannels(FloatTensor c) {
        if (c.rank() != 4 || c.dim(0) != sample.dim(0) || c.dim(2) != sample.dim(2) || c.dim(3) != sample.dim(3)) {
            throw new IllegalArgumentException("appended channels " + Arrays.toString(c.shape())
                    + " do not match the sample " + Arrays.toString(sample.shape()) + " in batch and size");
        }
        channels.add(c);
    }

    @Override
    public void addResidual(String name, FloatTensor value) {
        FloatTensor sum = residuals.get(name);
        if (sum != null && !sum.sameShape(value)) {
            throw new IllegalArgumentException("residual '" + name + "' " + Arrays.toString(value.shape())
                    + " does not match the one already added " + Arrays.toString(sum.shape()));
        }
        residuals.put(name, sum == null ? value.copy() : sum.add(value));
        residualCounts.merge(name, 1, Integer::sum);
    }

    @Override
    public Optional<Tensor> get(String name) {
        if (inputs.containsKey(name)) {
            return Optional.of(inputs.get(name));
        }
        if (given.containsKey(name)) {
            return Optional.of(given.get(name));
        }
        return Optional.ofNullable(residuals.get(name));
    }

    /** @return the named inputs put so far (not those {@link #given}), in order */
    public Map<String, Tensor> inputs() {
        return Map.copyOf(inputs);
    }

    /** @return the residuals added so far, summed per name */
    public Map<String, FloatTensor> residuals() {
        return Map.copyOf(residuals);
    }

    /**
     * @param name a residual name
     * @return how many contributions were summed under it
     */
    public int residualContributions(String name) {
        return residualCounts.getOrDefault(name, 0);
    }

    /** @return the channel blocks appended so far, in order */
    public List<FloatTensor> channels() {
        return List.copyOf(channels);
    }

    /** @return whether the sample batch still holds what it held when these inputs were made */
    public boolean sampleUntouched() {
        return Arrays.equals(sample.array(), sampleBefore);
    }

    /**
     * @return every contribution, described ({@code input NAME [shape]}, {@code residual NAME [shape]},
     *         {@code channels I [shape]}) → a copy of its values ({@code float[]} or {@code long[]}), to compare runs
     */
    public Map<String, Object> snapshot() {
        Map<String, Object> s = new LinkedHashMap<>();
        inputs.forEach((k, v) -> s.put("input " + k + " " + Arrays.toString(v.shape()), values(v)));
        residuals.forEach((k, v) -> s.put("residual " + k + " " + Arrays.toString(v.shape()), values(v)));
        for (int i = 0; i < channels.size(); i++) {
            s.put("channels " + i + " " + Arrays.toString(channels.get(i).shape()), values(channels.get(i)));
        }
        return s;
    }

    private static Object values(Tensor t) {
        return t instanceof FloatTensor f ? f.array().clone() : ((io.conditio.api.LongTensor) t).array().clone();
    }
}
