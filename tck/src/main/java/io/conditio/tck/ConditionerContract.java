package io.conditio.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.fail;

import io.conditio.api.ConditioException;
import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.Tensor;
import io.conditio.api.UnetInputDeclaration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The contract of a {@link Conditioner}, as the host relies on it: what it declares is what it contributes, the same
 * request and seed give the same contributions, generations and threads do not see each other's state, closing one
 * generation's conditioning leaves the others working, bad values are refused by its declarations naming the key,
 * and bad requests are refused in words. Extend it in the plugin's tests:
 *
 * <pre>{@code
 * class MyConditionerContractTest extends ConditionerContract {
 *     protected Conditioner conditioner() { return new MyConditioner(); }
 *     protected GenerationRequest request() {
 *         return GenerationRequest.builder().setPrompt("a red circle").optSeed(1).optParameter("my_key", 0.5).build();
 *     }
 *     protected Map<String, Object> invalidParameters() { return Map.of("my_key", 7.0); }
 * }
 * }</pre>
 *
 * The generations run {@link #steps()} UNet calls on {@link TestUnetInputs} whose sample is seeded noise, with the
 * context from {@link #context} ({@link TestConditioningContext}'s defaults unless overridden, e.g. to give real
 * models).
 */
public abstract class ConditionerContract {
    /** @return the conditioner under test (may be the same instance every time: conditioners are shared) */
    protected abstract Conditioner conditioner();

    /** @return a request this conditioner acts on, with a seed */
    protected abstract GenerationRequest request();

    /**
     * @return a second request it acts on whose contributions differ from {@link #request()}'s, so that state
     *         leaking from one generation into another shows; by default {@link #request()} with the seed plus one
     *         and a longer prompt
     */
    protected GenerationRequest otherRequest() {
        GenerationRequest r = request();
        return r.toBuilder().optSeed(r.seed().orElse(0L) + 1).setPrompt(r.prompt() + ", and a blue square").build();
    }

    /**
     * @param request a request
     * @return a fresh context for one generation of it; by default {@link TestConditioningContext}'s defaults
     */
    protected ConditioningContext context(GenerationRequest request) {
        return TestConditioningContext.builder(request).build();
    }

    /**
     * @param batch the UNet batch size
     * @return the inputs that conditionings running before this one set in every UNet call and that this one reads
     *         (a ControlNet reads {@code encoder_hidden_states}); none by default
     */
    protected Map<String, Tensor> inputsFromEarlierConditionings(int batch) {
        return Map.of();
    }

    /** @return UNet calls per generation in these tests */
    protected int steps() {
        return 3;
    }

    /**
     * @return whether it prepares a conditioning for every request (text cross-attention does); when false, a
     *         request without {@link #request()}'s parameters must be answered with an empty Optional
     */
    protected boolean actsOnEveryRequest() {
        return false;
    }

    /**
     * @return declared parameter (a top-level key) → a value its declaration must refuse, e.g. one out of range;
     *         the refusal must name the key
     */
    protected Map<String, Object> invalidParameters() {
        return Map.of();
    }

    /**
     * @return requests {@link Conditioner#prepare} must refuse with an {@link io.conditio.api.InvalidRequestException}
     *         (or another {@link ConditioException}), each with a fragment its message must contain
     */
    protected List<Refusal> refusedRequests() {
        return List.of();
    }

    /**
     * A request the conditioner must refuse, and what the message must say.
     *
     * @param request         the request
     * @param messageContains a fragment of the expected message, e.g. the parameter or file it names
     */
    public record Refusal(GenerationRequest request, String messageContains) {
    }

    /** One generation's contributions: per UNet call, what it put, added and appended. */
    private record Run(List<TestUnetInputs> calls, List<Map<String, Object>> snapshots, Map<String, String> provenance,
            List<UnetInputDeclaration> provides) {
    }

    /** A generation in progress, so that two can be interleaved call by call. */
    private final class Generation {
        final GenerationRequest request;
        final ConditioningContext context;
        final Conditioning conditioning;
        final List<UnetInputDeclaration> provides;
        final List<TestUnetInputs> calls = new ArrayList<>();
        int step;

        Generation(GenerationRequest request) {
            this.request = request;
            this.context = context(request);
            this.conditioning = conditioner().prepare(context).orElseThrow(() -> new AssertionError(conditioner().id()
                    + " prepared no conditioning for the request the test says it acts on: " + request.parameters()));
            this.provides = conditioning.provides();
        }

        /** Contributes to the next UNet call. */
        void next() {
            int[] shape = context.latentShape().clone();
            shape[0] = context.branches().size();
            FloatTensor sample = new TestRandom(1000L * request.seed().orElse(0L) + step).randn(shape);
            FloatTensor latents = sample.batchEntry(0);
            TestUnetInputs in = TestUnetInputs.of(sample);
            inputsFromEarlierConditionings(shape[0]).forEach(in::given);
            float t = steps() == 1 ? 999f : 999f * (steps() - 1 - step) / (steps() - 1);
            conditioning.contribute(TestStepContext.of(latents).step(step, steps()).timestep(Math.round(t))
                    .branches(context.branches()).request(request), in);
            calls.add(in);
            step++;
        }

        Run finish() {
            Map<String, String> provenance = conditioning.provenance();
            conditioning.close();
            return new Run(calls, calls.stream().map(TestUnetInputs::snapshot).toList(), provenance, provides);
        }
    }

    private Run generate(GenerationRequest request) {
        Generation g = new Generation(request);
        for (int i = 0; i < steps(); i++) {
            g.next();
        }
        return g.finish();
    }

    private String id() {
        return conditioner().id();
    }

    @Test
    void itHasAnIdAndWellFormedParameterDeclarations() {
        Conditioner c = conditioner();
        Declarations.assertIdAndDeclarations("conditioner", c.id(), c.parameters());
    }

    @Test
    void aRequestWithoutItsParametersGetsNoConditioningUnlessItActsOnEveryRequest() {
        if (actsOnEveryRequest()) {
            assertContributionsMatchDeclarations("conditioner " + id() + " for a request without "
                    + request().parameters().keySet(), generate(plain(request())));
            return;
        }
        assertThat(conditioner().prepare(context(plain(request()))))
                .as("%s prepares nothing for a request without %s", id(), request().parameters().keySet()).isEmpty();
    }

    private static GenerationRequest plain(GenerationRequest r) {
        GenerationRequest.Builder b = GenerationRequest.builder().setPrompt(r.prompt())
                .optNegativePrompt(r.negativePrompt()).optGuidanceScale(r.guidanceScale());
        r.seed().ifPresent(b::optSeed);
        r.width().ifPresent(b::optWidth);
        r.height().ifPresent(b::optHeight);
        return b.build();
    }

    @Test
    void whatItContributesIsWhatItDeclares() {
        assertContributionsMatchDeclarations("conditioner " + id(), generate(request()));
    }

    private void assertContributionsMatchDeclarations(String who, Run run) {
        assertThat(run.provides()).as("%s provides()", who).isNotEmpty().doesNotContainNull();
        List<UnetInputDeclaration> channelDecls = run.provides().stream()
                .filter(d -> d.kind() == UnetInputDeclaration.Kind.CHANNELS).toList();
        boolean[] used = new boolean[run.provides().size()];
        for (int s = 0; s < run.calls().size(); s++) {
            TestUnetInputs in = run.calls().get(s);
            String call = who + " at UNet call " + s;
            assertThat(in.sampleUntouched()).as("%s leaves the sample batch alone", call).isTrue();
            assertNamedContributions(call, "put", UnetInputDeclaration.Kind.INPUT, in.inputs(), run, used,
                    in.batchSize());
            assertNamedContributions(call, "added", UnetInputDeclaration.Kind.RESIDUAL, in.residuals(), run, used,
                    in.batchSize());
            assertThat(in.channels()).as("%s appends one channel block per CHANNELS declaration %s", call,
                    channelDecls).hasSize(channelDecls.size());
            for (int i = 0; i < channelDecls.size(); i++) {
                FloatTensor c = in.channels().get(i);
                assertThat(c.dim(1)).as("%s channel block %d (%s)", call, i, channelDecls.get(i).purpose())
                        .isEqualTo(channelDecls.get(i).shape()[1]);
                assertFinite(call + " channel block " + i, c);
                used[run.provides().indexOf(channelDecls.get(i))] = true;
            }
        }
        for (int d = 0; d < used.length; d++) {
            assertThat(used[d]).as("%s contributes what it declares, %s, in at least one of %d UNet calls", who,
                    run.provides().get(d), run.calls().size()).isTrue();
        }
        run.provenance().forEach((k, v) -> {
            assertThat(k).as("%s provenance key", who).isNotBlank().doesNotContain("\n").doesNotStartWith(id() + ".");
            assertThat(v).as("%s provenance value of %s", who, k).isNotNull();
        });
    }

    /**
     * Checks a UNet call's named inputs or residuals against the declarations of their kind, and marks the
     * declarations they meet as used.
     */
    private static void assertNamedContributions(String call, String verb, UnetInputDeclaration.Kind kind,
            Map<String, ? extends Tensor> contributed, Run run, boolean[] used, int batch) {
        String noun = kind.name().toLowerCase(Locale.ROOT);
        for (Map.Entry<String, ? extends Tensor> e : contributed.entrySet()) {
            int d = declared(run.provides(), kind, e.getKey());
            if (d < 0) {
                fail(call + " " + verb + " " + noun + " '" + e.getKey() + "', which it does not declare; it declares "
                        + run.provides());
            }
            used[d] = true;
            assertMatches(call + " " + noun + " '" + e.getKey() + "'", run.provides().get(d), e.getValue(), batch);
        }
    }

    private static int declared(List<UnetInputDeclaration> provides, UnetInputDeclaration.Kind kind, String name) {
        for (int i = 0; i < provides.size(); i++) {
            if (provides.get(i).kind() == kind && provides.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static void assertMatches(String what, UnetInputDeclaration d, Tensor value, int batch) {
        ElementType actual = value instanceof FloatTensor ? ElementType.FLOAT32 : ElementType.INT64;
        assertThat(actual).as("%s element type, declared %s", what, d).isEqualTo(d.elementType());
        int[] declared = d.shape();
        int[] shape = value.shape();
        assertThat(shape.length).as("%s rank %s, declared %s", what, Arrays.toString(shape), d)
                .isEqualTo(declared.length);
        for (int i = 0; i < shape.length; i++) {
            if (declared[i] >= 0) {
                assertThat(shape[i]).as("%s dimension %d of %s, declared %s", what, i, Arrays.toString(shape), d)
                        .isEqualTo(declared[i]);
            }
        }
        if (shape.length > 0) {
            assertThat(shape[0]).as("%s batch of %s: one entry per branch", what, Arrays.toString(shape))
                    .isEqualTo(batch);
        }
        if (value instanceof FloatTensor f) {
            assertFinite(what, f);
        }
    }

    private static void assertFinite(String what, FloatTensor t) {
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                fail(what + " holds " + a[i] + " at flat index " + i + " of " + Arrays.toString(t.shape()));
            }
        }
    }

    @Test
    void theSameRequestAndSeedGiveTheSameContributions() {
        Run first = generate(request());
        Run second = generate(request());
        assertSame("a second generation of the same request", first, second);
        assertThat(second.provenance()).as("provenance").isEqualTo(first.provenance());
        Run other = generate(otherRequest());
        assertThat(differs(first, other)).as("otherRequest() must contribute something different from request()"
                + " (the isolation tests depend on it); both gave the same").isTrue();
    }

    @Test
    void interleavedGenerationsKeepTheirOwnStateAndClosingOneLeavesTheOtherWorking() {
        Run a = generate(request());
        Run b = generate(otherRequest());
        Generation ga = new Generation(request());
        Generation gb = new Generation(otherRequest());
        for (int i = 0; i < steps(); i++) {
            ga.next();
            gb.next();
        }
        assertSame("generation A with B's calls in between", a, ga.finish());
        // B goes on after A was closed
        Generation gb2 = new Generation(otherRequest());
        Generation ga2 = new Generation(request());
        gb2.next();
        ga2.finish();
        for (int i = 1; i < steps(); i++) {
            gb2.next();
        }
        assertSame("generation B after another generation's conditioning was closed", b, gb2.finish());
        assertSame("generation B with A's calls in between", b, gb.finish());
    }

    @Test
    void generationsOnSeveralThreadsGiveWhatEachGivesAlone() throws Exception {
        Run a = generate(request());
        Run b = generate(otherRequest());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Run>> runs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                GenerationRequest r = i % 2 == 0 ? request() : otherRequest();
                runs.add(pool.submit(() -> generate(r)));
            }
            for (int i = 0; i < runs.size(); i++) {
                assertSame("generation " + (i % 2 == 0 ? "A" : "B") + " on thread " + i, i % 2 == 0 ? a : b,
                        runs.get(i).get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void invalidParameterValuesAreRefusedByItsDeclarationsNamingTheKey() {
        List<ParameterDeclaration> declared = conditioner().parameters();
        for (Map.Entry<String, Object> e : invalidParameters().entrySet()) {
            Optional<ParameterDeclaration> d = declared.stream().filter(p -> p.name().equals(e.getKey())).findFirst();
            assertThat(d).as("%s declares '%s'", id(), e.getKey()).isPresent();
            Optional<String> refusal = d.get().check(e.getValue());
            assertThat(refusal).as("%s's declaration of '%s' refuses %s", id(), e.getKey(), e.getValue()).isPresent();
            assertThat(refusal.get()).as("the refusal names the key").contains(e.getKey());
        }
        Map<String, Object> valid = request().parameters();
        for (ParameterDeclaration d : declared) {
            if (valid.containsKey(d.name())) {
                assertThat(d.check(valid.get(d.name()))).as("%s's declaration of '%s' admits request()'s value %s",
                        id(), d.name(), valid.get(d.name())).isEmpty();
            }
        }
    }

    @Test
    void badRequestsAreRefusedInWords() {
        for (Refusal r : refusedRequests()) {
            Throwable t = catchThrowable(() -> {
                Optional<Conditioning> c = conditioner().prepare(context(r.request()));
                c.ifPresent(Conditioning::close);
            });
            assertThat(t).as("%s refuses %s", id(), r.request().parameters()).isNotNull();
            assertThat(t).as("%s refuses %s with a ConditioException (InvalidRequestException, ...)", id(),
                    r.request().parameters()).isInstanceOf(ConditioException.class);
            assertThat(t.getMessage()).as("the refusal's message").isNotBlank().contains(r.messageContains());
        }
    }

    private static boolean differs(Run a, Run b) {
        return describeDifference(a.snapshots(), b.snapshots()) != null;
    }

    private void assertSame(String what, Run expected, Run actual) {
        String difference = describeDifference(expected.snapshots(), actual.snapshots());
        if (difference != null) {
            fail(id() + ": " + what + " differs from the generation run alone: " + difference);
        }
    }

    /** @return the first difference in words, or null when both are the same bit for bit */
    private static String describeDifference(List<Map<String, Object>> expected, List<Map<String, Object>> actual) {
        if (expected.size() != actual.size()) {
            return expected.size() + " UNet calls against " + actual.size();
        }
        for (int s = 0; s < expected.size(); s++) {
            Map<String, Object> e = expected.get(s);
            Map<String, Object> a = actual.get(s);
            if (!e.keySet().equals(a.keySet())) {
                return "UNet call " + s + " contributes " + a.keySet() + " instead of " + e.keySet();
            }
            for (String k : e.keySet()) {
                Object x = e.get(k);
                Object y = a.get(k);
                int i = firstDifference(x, y);
                if (i >= 0) {
                    return "UNet call " + s + ", " + k + ", at flat index " + i + ": " + element(y, i) + " instead of "
                            + element(x, i);
                }
            }
        }
        return null;
    }

    private static int firstDifference(Object x, Object y) {
        if (x instanceof float[] f && y instanceof float[] g) {
            for (int i = 0; i < Math.min(f.length, g.length); i++) {
                if (Float.floatToIntBits(f[i]) != Float.floatToIntBits(g[i])) {
                    return i;
                }
            }
            return f.length == g.length ? -1 : Math.min(f.length, g.length);
        }
        if (x instanceof long[] f && y instanceof long[] g) {
            return Arrays.mismatch(f, g);
        }
        return 0;
    }

    private static String element(Object values, int i) {
        if (values instanceof float[] f) {
            return i < f.length ? Float.toString(f[i]) : "nothing";
        }
        long[] l = (long[]) values;
        return i < l.length ? Long.toString(l[i]) : "nothing";
    }
}
