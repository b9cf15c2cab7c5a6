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
import java.util.Optional;
import org.pf4j.Extension;

/**
 * Guidance in an interval of the steps (after Kynkäänniemi et al. 2024, "Applying Guidance in a Limited Interval
 * Improves Sample and Distribution Quality in Diffusion Models", with the interval given as a fraction of the
 * scheduler steps rather than of the noise levels): the guidance below applies at the scheduler steps whose
 * position, the fraction of the steps before them, is in {@code [START, END)}; elsewhere the prediction is the
 * conditional one, as with a guidance scale of 1. {@code --param guidance_interval=0.2,0.8} guides steps 2 to 7
 * of 10. The UNet batch stays the same, so the steps outside the interval cost as much as the others.
 */
@Extension(ordinal = Ordinals.GUIDANCE_SCHEDULES)
public final class IntervalGuidanceProvider implements GuidanceProvider {
    /** The request parameter: {@code [START, END]}, fractions of the scheduler steps. */
    public static final String PARAMETER = "guidance_interval";

    @Override
    public String id() {
        return "interval";
    }

    @Override
    public List<ParameterDeclaration> parameters() {
        return List.of(ParameterDeclaration.builder(PARAMETER, ParameterType.NUMBER).list(2, 2).range(0, 1)
                .description("START,END: guide only the scheduler steps whose position (fraction of the steps "
                        + "before them) is in [START, END); unguided outside")
                .build());
    }

    @Override
    public Optional<Guidance> wrap(GenerationRequest request, Model unet, Guidance inner) {
        Object value = ModifierParameter.value(request, PARAMETER, inner);
        if (value == null) {
            return Optional.empty();
        }
        double[] interval = interval(value);
        return Optional.of(new Interval(inner, interval[0], interval[1]));
    }

    /**
     * @param value the parameter: two numbers
     * @return {@code [start, end]}
     * @throws InvalidRequestException when it is not two numbers with 0 &le; start &lt; end &le; 1
     */
    static double[] interval(Object value) {
        if (value instanceof List<?> list && list.size() == 2 && list.get(0) instanceof Number a
                && list.get(1) instanceof Number b) {
            double start = a.doubleValue();
            double end = b.doubleValue();
            if (start >= 0 && start < end && end <= 1) {
                return new double[] {start, end};
            }
        }
        throw new InvalidRequestException(PARAMETER + " must be two fractions START,END with 0 <= START < END <= 1, "
                + "e.g. 0.2,0.8; got " + value);
    }

    /** The guidance below inside the interval, the conditional prediction outside. */
    static final class Interval extends GuidanceModifier {
        private final double start;
        private final double end;

        Interval(Guidance inner, double start, double end) {
            super(inner);
            this.start = start;
            this.end = end;
        }

        /**
         * @param step a step
         * @return whether the guidance below applies at it
         */
        boolean guides(StepContext step) {
            double at = StepPosition.done(step);
            return at >= start && at < end;
        }

        @Override
        public FloatTensor combine(FloatTensor out, StepContext step) {
            return guides(step) ? super.combine(out, step) : conditional(out);
        }

        /** {@link #combine} into the host's tensor: the guidance below's {@code combineInto}, or the copied branch. */
        @Override
        public FloatTensor combineInto(FloatTensor out, StepContext step, FloatTensor into) {
            return guides(step) ? inner().combineInto(out, step, into) : conditionalInto(out, into);
        }

        @Override
        public String describe() {
            return "interval(" + start + ", " + end + ")";
        }
    }
}
