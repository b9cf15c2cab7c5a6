package io.conditio.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class UnetVariantNeedTest {
    @Test
    void inputsMatchWholeNames() {
        UnetVariantNeed n = new UnetVariantNeed("unet-x", "extra_\\d+");
        assertThat(n.supplies("extra_0")).isTrue();
        assertThat(n.supplies("my_extra_0")).isFalse();
        assertThat(n.supplies("extra_0_more")).isFalse();
    }

    @Test
    void theFolderIsAPlainNameAndTheInputsAPattern() {
        assertThatThrownBy(() -> new UnetVariantNeed("../unet", "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plain folder name");
        assertThatThrownBy(() -> new UnetVariantNeed("a/b", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new UnetVariantNeed("unet-x", "(")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unet-x").hasMessageContaining("regular expression");
    }
}
