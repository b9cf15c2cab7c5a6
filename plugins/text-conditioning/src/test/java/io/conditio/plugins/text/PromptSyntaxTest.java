package io.conditio.plugins.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.InvalidRequestException;
import io.conditio.plugins.text.PromptSyntax.Fragment;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class PromptSyntaxTest {
    private static final Offset<Double> EPS = Offset.offset(1e-12);

    @Test
    void plainTextIsOneFragmentOfWeightOne() {
        assertThat(PromptSyntax.parse("a red circle")).containsExactly(new Fragment("a red circle", 1.0));
    }

    @Test
    void roundBracketsMultiplyByOnePointOneAndNest() {
        var f = PromptSyntax.parse("a ((red)) circle");
        assertThat(f).extracting(Fragment::text).containsExactly("a ", "red", " circle");
        assertThat(f.get(1).weight()).isCloseTo(1.1 * 1.1, EPS);
    }

    @Test
    void squareBracketsDivideByOnePointOne() {
        var f = PromptSyntax.parse("[blue] sky");
        assertThat(f.get(0)).satisfies(x -> {
            assertThat(x.text()).isEqualTo("blue");
            assertThat(x.weight()).isCloseTo(1 / 1.1, EPS);
        });
    }

    @Test
    void anExplicitWeightReplacesTheGroupsFactor() {
        var f = PromptSyntax.parse("a (red circle:1.5) and (green:0.5)");
        assertThat(f).extracting(Fragment::text).containsExactly("a ", "red circle", " and ", "green");
        assertThat(f).extracting(Fragment::weight).containsExactly(1.0, 1.5, 1.0, 0.5);
    }

    @Test
    void explicitWeightsInsideAGroupMultiply() {
        var f = PromptSyntax.parse("((red:2))");
        assertThat(f).singleElement().satisfies(x -> assertThat(x.weight()).isCloseTo(2.2, EPS));
    }

    @Test
    void escapedBracketsAreLiteral() {
        assertThat(PromptSyntax.parse("a \\(literal\\) \\[x\\]"))
                .containsExactly(new Fragment("a (literal) [x]", 1.0));
    }

    @Test
    void aColonWithoutANumberIsText() {
        assertThat(PromptSyntax.parse("(ratio: wide)")).singleElement()
                .satisfies(x -> assertThat(x.text()).isEqualTo("ratio: wide"));
    }

    @Test
    void anUnclosedGroupWeightsTheRestAndAStrayCloserIsText() {
        var f = PromptSyntax.parse("a (red circle");
        assertThat(f.get(1).text()).isEqualTo("red circle");
        assertThat(f.get(1).weight()).isCloseTo(1.1, EPS);
        assertThat(PromptSyntax.parse("smile :)")).containsExactly(new Fragment("smile :)", 1.0));
    }

    @Test
    void emptyTextHasNoFragments() {
        assertThat(PromptSyntax.parse("")).isEmpty();
        assertThat(PromptSyntax.isPlain(PromptSyntax.parse(""))).isTrue();
    }

    @Test
    void aWeightThatOverflowsIsRefusedNamingTheText() {
        String huge = "(cyan circle:1" + "0".repeat(400) + ")";
        String deep = "(".repeat(8000) + "x";

        assertThatThrownBy(() -> PromptSyntax.parse(huge)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("'cyan circle'").hasMessageContaining("Infinity");
        assertThatThrownBy(() -> PromptSyntax.parse(deep)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("weights must be finite");
        assertThat(PromptSyntax.parse("(x:1" + "0".repeat(300) + ")").get(0).weight()).isEqualTo(1e300);
    }
}
