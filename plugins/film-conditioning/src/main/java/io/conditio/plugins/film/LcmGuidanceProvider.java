package io.conditio.plugins.film;

import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.Model;
import io.conditio.api.SingleBranchGuidance;
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
        // one conditional branch; the scale travels in timestep_cond
        return Optional.of(new SingleBranchGuidance("embedded(" + request.guidanceScale() + ")"));
    }
}
