package io.conditio.core.pipeline;

import io.conditio.api.ClassifierFreeGuidance;
import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceBranch;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.SingleBranchGuidance;
import io.conditio.api.StepContext;
import io.conditio.core.plugin.PluginGuard;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A generation's guidance as {@link GuidanceProvider} describes it: one base (the one provider whose {@code create}
 * claims the request, else classifier-free guidance or none), then every provider's {@code wrap} in the providers'
 * order. Each layer is guarded as the plugin that made it; {@link #describe()} is the whole chain, e.g.
 * {@code cfg(7.5) > cfg-rescale(0.7) > interval(0.2, 0.8)}.
 */
final class GuidanceChain implements Guidance {
    /** Joins the layers' descriptions. */
    static final String SEPARATOR = " > ";

    /**
     * One layer of the chain.
     *
     * @param provider    the provider that made it, or null for the host's own classifier-free guidance or none
     * @param description what the layer's {@code describe()} said when the chain was built
     */
    record Layer(GuidanceProvider provider, String description) {
    }

    private final Guidance outer;
    private final List<Layer> layers;
    private final String description;

    private GuidanceChain(Guidance outer, List<Layer> layers) {
        this.outer = outer;
        this.layers = List.copyOf(layers);
        List<String> parts = new ArrayList<>();
        for (Layer l : layers) {
            parts.add(l.description());
        }
        this.description = String.join(SEPARATOR, parts);
    }

    /**
     * @param providers the guidance providers, in the host's order
     * @param request   the request
     * @param unet      the UNet
     * @param guard     the guard for calls into the providers and their guidance
     * @param origin    names an extension's plugin ({@code id@version}), for the error when two bases claim it
     * @return the chain
     * @throws InvalidRequestException when two providers both return a base guidance for the request
     */
    static GuidanceChain build(List<GuidanceProvider> providers, GenerationRequest request, Model unet,
            PluginGuard guard, Function<Object, String> origin) {
        GuidanceProvider baseProvider = null;
        Guidance base = null;
        for (GuidanceProvider p : providers) {
            Optional<Guidance> g = guard.call(p, "guidance provider create", () -> p.create(request, unet));
            if (g == null || g.isEmpty()) {
                continue;
            }
            if (baseProvider != null) {
                throw new InvalidRequestException("two guidance providers both define the base guidance of this "
                        + "request: " + name(baseProvider, origin) + " and " + name(p, origin) + "; only one may "
                        + "(a provider that changes the guidance below it returns it from wrap, not create): "
                        + "leave out the request parameters of one, or remove its plugin");
            }
            baseProvider = p;
            base = Guarded.guidance(guard, p, g.get());
        }
        if (base == null) {
            base = request.guidanceScale() > 1.0 ? new ClassifierFreeGuidance(request.guidanceScale())
                    : new SingleBranchGuidance("none");
        }
        List<Layer> layers = new ArrayList<>();
        layers.add(new Layer(baseProvider, base.describe()));
        Guidance current = base;
        for (GuidanceProvider p : providers) {
            Guidance inner = current;
            Optional<Guidance> w = guard.call(p, "guidance provider wrap", () -> p.wrap(request, unet, inner));
            if (w == null || w.isEmpty()) {
                continue;
            }
            current = Guarded.guidance(guard, p, w.get());
            layers.add(new Layer(p, current.describe()));
        }
        return new GuidanceChain(current, layers);
    }

    private static String name(GuidanceProvider p, Function<Object, String> origin) {
        return p.id() + " (" + origin.apply(p) + ")";
    }

    /** @return the layers, base first */
    List<Layer> layers() {
        return layers;
    }

    @Override
    public List<GuidanceBranch> branches() {
        return outer.branches();
    }

    @Override
    public FloatTensor expand(FloatTensor latents) {
        return outer.expand(latents);
    }

    @Override
    public FloatTensor combine(FloatTensor modelOutput, StepContext step) {
        return outer.combine(modelOutput, step);
    }

    @Override
    public FloatTensor expandInto(FloatTensor latents, FloatTensor into) {
        return outer.expandInto(latents, into);
    }

    @Override
    public FloatTensor combineInto(FloatTensor modelOutput, StepContext step, FloatTensor into) {
        return outer.combineInto(modelOutput, step, into);
    }

    /** @return the chain, base first, e.g. {@code cfg(7.5) > cfg-rescale(0.7)} */
    @Override
    public String describe() {
        return description;
    }
}
