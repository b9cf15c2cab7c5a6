package io.conditio.core.recipe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InfoTextTest {
    private static Map<String, String> provenance() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("prompt", "a red circle, small\nsecond line");
        p.put("negative_prompt", "blurry");
        p.put("steps", "20");
        p.put("scheduler", "dpm++2m-karras");
        p.put("guidance_scale", "7.0");
        p.put("seed", "1234");
        p.put("width", "512");
        p.put("height", "768");
        p.put("model", "/models/sd15");
        p.put("model_hash", "1a2b3c4d5e6f7a8b");
        p.put("plugins", "scheduler=schedulers@0.1.0, text=text-conditioning@0.1.0");
        return p;
    }

    @Test
    void writesA1111sLayoutWithQuotedValuesAndConditiosKeys() {
        String text = InfoText.format(provenance());
        assertThat(text).isEqualTo("a red circle, small\nsecond line\nNegative prompt: blurry\nSteps: 20, "
                + "Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, "
                + "Model hash: 1a2b3c4d5e, Model: sd15, Conditio scheduler: dpm++2m-karras, Conditio plugins: "
                + "\"scheduler=schedulers@0.1.0, text=text-conditioning@0.1.0\", "
                + "Conditio model hash: 1a2b3c4d5e6f7a8b");
    }

    @Test
    void readsItBackAndReadsA1111sOwnText() {
        Map<String, String> back = InfoText.parse(InfoText.format(provenance()));
        assertThat(back).containsEntry("Prompt", "a red circle, small\nsecond line")
                .containsEntry("Negative prompt", "blurry").containsEntry("Sampler", "DPM++ 2M")
                .containsEntry("Conditio plugins", "scheduler=schedulers@0.1.0, text=text-conditioning@0.1.0")
                .containsEntry("Size", "512x768").containsEntry("Seed", "1234");
        Map<String, String> a1111 = InfoText.parse("masterpiece, cat\nNegative prompt: dog\nSteps: 30, "
                + "Sampler: Euler a, CFG scale: 7, Seed: 99, Size: 512x512, Model hash: abcdef1234, Model: v1-5");
        assertThat(a1111).containsEntry("Prompt", "masterpiece, cat").containsEntry("Steps", "30")
                .containsEntry("Model", "v1-5").containsEntry("Model hash", "abcdef1234");
        assertThat(InfoText.samplerName("euler-a")).isEqualTo("Euler a");
        assertThat(InfoText.samplerName("tcd")).isEqualTo("tcd");
    }

    @Test
    void aQuotedValueThatIsNotAJsonStringIsReadAsItStands() {
        Map<String, String> p = InfoText.parse("x\nSteps: 20, Lora hashes: \"cyan: \\q12\", Seed: \"7");

        assertThat(p).containsEntry("Steps", "20").containsEntry("Lora hashes", "cyan: \\q12")
                .containsEntry("Seed", "7");
    }

    @Test
    void aHostsOwnPairsReplaceTheMadeOnesInTheirPlaceOrFollowThem() {
        Map<String, String> own = new java.util.LinkedHashMap<>();
        own.put("Schedule type", "Exponential");
        own.put("Conditio plugins", null);
        own.put("Version", "conditio 9.9");
        String line = InfoText.format(provenance(), own).lines().reduce((a, b) -> b).orElseThrow();

        assertThat(line).contains("Sampler: DPM++ 2M, Schedule type: Exponential, CFG scale: ").doesNotContain("Conditio plugins")
                .endsWith(", Version: conditio 9.9");
        assertThat(InfoText.parse(InfoText.format(provenance(), own))).containsEntry("Schedule type", "Exponential");
    }
}
