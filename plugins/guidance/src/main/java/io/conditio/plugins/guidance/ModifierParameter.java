package io.conditio.plugins.guidance;

import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceModifier;

/** The request parameter that turns on one of this plugin's guidance modifiers. */
final class ModifierParameter {
    private ModifierParameter() {
    }

    /**
     * @param request the request
     * @param key     the modifier's parameter
     * @param inner   the guidance it would wrap
     * @return the parameter's value; null when the request does not give it, or when {@code inner} has fewer than
     *         two branches or none that keeps every condition (the modifiers weigh the guided prediction against
     *         that branch's, so they would change nothing)
     */
    static Object value(GenerationRequest request, String key, Guidance inner) {
        Object value = request.parameters().get(key);
        if (value == null || inner.branches().size() < 2
                || GuidanceModifier.conditionalBranch(inner.branches()) < 0) {
            return null;
        }
        return value;
    }
}
