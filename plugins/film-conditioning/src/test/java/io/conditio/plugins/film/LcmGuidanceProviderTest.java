package io.conditio.plugins.film;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.Model;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LcmGuidanceProviderTest {

    private static Model unet(boolean timestepCond) {
        Map<String, TensorSpec> inputs = new LinkedHashMap<>();
        inputs.put("sample", new TensorSpec("sample", ElementType.FLOAT32, new long[] {-1, 4, -1, -1}));
        if (timestepCond) {
            inputs.put("timestep_cond", new TensorSpec("timestep_cond", ElementType.FLOAT32, new long[] {-1, 256}));
        }
        return new Model() {
            @Override
            public String name() {
                return "unet";
            }

            @Override
            public Path path() {
                return Path.of("unet/model.onnx");
            }

            @Override
            public Map<String, TensorSpec> inputs() {
                return inputs;
            }

            @Override
            public Map<String, TensorSpec> outputs() {
                return Map.of();
            }

            @Override
            public Map<String, Tensor> run(Map<String, ? extends Tensor> feeds) {
                throw new UnsupportedOperationException();
            }
        };
    }

    @Test
    void aUnetWithTimestepCondRunsOneBranchWhateverTheGuidanceScale() {
        GenerationRequest request = GenerationRequest.builder().setPrompt("x").optGuidanceScale(8.0).build();
        Guidance g = new LcmGuidanceProvider().create(request, unet(true)).orElseThrow();
        assertThat(g.branches()).containsExactly(GuidanceBranch.CONDITIONAL);
        FloatTensor latents = FloatTensor.of(new float[] {1, 2}, 1, 2);
        assertThat(g.expand(latents)).isSameAs(latents);
        assertThat(g.combine(latents, null)).isSameAs(latents);
        assertThat(g.describe()).isEqualTo("embedded(8.0)");
    }

    @Test
    void otherUnetsKeepTheDefaultGuidance() {
        GenerationRequest request = GenerationRequest.builder().setPrompt("x").build();
        assertThat(new LcmGuidanceProvider().create(request, unet(false))).isEmpty();
    }
}
