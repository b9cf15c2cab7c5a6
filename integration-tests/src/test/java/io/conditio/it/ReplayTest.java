package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.GenerationRequest;
import io.conditio.core.Conditio;
import io.conditio.core.onnx.OnnxModel;
import io.conditio.core.onnx.Replay;
import io.conditio.core.pipeline.Pipeline;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark floor: a generation's UNet calls recorded and replayed bare. */
class ReplayTest {
    @Test
    void everyUnetCallOfAGenerationIsRecordedAndReplays() {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
             Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
            GenerationRequest request = GenerationRequest.builder().setPrompt("a red circle").optSteps(6).optSeed(1)
                    .optSchedulerConfig(Map.of("_class_name", "DDIMScheduler")).build();
            OnnxModel unet = pipeline.folder().model("unet");
            try (Replay replay = Replay.record(unet, () -> pipeline.generate(request))) {
                assertThat(replay.calls()).isEqualTo(6);
                assertThat(replay.run()).isPositive();
                assertThat(replay.run()).isPositive();
            }
            // recording stopped: a replay of nothing is refused in words
            assertThatThrownBy(() -> Replay.record(unet, () -> { })).hasMessageContaining("nothing called unet");
        }
    }
}
