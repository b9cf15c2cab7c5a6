package io.conditio.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.conditio.api.Conditioner;
import io.conditio.api.Conditioning;
import io.conditio.api.ConditioningContext;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.StepContext;
import io.conditio.api.UnetInputDeclaration;
import io.conditio.api.UnetInputs;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * The conditioner contract against conditioners in plain Java: a correct one passes every test; one that keeps
 * state across generations, one that contributes other shapes than it declares, and one whose declaration admits a
 * bad value each fail the tests that should catch them, and only those.
 */
class ConditionerContractSelfTest {
    /** Set while this test runs the contracts below, which fail on purpose and are skipped when run on their own. */
    static final String RUN_FIXTURES = "conditio.tck.contractFixtures";

    /** Puts {@code class_embeds [batch, 4]}: the request's strength, the seed's noise and the step, per row. */
    static class StrengthConditioner implements Conditioner {
        final AtomicInteger calls = new AtomicInteger();
        boolean leaky;
        int width = 4;
        double maximum = 1;

        @Override
        public String id() {
            return "strength";
        }

        @Override
        public List<ParameterDeclaration> parameters() {
            return List.of(ParameterDeclaration.builder("strength", ParameterType.NUMBER).range(0, maximum)
                    .description("how strong").build());
        }

        @Override
        public Optional<Conditioning> prepare(ConditioningContext context) {
            Object s = context.request().parameters().get("strength");
            if (s == null) {
                return Optional.empty();
            }
            if (!(s instanceof Number n) || n.doubleValue() > 1) {
                throw new InvalidRequestException("strength must be a number in [0, 1], got " + s);
            }
            float strength = n.floatValue();
            FloatTensor noise = context.random().randn(1, width);
            return Optional.of(new Conditioning() {
                @Override
                public List<UnetInputDeclaration> provides() {
                    return List.of(UnetInputDeclaration.input("class_embeds", ElementType.FLOAT32,
                            new int[] {-1, 4}, "--strength"));
                }

                @Override
                public void contribute(StepContext step, UnetInputs inputs) {
                    int extra = leaky ? calls.getAndIncrement() : 0;
                    float[] v = new float[inputs.batchSize() * width];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = strength * noise.get(i % width) + step.stepIndex() + extra;
                    }
                    inputs.put("class_embeds", FloatTensor.of(v, inputs.batchSize(), width));
                }
            });
        }
    }

    abstract static class StrengthContract extends ConditionerContract {
        @Override
        protected GenerationRequest request() {
            return GenerationRequest.builder().setPrompt("p").optSeed(3).optParameter("strength", 0.5).build();
        }

        @Override
        protected GenerationRequest otherRequest() {
            return request().toBuilder().optParameter("strength", 0.25).build();
        }

        @Override
        protected Map<String, Object> invalidParameters() {
            return Map.of("strength", 2.0);
        }

        @Override
        protected List<Refusal> refusedRequests() {
            return List.of(new Refusal(request().toBuilder().optParameter("strength", 3.0).build(), "strength"));
        }
    }

    @EnabledIfSystemProperty(named = RUN_FIXTURES, matches = "true")
    static class Correct extends StrengthContract {
        @Override
        protected Conditioner conditioner() {
            return new StrengthConditioner();
        }
    }

    @EnabledIfSystemProperty(named = RUN_FIXTURES, matches = "true")
    static class Leaky extends StrengthContract {
        private final StrengthConditioner shared = new StrengthConditioner();

        Leaky() {
            shared.leaky = true;
        }

        @Override
        protected Conditioner conditioner() {
            return shared;
        }
    }

    @EnabledIfSystemProperty(named = RUN_FIXTURES, matches = "true")
    static class Misdeclared extends StrengthContract {
        @Override
        protected Conditioner conditioner() {
            StrengthConditioner c = new StrengthConditioner();
            c.width = 5;
            return c;
        }
    }

    @EnabledIfSystemProperty(named = RUN_FIXTURES, matches = "true")
    static class LooseDeclaration extends StrengthContract {
        @Override
        protected Conditioner conditioner() {
            StrengthConditioner c = new StrengthConditioner();
            c.maximum = 10;
            return c;
        }
    }

    private static Set<String> failed(Class<?> contract) {
        Events tests;
        System.setProperty(RUN_FIXTURES, "true");
        try {
            tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(contract)).execute().testEvents();
        } finally {
            System.clearProperty(RUN_FIXTURES);
        }
        assertThat(tests.started().count()).as("tests run in %s", contract.getSimpleName()).isEqualTo(8);
        return tests.failed().stream().map(e -> e.getTestDescriptor().getDisplayName().replace("()", ""))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void aCorrectConditionerPassesEveryTest() {
        assertThat(failed(Correct.class)).isEmpty();
    }

    @Test
    void stateKeptAcrossGenerationsFailsDeterminismAndIsolation() {
        assertThat(failed(Leaky.class)).contains("theSameRequestAndSeedGiveTheSameContributions",
                "interleavedGenerationsKeepTheirOwnStateAndClosingOneLeavesTheOtherWorking",
                "generationsOnSeveralThreadsGiveWhatEachGivesAlone")
                .doesNotContain("itHasAnIdAndWellFormedParameterDeclarations", "badRequestsAreRefusedInWords");
    }

    @Test
    void contributingAnotherShapeThanDeclaredFailsTheDeclarationCheckOnly() {
        assertThat(failed(Misdeclared.class)).containsExactly("whatItContributesIsWhatItDeclares");
    }

    @Test
    void aDeclarationThatAdmitsABadValueFailsTheParameterCheckOnly() {
        assertThat(failed(LooseDeclaration.class))
                .containsExactly("invalidParameterValuesAreRefusedByItsDeclarationsNamingTheKey");
    }
}
