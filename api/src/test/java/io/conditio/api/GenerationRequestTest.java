package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GenerationRequestTest {

    @Test
    void defaultsFollowDiffusers() {
        GenerationRequest r = GenerationRequest.builder().setPrompt("a cat").build();
        assertThat(r.negativePrompt()).isEmpty();
        assertThat(r.guidanceScale()).isEqualTo(7.5);
        assertThat(r.steps()).isEmpty();
        assertThat(r.seed()).isEmpty();
    }

    @Test
    void invalidSettingsAreRefusedWithTheValue() {
        assertThatThrownBy(() -> GenerationRequest.builder().optSteps(0))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("got 0");
        assertThatThrownBy(() -> GenerationRequest.builder().optGuidanceScale(Double.NaN))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("NaN");
        assertThatThrownBy(() -> GenerationRequest.builder().optSize(-8, 64))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("-8x64");
    }

    @Test
    void parametersAreTypedOnRead() {
        GenerationRequest r = GenerationRequest.builder().optParameter("class_label", 3L).build();
        assertThat(r.parameter("class_label", Long.class)).contains(3L);
        assertThatThrownBy(() -> r.parameter("class_label", String.class))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("class_label");
    }

    @Test
    void toBuilderKeepsEverySetting() {
        GenerationRequest r = GenerationRequest.builder().setPrompt("p").optNegativePrompt("n").optSteps(3)
                .optSeed(9).optSize(32, 48).optScheduler("ddim").build();
        GenerationRequest copy = r.toBuilder().build();
        assertThat(copy.prompt()).isEqualTo("p");
        assertThat(copy.negativePrompt()).isEqualTo("n");
        assertThat(copy.steps()).contains(3);
        assertThat(copy.seed()).contains(9L);
        assertThat(copy.width()).contains(32);
        assertThat(copy.height()).contains(48);
        assertThat(copy.scheduler()).contains("ddim");
    }

    @Test
    void theSpiVersionIsReadFromTheJar() {
        assertThat(SpiVersion.current()).matches("\\d+\\.\\d+\\.\\d+");
    }
}
