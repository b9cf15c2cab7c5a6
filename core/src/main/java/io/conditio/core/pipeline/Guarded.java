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
                return guard.call(provider, "scheduler scaleModelInput", () -> s.scaleModelInput(sample, timestep));
            }

            @Override
            public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
                return guard.call(provider, "scheduler step", () -> {
                    FloatTensor out = s.step(modelOutput, timestep, sample, random);
                    requireShape(out, sample.shape(), "the sample's shape");
                    return out;
                });
            }

            @Override
            public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
                return guard.call(provider, "scheduler addNoise", () -> s.addNoise(original, noise, timestep));
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
                    int[] expected = modelOutput.shape().clone();
                    expected[0] = 1;
                    if (out != null && out.shape().length == expected.length && out.shape().length > 1) {
                        expected[1] = out.shape()[1]; // a UNet may predict more channels than the latents have
                    }
                    requireShape(out, expected, "batch 1, the model output's size");
                    if (!finite(out) && finite(modelOutput)) {
                        throw new IllegalStateException("returned non-finite values for a finite model output at "
                                + "step " + step.stepIndex());
                    }
                    return out;
                });
            }

            @Override
            public String describe() {
                return guard.call(provider, "guidance describe", g::describe);
            }
        };
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

            @Override
            public void contribute(StepContext step, UnetInputs inputs) {
                guard.run(conditioner, "conditioning contribute", () -> c.contribute(step, inputs));
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
}
