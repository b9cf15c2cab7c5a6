package io.conditio.plugins.guidance;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.Guidance;
import io.conditio.api.GuidanceModifier;
import io.conditio.api.GuidanceProvider;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.Ordinals;
import io.conditio.api.ParameterDeclaration;
import io.conditio.api.ParameterType;
import io.conditio.api.StepContext;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.pf4j.Extension;

/**
 * A guidance strength that changes over the scheduler steps: the prediction is
 * {@code cond + w × (guided − cond)}, with {@code guided} the guidance below and {@code w} from 1 to 0 over the
 * steps ({@code linear}, {@code cosine}) or from 0 to 1 ({@code linear-up}, {@code cosine-up}, the increasing
 * schedules Wang et al. 2024 found to work well). Over classifier-free guidance at scale {@code g} this is guidance
 * at scale {@code 1 + w × (g − 1)}. Both calls of a Heun step get the same {@code w}.
 */
@Extension(ordinal = Ordinals.GUIDANCE_SCHEDULES)
public final class AnnealGuidanceProvider implements GuidanceProvider {
    /** The request parameter: the schedule's shape. */
    public static final String PARAMETER = "guidance_anneal";

    /** The shapes of the schedule. */
    enum Shape {
        LINEAR, COSINE, LINEAR_UP, COSINE_UP;

        /** @return the name as requested, e.g. {@code linear-up} */
        String key() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /**
         * @param progress 0 at the first scheduler step, 1 at the last
         * @return the weight of the guidance below at that step
         */
        double weight(double progress) {
            return switch (this) {
                case LINEAR -> 1 - progress;
                case COSINE -> 0.5 * (1 + Math.cos(Math.PI * progress));
                case LINEAR_UP -> progress;
                case COSINE_UP -> 0.5 * (1 - Math.cos(Math.PI * progress));
            };
        }

        static Shape of(Object value) {
            for (Shape s : values()) {
                if (s.key().equals(value)) {
                    return s;
                }
            }
            throw new InvalidRequestException(PARAMETER + " must be one of " + keys() + ", got " + value);
        }

        static List<String> keys() {
            return java.util.Arrays.stream(values()).map(Shape::key).toList();
        }
    }

    @Override
    public String id() {
        return "anneal";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(ParameterDeclaration.builder(PARAMETER, ParameterType.ENUM)
                .allowedValues(Shape.keys().toArray(String[]::new))
                .description("guidance strength over the scheduler steps: linear or cosine from full at the first "
                        + "step to none at the last; linear-up or cosine-up from none to full")
                .build());
    }

    @Override
    public Optional<Guidance> wrap(GenerationRequest request, Model unet, Guidance inner) {
        Object value = ModifierParameter.value(request, PARAMETER, inner);
        return value == null ? Optional.empty() : Optional.of(new Annealed(inner, Shape.of(value)));
    }

    /** The guidance below, weighed against the conditional prediction step by step. */
    static final class Annealed extends GuidanceModifier {
        private final Shape shape;

        Annealed(Guidance inner, Shape shape) {
            super(inner);
            this.shape = shape;
        }

        /**
         * @param step a step
         * @return the weight of the guidance below at it
         */
        double weight(StepContext step) {
            return shape.weight(StepPosition.progress(step));
        }

        @Override
        public FloatTensor combine(FloatTensor out, StepContext step) {
            double w = weight(step);
            if (w >= 1) {
                return super.combine(out, step);
            }
            FloatTensor cond = conditional(out);
            if (w <= 0) {
                return cond;
            }
            float[] guided = super.combine(out, step).array();
            float[] c = cond.array();
            float fw = (float) w;
            float[] r = new float[c.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = c[i] + fw * (guided[i] - c[i]);
            }
            return FloatTensor.of(r, cond.shape());
        }

        /**
         * {@link #combine} into the host's tensor: the guidance below writes into {@code into}, and the weighing
         * with the conditional branch, read where it lies in the output, happens there in place.
         */
        @Override
        public FloatTensor combineInto(FloatTensor out, StepContext step, FloatTensor into) {
            double w = weight(step);
            if (w >= 1) {
                return inner().combineInto(out, step, into);
            }
            if (w <= 0) {
                return conditionalInto(out, into);
            }
            int count = branches().size();
            int index = conditionalBranch(branches());
            if (into.size() * count != out.size() || index < 0) {
                return combine(out.copy(), step);
            }
            float[] guided = inner().combineInto(out, step, into).array();
            float[] o = out.array();
            int from = index * into.size();
            float fw = (float) w;
            float[] r = into.array();
            for (int i = 0; i < r.length; i++) {
                float c = o[from + i];
                r[i] = c + fw * (guided[i] - c);
            }
            return into;
        }

        @Override
        public String describe() {
            return "anneal(" + shape.key() + ")";
        }
    }
}
