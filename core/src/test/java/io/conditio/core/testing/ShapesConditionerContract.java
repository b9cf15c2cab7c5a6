package io.conditio.core.testing;

import io.conditio.api.ConditioningContext;
import io.conditio.api.GenerationRequest;
import io.conditio.tck.ConditionerContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The conformance kit's conditioner contract over the shipped model: {@link ShapesFixture} opened once for the test
 * class and closed after it, and the conditioning context built over the UNet variant {@link #unet()} names.
 */
public abstract class ShapesConditionerContract extends ConditionerContract {
    private static ShapesFixture shapes;

    @BeforeAll
    static void openShapes() {
        shapes = ShapesFixture.open();
    }

    @AfterAll
    static void closeShapes() {
        shapes.close();
    }

    /** @return the shipped model opened for this test class */
    protected static ShapesFixture shapes() {
        return shapes;
    }

    /** @return the shipped model's UNet folder the conditioner is tested against ({@code unet} unless overridden) */
    protected String unet() {
        return "unet";
    }

    @Override
    protected ConditioningContext context(GenerationRequest request) {
        return shapes.context(request, unet()).build();
    }
}
