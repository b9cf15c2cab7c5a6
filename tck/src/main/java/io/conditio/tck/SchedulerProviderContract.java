package io.conditio.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ConfigurationException;
import io.conditio.api.FloatTensor;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;
import io.conditio.api.SchedulerProvider;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The contract of a {@link SchedulerProvider} and the schedulers it creates, as the denoise loop relies on it.
 * Extend it with the provider and a config it supports; the loop is run on a dummy model ({@code 0.5 × input}).
 */
public abstract class SchedulerProviderContract {
    /** @return a fresh provider */
    protected abstract SchedulerProvider provider();

    /** @return a config this provider supports (its {@code _class_name} among {@link SchedulerProvider#classNames}) */
    protected abstract SchedulerConfig config();

    /** @return a config key and value this provider must refuse, or null to skip that check */
    protected Map<String, Object> badConfig() {
        return null;
    }

    private FloatTensor run(Scheduler s, int steps, long seed) {
        s.setTimesteps(steps);
        TestRandom random = new TestRandom(seed);
        FloatTensor latents = random.randn(1, 4, 8, 8).mul(s.initNoiseSigma());
        for (float t : s.timesteps()) {
            FloatTensor in = s.scaleModelInput(latents, t);
            float[] before = latents.array().clone();
            FloatTensor next = s.step(in.mul(0.5f), t, latents, random);
            assertThat(latents.array()).as("step leaves the sample alone").containsExactly(before);
            assertThat(next.shape()).as("step keeps the shape").containsExactly(1, 4, 8, 8);
            latents = next;
        }
        return latents;
    }

    @Test
    void itNamesItsClassesAndDeclaresWellFormedParameters() {
        SchedulerProvider p = provider();
        assertThat(p.classNames()).as("classNames").isNotEmpty().doesNotContainNull();
        assertThat(p.presets()).as("presets").isNotNull().doesNotContainNull();
        Declarations.assertWellFormed("scheduler " + p.classNames().get(0), p.parameters());
    }

    @Test
    void theLoopGivesFiniteLatentsAndTheSameOnesUnderTheSameSeed() {
        FloatTensor a = run(provider().create(config()), 8, 7);
        for (float v : a.array()) {
            assertThat(Float.isFinite(v)).as("finite latents").isTrue();
        }
        assertThat(run(provider().create(config()), 8, 7).array()).as("same seed, same latents")
                .containsExactly(a.array());
    }

    @Test
    void schedulersShareNoStateAndTimestepsAreAFreshCopy() {
        Scheduler one = provider().create(config());
        FloatTensor alone = run(provider().create(config()), 6, 3);
        Scheduler other = provider().create(config());
        other.setTimesteps(13);
        FloatTensor interleaved = run(one, 6, 3);
        assertThat(interleaved.array()).as("another scheduler in use does not change this one")
                .containsExactly(alone.array());
        float[] t = one.timesteps();
        t[0] = -42f;
        assertThat(one.timesteps()[0]).as("timesteps() returns a copy").isNotEqualTo(-42f);
        assertThat(one.config().className()).as("config() names the class")
                .isIn(provider().classNames().toArray());
    }

    /**
     * The buffer-reusing forms ({@link Scheduler#scaleModelInputInto}, {@link Scheduler#stepInto}) run as a host
     * that reuses its buffers runs them: two latent buffers used in turn, and every buffer the host owns filled with
     * NaN once the call returns, as the host's next step overwrites them. They must give what {@code step} gives,
     * value for value, so a scheduler that kept one of those buffers instead of copying it fails here.
     */
    @Test
    void theBufferReusingFormsGiveWhatStepGivesAndKeepNoBufferOfTheHost() {
        Scheduler plain = provider().create(config());
        Scheduler reusing = provider().create(config());
        plain.setTimesteps(8);
        reusing.setTimesteps(8);
        TestRandom plainRandom = new TestRandom(11);
        TestRandom reusingRandom = new TestRandom(11);
        FloatTensor latents = plainRandom.randn(1, 4, 8, 8).mul(plain.initNoiseSigma());
        FloatTensor[] buffers = {reusingRandom.randn(1, 4, 8, 8).mul(reusing.initNoiseSigma()),
            FloatTensor.zeros(1, 4, 8, 8)};
        FloatTensor current = buffers[0];
        FloatTensor scaled = FloatTensor.zeros(1, 4, 8, 8);
        FloatTensor prediction = FloatTensor.zeros(1, 4, 8, 8);
        float[] timesteps = plain.timesteps();
        for (int i = 0; i < timesteps.length; i++) {
            float t = timesteps[i];
            FloatTensor in = plain.scaleModelInput(latents, t);
            latents = plain.step(in.mul(0.5f), t, latents, plainRandom);

            FloatTensor reusedIn = reusing.scaleModelInputInto(current, t, scaled);
            float[] p = prediction.array();
            for (int k = 0; k < p.length; k++) {
                p[k] = reusedIn.get(k) * 0.5f;
            }
            if (reusedIn == scaled) {
                java.util.Arrays.fill(scaled.array(), Float.NaN);
            }
            FloatTensor into = current == buffers[0] ? buffers[1] : buffers[0];
            java.util.Arrays.fill(into.array(), Float.NaN);
            float[] before = current.array().clone();
            FloatTensor next = reusing.stepInto(prediction, t, current, reusingRandom, into);
            assertThat(current.array()).as("stepInto leaves the sample alone").containsExactly(before);
            assertThat(next.shape()).as("stepInto keeps the shape").containsExactly(1, 4, 8, 8);
            assertThat(next.array()).as("stepInto at call %d gives what step gives", i)
                    .containsExactly(latents.array());
            java.util.Arrays.fill(prediction.array(), Float.NaN);
            if (next == into) {
                java.util.Arrays.fill(current.array(), Float.NaN);
                current = into;
            } else {
                current = next;
            }
        }
    }

    /** {@link Scheduler#addNoiseInto} gives what {@code addNoise} gives at every timestep, and keeps no buffer. */
    @Test
    void addNoiseIntoGivesWhatAddNoiseGives() {
        Scheduler plain = provider().create(config());
        Scheduler reusing = provider().create(config());
        plain.setTimesteps(8);
        reusing.setTimesteps(8);
        TestRandom random = new TestRandom(5);
        FloatTensor original = random.randn(1, 4, 8, 8);
        FloatTensor noise = random.randn(1, 4, 8, 8);
        FloatTensor into = FloatTensor.zeros(1, 4, 8, 8);
        for (float t : plain.timesteps()) {
            float[] expected = plain.addNoise(original, noise, t).array();
            java.util.Arrays.fill(into.array(), Float.NaN);
            FloatTensor noised = reusing.addNoiseInto(original, noise, t, into);
            assertThat(noised.shape()).as("addNoiseInto keeps the shape").containsExactly(1, 4, 8, 8);
            assertThat(noised.array()).as("addNoiseInto at timestep %s", t).containsExactly(expected);
        }
    }

    @Test
    void anUnsupportedConfigIsAConfigurationExceptionInWords() {
        Map<String, Object> bad = badConfig();
        if (bad == null) {
            return;
        }
        assertThatThrownBy(() -> provider().create(config().with(bad)).setTimesteps(4))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(bad.keySet().iterator().next());
    }
}
