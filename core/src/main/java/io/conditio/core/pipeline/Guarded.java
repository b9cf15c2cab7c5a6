package io.conditio.core.pipeline;

import io.conditio.api.Conditioning;
import io.conditio.api.FloatTensor;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.RandomSource;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.StepContext;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import io.conditio.core.plugin.PluginGuard;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The per-generation objects plugins hand out (scheduler, guidance, conditioning), seen through the
 * {@link PluginGuard}: every method call goes through it, named after the extension that made the object, so the
 * loop, {@link LatentStart} and {@link MaskBlend} cannot call plugin code unguarded.
 */
final class Guarded {
    private Guarded() {
    }

    static Scheduler scheduler(PluginGuard guard, Object provider, Scheduler s) {
        return new Scheduler() {
            @Override
            public void setTimesteps(int numInferenceSteps) {
                guard.run(provider, "scheduler setTimesteps", () -> s.setTimesteps(numInferenceSteps));
            }

            @Override
            public float[] timesteps() {
                return guard.call(provider, "scheduler timesteps", s::timesteps);
            }

            @Override
            public float initNoiseSigma() {
                return guard.call(provider, "scheduler initNoiseSigma", s::initNoiseSigma);
            }

            @Override
            public int order() {
                return guard.call(provider, "scheduler order", s::order);
            }

            @Override
            public int stepOfCall(int call) {
                return guard.call(provider, "scheduler stepOfCall", () -> s.stepOfCall(call));
            }

            @Override
            public int subStepOfCall(int call) {
                return guard.call(provider, "scheduler subStepOfCall", () -> s.subStepOfCall(call));
            }

            @Override
            public void setBeginIndex(int beginIndex) {
                guard.run(provider, "scheduler setBeginIndex", () -> s.setBeginIndex(beginIndex));
            }

            @Override
            public FloatTensor scaleModelInput(FloatTensor sample, float timestep) {
                return guard.call(provider, "scheduler scaleModelInput", () -> {
                    FloatTensor out = s.scaleModelInput(sample, timestep);
                    requireShape(out, sample.shape(), "the sample's shape");
                    requireFinite(out, "the sample", sample, timestep);
                    return out;
                });
            }

            @Override
            public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
                return guard.call(provider, "scheduler step",
                        () -> checkedStep(s.step(modelOutput, timestep, sample, random), modelOutput, sample,
                                timestep));
            }

            @Override
            public FloatTensor scaleModelInputInto(FloatTensor sample, float timestep, FloatTensor into) {
                return guard.call(provider, "scheduler scaleModelInput", () -> {
                    FloatTensor out = s.scaleModelInputInto(sample, timestep, into);
                    requireShape(out, sample, "the sample's shape");
                    requireFinite(out, "the sample", sample, timestep);
                    return out;
                });
            }

            @Override
            public FloatTensor stepInto(FloatTensor modelOutput, float timestep, FloatTensor sample,
                    RandomSource random, FloatTensor into) {
                return guard.call(provider, "scheduler step",
                        () -> checkedStep(s.stepInto(modelOutput, timestep, sample, random, into), modelOutput,
                                sample, timestep));
            }

            @Override
            public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
                return guard.call(provider, "scheduler addNoise", () -> {
                    FloatTensor out = s.addNoise(original, noise, timestep);
                    requireShape(out, original.shape(), "the original's shape");
                    if (finite(noise)) {
                        requireFinite(out, "the original and noise", original, timestep);
                    }
                    return out;
                });
            }

            @Override
            public FloatTensor addNoiseInto(FloatTensor original, FloatTensor noise, float timestep,
                    FloatTensor into) {
                return guard.call(provider, "scheduler addNoise", () -> {
                    FloatTensor out = s.addNoiseInto(original, noise, timestep, into);
                    requireShape(out, original, "the original's shape");
                    if (finite(noise)) {
                        requireFinite(out, "the original and noise", original, timestep);
                    }
                    return out;
                });
            }

            @Override
            public SchedulerConfig config() {
                return guard.call(provider, "scheduler config", s::config);
            }
        };
    }

    static Guidance guidance(PluginGuard guard, Object provider, Guidance g) {
        return new Guidance() {
            @Override
            public List<GuidanceBranch> branches() {
                return guard.call(provider, "guidance branches", g::branches);
            }

            @Override
            public FloatTensor expand(FloatTensor latents) {
                return guard.call(provider, "guidance expand", () -> {
                    FloatTensor out = g.expand(latents);
                    int[] expected = latents.shape().clone();
                    expected[0] = g.branches().size();
                    requireShape(out, expected, "one batch entry per branch");
                    return out;
                });
            }

            @Override
            public FloatTensor combine(FloatTensor modelOutput, StepContext step) {
                return guard.call(provider, "guidance combine", () -> {
                    FloatTensor out = g.combine(modelOutput, step);
                    requireCombined(out, modelOutput, step);
                    return out;
                });
            }

            @Override
            public FloatTensor expandInto(FloatTensor latents, FloatTensor into) {
                return guard.call(provider, "guidance expand", () -> {
                    FloatTensor out = g.expandInto(latents, into);
                    int[] expected = latents.shape();
                    expected[0] = into.dim(0);
                    requireShape(out, expected, "one batch entry per branch");
                    return out;
                });
            }

            @Override
            public FloatTensor combineInto(FloatTensor modelOutput, StepContext step, FloatTensor into) {
                return guard.call(provider, "guidance combine", () -> {
                    FloatTensor out = g.combineInto(modelOutput, step, into);
                    requireCombined(out, modelOutput, step);
                    return out;
                });
            }

            @Override
            public String describe() {
                return guard.call(provider, "guidance describe", g::describe);
            }
        };
    }

    private static void requireCombined(FloatTensor out, FloatTensor modelOutput, StepContext step) {
        int[] expected = modelOutput.shape();
        expected[0] = 1;
        if (out != null && out.rank() == expected.length && expected.length > 1) {
            expected[1] = out.dim(1); // a UNet may predict more channels than the latents have
        }
        requireShape(out, expected, "batch 1, the model output's size");
        if (!finite(out) && finite(modelOutput)) {
            throw new IllegalStateException("returned non-finite values for a finite model output at "
                    + "step " + step.stepIndex());
        }
    }

    /** A result that is not of the shape of {@code like} is the plugin's bug; checked without copying shapes. */
    /** A scheduler step's result: the sample's shape, and finite where the model output and sample were. */
    private static FloatTensor checkedStep(FloatTensor out, FloatTensor modelOutput, FloatTensor sample,
            float timestep) {
        requireShape(out, sample, "the sample's shape");
        if (finite(modelOutput)) {
            requireFinite(out, "the model output and sample", sample, timestep);
        }
        return out;
    }

    private static void requireShape(FloatTensor out, FloatTensor like, String what) {
        if (out != null && out.rank() == like.rank()) {
            boolean same = true;
            for (int i = 0; i < out.rank() && same; i++) {
                same = out.dim(i) == like.dim(i);
            }
            if (same) {
                return;
            }
        }
        requireShape(out, like.shape(), what);
    }

    /** A plugin's result of the wrong shape is its bug: the guard names the plugin. */
    private static void requireShape(FloatTensor out, int[] expected, String what) {
        if (out == null) {
            throw new IllegalStateException("returned null; expected a tensor " + Arrays.toString(expected));
        }
        if (!Arrays.equals(out.shape(), expected)) {
            throw new IllegalStateException("returned " + Arrays.toString(out.shape()) + "; expected "
                    + Arrays.toString(expected) + " (" + what + ")");
        }
    }

    /** Non-finite values made from finite inputs are the plugin's bug, not the model's. */
    private static void requireFinite(FloatTensor out, String inputs, FloatTensor input, float timestep) {
        if (finite(input) && !finite(out)) {
            throw new IllegalStateException("returned non-finite values (" + firstNonFinite(out) + ") for finite "
                    + inputs + " at timestep " + timestep);
        }
    }

    private static String firstNonFinite(FloatTensor t) {
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                return a[i] + " at flat index " + i + " of " + Arrays.toString(t.shape());
            }
        }
        return "none";
    }

    private static boolean finite(FloatTensor t) {
        for (float v : t.array()) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    static Conditioning conditioning(PluginGuard guard, Object conditioner, Conditioning c) {
        return new Conditioning() {
            @Override
            public List<UnetInputDeclaration> provides() {
                return guard.call(conditioner, "conditioning provides", c::provides);
            }

            private List<UnetInputDeclaration> declared;

            @Override
            public void contribute(StepContext step, UnetInputs inputs) {
                guard.run(conditioner, "conditioning contribute", () -> {
                    if (declared == null) {
                        declared = List.copyOf(c.provides());
                    }
                    c.contribute(step, new CheckedInputs(inputs, declared));
                });
            }

            @Override
            public Map<String, String> provenance() {
                return guard.call(conditioner, "conditioning provenance", c::provenance);
            }

            @Override
            public void close() {
                guard.run(conditioner, "conditioning close", c::close);
            }
        };
    }

    /**
     * A conditioning's view of one UNet call: what it puts, adds or appends must be what it declares in
     * {@link Conditioning#provides()} (name and kind, element type, rank, the fixed dimensions, one batch entry per
     * branch, or one per branch and image with several images per prompt) and finite, else the contribution is
     * refused, and the guard names the plugin.
     */
    private static final class CheckedInputs implements UnetInputs {
        private final UnetInputs inputs;
        private final List<UnetInputDeclaration> declared;

        CheckedInputs(UnetInputs inputs, List<UnetInputDeclaration> declared) {
            this.inputs = inputs;
            this.declared = declared;
        }

        @Override
        public FloatTensor sample() {
            return inputs.sample();
        }

        @Override
        public int batchSize() {
            return inputs.batchSize();
        }

        @Override
        public int imagesPerPrompt() {
            return inputs.imagesPerPrompt();
        }

        @Override
        public void put(String name, io.conditio.api.Tensor value) {
            check("input", UnetInputDeclaration.Kind.INPUT, name, value);
            inputs.put(name, value);
        }

        @Override
        public void addResidual(String name, FloatTensor value) {
            check("residual", UnetInputDeclaration.Kind.RESIDUAL, name, value);
            inputs.addResidual(name, value);
        }

        @Override
        public void appendChannels(FloatTensor channels) {
            int[] s = channels.shape();
            boolean declaredCount = s.length == 4 && declared.stream().anyMatch(d ->
                    d.kind() == UnetInputDeclaration.Kind.CHANNELS && (d.shape()[1] < 0 || d.shape()[1] == s[1]));
            if (!declaredCount) {
                throw new IllegalStateException("appended channels of shape " + Arrays.toString(s) + ", which it "
                        + "does not declare; it declares " + names());
            }
            requireFiniteContribution("channels", channels);
            inputs.appendChannels(channels);
        }

        @Override
        public java.util.Optional<io.conditio.api.Tensor> get(String name) {
            return inputs.get(name);
        }

        private void check(String what, UnetInputDeclaration.Kind kind, String name, io.conditio.api.Tensor value) {
            UnetInputDeclaration d = declared.stream().filter(x -> x.kind() == kind && x.name().equals(name))
                    .findFirst().orElseThrow(() -> new IllegalStateException(what + " '" + name + "', which it "
                            + "does not declare; it declares " + names()));
            String label = what + " '" + name + "'";
            if (value == null) {
                throw new IllegalStateException(label + " is null; expected " + describe(d));
            }
            int[] shape = value.shape();
            int[] expected = d.shape();
            int batch = inputs.batchSize();
            int branches = batch / inputs.imagesPerPrompt();
            boolean ok = value.elementType() == d.elementType() && shape.length == expected.length
                    && (shape.length == 0 || shape[0] == batch || shape[0] == branches);
            // the batch is checked above: a declaration made with one entry per branch also covers the full batch
            for (int i = shape.length == 0 || inputs.imagesPerPrompt() == 1 ? 0 : 1; ok && i < shape.length; i++) {
                ok = expected[i] < 0 || expected[i] == shape[i];
            }
            if (!ok) {
                throw new IllegalStateException(label + " is " + value.elementType() + " " + Arrays.toString(shape)
                        + "; expected " + describe(d) + " with batch " + batch + (batch == branches
                        ? " (one entry per branch)" : " (one entry per branch and image) or " + branches
                        + " (one entry per branch)"));
            }
            if (value instanceof FloatTensor f) {
                requireFiniteContribution(label, f);
            }
        }

        private static void requireFiniteContribution(String label, FloatTensor t) {
            if (!finite(t)) {
                throw new IllegalStateException(label + " holds non-finite values (" + firstNonFinite(t) + ")");
            }
        }

        private static String describe(UnetInputDeclaration d) {
            return d.elementType() + " " + Arrays.toString(d.shape()).replace("-1", "any") + " as declared";
        }

        private List<String> names() {
            return declared.stream().map(d -> d.kind().name().toLowerCase(java.util.Locale.ROOT) + " " + d.name())
                    .toList();
        }
    }
}
