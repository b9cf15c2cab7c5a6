package io.conditio.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.ClassifierFreeGuidance;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceModifier;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.PluginFailureException;
import io.conditio.api.SingleBranchGuidance;
import io.conditio.api.StepContext;
import io.conditio.core.plugin.PluginGuard;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GuidanceChainTest {
    private static final PluginGuard GUARD = new PluginGuard(e -> ((Named) e).id() + "-plugin@2.0.0");
    private static final FloatTensor OUT = FloatTensor.of(new float[] {0.5f, -1f, 2f, 1.5f, 3f, -2f}, 2, 3);

    /** A provider with an id; the guard names its plugin after it. */
    private interface Named extends GuidanceProvider {
    }

    /** Adds {@code delta} to the guided prediction of the chain below, when the request's scale is above 1. */
    private static Named adding(String id, float delta) {
        return new Named() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public Optional<Guidance> wrap(GenerationRequest request, Model unet, Guidance inner) {
                if (inner.branches().size() < 2) {
                    return Optional.empty();
                }
                return Optional.of(new GuidanceModifier(inner) {
                    @Override
                    public FloatTensor combine(FloatTensor out, StepContext step) {
                        float[] a = super.combine(out, step).array().clone();
                        for (int i = 0; i < a.length; i++) {
                            a[i] += delta;
                        }
                        return FloatTensor.of(a, 1, 3);
                    }

                    @Override
                    public String describe() {
                        return id + "(" + delta + ")";
                    }
                });
            }
        };
    }

    /** Claims every request with its own base guidance: the conditional prediction alone. */
    private static Named base(String id) {
        return new Named() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public Optional<Guidance> create(GenerationRequest request, Model unet) {
                return Optional.of(new SingleBranchGuidance(id));
            }
        };
    }

    private static GuidanceChain chain(double scale, List<GuidanceProvider> providers) {
        return GuidanceChain.build(providers, GenerationRequest.builder().optGuidanceScale(scale).build(), null,
                GUARD, e -> ((Named) e).id() + "-plugin@2.0.0");
    }

    @Test
    void withoutProvidersItIsClassifierFreeGuidanceOrNone() {
        GuidanceChain cfg = chain(7.5, List.of());
        assertThat(cfg.describe()).isEqualTo("cfg(7.5)");
        assertThat(cfg.layers()).singleElement().satisfies(l -> assertThat(l.provider()).isNull());
        assertThat(cfg.combine(OUT, null).array()).containsExactly(ClassifierFreeGuidance.guide(OUT, 7.5f).array());
        assertThat(chain(1.0, List.of()).describe()).isEqualTo("none");
    }

    @Test
    void modifiersWrapTheBaseInTheProvidersOrderAndTheChainNamesEachOfThem() {
        Named first = adding("plus-one", 1f);
        Named second = adding("plus-ten", 10f);
        GuidanceChain chain = chain(4.0, List.of(first, second));
        assertThat(chain.describe()).isEqualTo("cfg(4.0) > plus-one(1.0) > plus-ten(10.0)");
        assertThat(chain.layers()).extracting(GuidanceChain.Layer::provider).containsExactly(null, first, second);
        float[] cfg = ClassifierFreeGuidance.guide(OUT, 4f).array();
        float[] got = chain.combine(OUT, null).array();
        for (int i = 0; i < cfg.length; i++) {
            assertThat(got[i]).isEqualTo(cfg[i] + 1f + 10f);
        }
        assertThat(chain.branches()).isEqualTo(new ClassifierFreeGuidance(4.0).branches());
    }

    @Test
    void aModifierWithNothingToActOnIsLeftOutOfTheChain() {
        GuidanceChain chain = chain(1.0, List.of(adding("plus-one", 1f)));
        assertThat(chain.describe()).isEqualTo("none");
        assertThat(chain.layers()).hasSize(1);
    }

    @Test
    void aBaseFromAPluginReplacesClassifierFreeGuidanceAndModifiersWrapIt() {
        Named lcm = base("embedded");
        GuidanceChain chain = chain(8.0, List.of(adding("plus-one", 1f), lcm));
        // one branch: the modifier has nothing to rescale and stays out
        assertThat(chain.describe()).isEqualTo("embedded");
        assertThat(chain.layers()).extracting(GuidanceChain.Layer::provider).containsExactly(lcm);
    }

    @Test
    void twoBasesForOneRequestAreAnErrorNamingBothPlugins() {
        assertThatThrownBy(() -> chain(7.5, List.of(base("pix2pix"), adding("plus-one", 1f), base("lcm"))))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("pix2pix (pix2pix-plugin@2.0.0) and lcm (lcm-plugin@2.0.0)")
                .hasMessageContaining("only one may");
    }

    @Test
    void aFailingModifierIsNamedNotTheGuidanceBelowIt() {
        Named broken = new Named() {
            @Override
            public String id() {
                return "broken";
            }

            @Override
            public Optional<Guidance> wrap(GenerationRequest request, Model unet, Guidance inner) {
                return Optional.of(new GuidanceModifier(inner) {
                    @Override
                    public FloatTensor combine(FloatTensor out, StepContext step) {
                        throw new IllegalStateException("boom");
                    }

                    @Override
                    public String describe() {
                        return "broken";
                    }
                });
            }
        };
        GuidanceChain chain = chain(7.5, List.of(adding("plus-one", 1f), broken));
        assertThatThrownBy(() -> chain.combine(OUT, null)).isInstanceOf(PluginFailureException.class)
                .hasMessageContaining("guidance combine failed in plugin broken-plugin@2.0.0")
                .hasMessageContaining("boom");
    }
}
