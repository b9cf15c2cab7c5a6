package io.conditio.plugins.film;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Model;
import io.conditio.api.StepContext;
import java.util.List;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * Latent Consistency Models take the guidance scale as an input ({@code timestep_cond}) instead of running
 * classifier-free guidance, as diffusers' LatentConsistencyModelPipeline does: for a UNet that declares
 * {@code timestep_cond} the batch is the conditional branch alone, whatever the guidance scale.
 */
@Extension
public final class LcmGuidanceProvider implements GuidanceProvider {

    @Override
    public String id() {
        return "lcm";
    }

    @Override
    public Optional<Guidance> create(GenerationRequest request, Model unet) {
        if (!unet.inputs().containsKey(FilmConditioner.TIMESTEP_COND_INPUT)) {
            return Optional.empty();
        }
        return Optional.of(new EmbeddedGuidance(request.guidanceScale()));
    }

    /** One conditional branch; the scale travels in timestep_cond. */
    private record EmbeddedGuidance(double scale) implements Guidance {
        @Override
        public List<GuidanceBranch> branches() {
            return List.of(GuidanceBranch.CONDITIONAL);
        }

        @Override
        public FloatTensor expand(FloatTensor latents) {
            return latents;
        }

        @Override
        public FloatTensor combine(FloatTensor modelOutput, StepContext step) {
            return modelOutput;
        }

        @Override
        public String describe() {
            return "embedded(" + scale + ")";
        }
    }
}
