package io.conditio.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.ClassifierFreeGuidance;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The contract of a {@link GuidanceProvider}, as the host relies on it, for a base guidance (from
 * {@link GuidanceProvider#create}) or a modifier (from {@link GuidanceProvider#wrap}, over {@link #inner()}: by
 * default classifier-free guidance at the request's scale). Extend it in the plugin's tests:
 *
 * <pre>{@code
 * class MyGuidanceContractTest extends GuidanceProviderContract {
 *     protected GuidanceProvider provider() { return new MyGuidanceProvider(); }
 *     protected GenerationRequest request() {
 *         return GenerationRequest.builder().optGuidanceScale(7.5).optParameter("my_key", 0.5).build();
 *     }
 * }
 * }</pre>
 */
public abstract class GuidanceProviderContract {
    /** @return a fresh provider */
    protected abstract GuidanceProvider provider();

    /** @return a request that this provider acts on */
    protected abstract GenerationRequest request();

    /** @return the UNet it is asked for; by default a 4-channel Stable Diffusion UNet signature */
    protected Model unet() {
        return TestModels.unet(4, 4);
    }

    /** @return the latent shape the tests use, batch 1 */
    protected int[] latentShape() {
        return new int[] {1, 4, 8, 8};
    }

    /**
     * @return the guidance a modifier wraps in these tests; by default classifier-free guidance at the request's
     *     scale (override it to wrap instruct-pix2pix's three branches, for example)
     */
    protected Guidance inner() {
        return new ClassifierFreeGuidance(request().guidanceScale());
    }

    private Guidance guidance() {
        GuidanceProvider p = provider();
        Optional<Guidance> base = p.create(request(), unet());
        if (base.isPresent()) {
            return base.get();
        }
        return p.wrap(request(), unet(), inner()).orElseThrow(() -> new AssertionError(p.id()
                + " returned no guidance, neither from create nor from wrap, for the request the test says it acts "
                + "on: " + request().parameters()));
    }

    private FloatTensor output(Guidance g, long seed) {
        int[] shape = latentShape().clone();
        shape[0] = g.branches().size();
        return new TestRandom(seed).randn(shape);
    }

    @Test
    void itHasAnIdAndWellFormedParameterDeclarations() {
        GuidanceProvider p = provider();
        Declarations.assertIdAndDeclarations("guidance", p.id(), p.parameters());
    }

    @Test
    void theRequestItActsOnGivesAGuidanceWithBranchesAndADescription() {
        Guidance g = guidance();
        assertThat(g.branches()).as("branches").isNotEmpty().doesNotContainNull();
        assertThat(g.describe()).as("describe()").isNotBlank().doesNotContain("\n");
    }

    @Test
    void aModifierDescribesItselfAloneAndKeepsOneBatchEntryPerBranch() {
        GuidanceProvider p = provider();
        if (p.create(request(), unet()).isPresent()) {
            return; // a base guidance: the host does not wrap it in anything of its own
        }
        Guidance wrapped = guidance();
        assertThat(wrapped.describe()).as("describe() of a modifier: the host joins the chain")
                .doesNotContain(inner().describe());
        FloatTensor batch = wrapped.expand(new TestRandom(6).randn(latentShape()));
        assertThat(batch.dim(0)).as("batch of the wrapped guidance").isEqualTo(wrapped.branches().size());
    }

    @Test
    void expandRepeatsTheLatentsOncePerBranchAndLeavesThemAlone() {
        Guidance g = guidance();
        FloatTensor latents = new TestRandom(1).randn(latentShape());
        float[] before = latents.array().clone();
        FloatTensor batch = g.expand(latents);
        assertThat(latents.array()).as("latents untouched").containsExactly(before);
        int[] expected = latentShape().clone();
        expected[0] = g.branches().size();
        assertThat(batch.shape()).as("expand shape").containsExactly(expected);
        int n = before.length;
        for (int b = 0; b < g.branches().size(); b++) {
            float[] slice = new float[n];
            System.arraycopy(batch.array(), b * n, slice, 0, n);
            assertThat(slice).as("branch %d of the batch", b).containsExactly(before);
        }
    }

    @Test
    void combineGivesOneFiniteBatchOfTheLatentShapeAndLeavesItsInputAlone() {
        Guidance g = guidance();
        FloatTensor out = output(g, 2);
        float[] before = out.array().clone();
        FloatTensor guided = g.combine(out, TestStepContext.of(new TestRandom(3).randn(latentShape()))
                .step(0, 10).request(request()).branches(g.branches()));
        assertThat(out.array()).as("model output untouched").containsExactly(before);
        assertThat(guided.shape()).as("combine shape").containsExactly(latentShape());
        for (float v : guided.array()) {
            assertThat(Float.isFinite(v)).as("finite guided prediction").isTrue();
        }
    }

    @Test
    void combineIsDeterministicAndKeepsNoStateBetweenGenerationsOrThreads() throws Exception {
        FloatTensor expected = combineAt(guidance(), 4, 5);
        Guidance shared = guidance();
        // interleaved with another generation's calls
        combineAt(shared, 9, 2);
        assertThat(combineAt(shared, 4, 5).array()).as("same inputs, same output").containsExactly(expected.array());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<FloatTensor>> runs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                runs.add(pool.submit(() -> combineAt(guidance(), 4, 5)));
            }
            for (Future<FloatTensor> f : runs) {
                assertThat(f.get().array()).as("from another thread").containsExactly(expected.array());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The buffer-reusing forms ({@link Guidance#expandInto}, {@link Guidance#combineInto}) run as a host that reuses
     * its buffers runs them, over the steps of a run: they must give what {@code expand} and {@code combine} give,
     * value for value, with every buffer the host owns filled with NaN once the call returns, as the host's next
     * step overwrites them.
     */
    @Test
    void theBufferReusingFormsGiveWhatThePlainOnesGiveAtEveryStep() {
        Guidance plain = guidance();
        Guidance reusing = guidance();
        int[] batchShape = latentShape().clone();
        batchShape[0] *= plain.branches().size();
        FloatTensor batchBuffer = FloatTensor.full(Float.NaN, batchShape);
        FloatTensor guidedBuffer = FloatTensor.full(Float.NaN, latentShape());
        int steps = 10;
        for (int i = 0; i < steps; i++) {
            FloatTensor latents = new TestRandom(20 + i).randn(latentShape());
            FloatTensor batch = reusing.expandInto(latents, batchBuffer);
            assertThat(batch.array()).as("expandInto at step %d gives what expand gives", i)
                    .containsExactly(plain.expand(latents).array());
            FloatTensor out = output(plain, 40 + i);
            var step = TestStepContext.of(latents).step(i, steps).request(request()).branches(plain.branches());
            FloatTensor expected = plain.combine(out.copy(), step);
            FloatTensor guided = reusing.combineInto(out, step, guidedBuffer);
            assertThat(guided.shape()).as("combineInto shape").containsExactly(latentShape());
            assertThat(guided.array()).as("combineInto at step %d gives what combine gives", i)
                    .containsExactly(expected.array());
            java.util.Arrays.fill(batchBuffer.array(), Float.NaN);
            java.util.Arrays.fill(guidedBuffer.array(), Float.NaN);
            java.util.Arrays.fill(out.array(), Float.NaN);
        }
    }

    private FloatTensor combineAt(Guidance g, int step, long seed) {
        return g.combine(output(g, seed), TestStepContext.of(new TestRandom(seed + 1).randn(latentShape()))
                .step(step, 10).request(request()).branches(g.branches()));
    }
}
