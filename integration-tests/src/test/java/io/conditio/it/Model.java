package io.conditio.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the model folder of a {@link io.conditio.core.pipeline.Pipeline} parameter or static field that
 * {@link ConditioExtension} opens: a diffusers-tiny fixture model ({@code sd-tiny}, {@code sd-tiny-legacy}, ...) or
 * {@link #SHAPES}, the shipped model.
 */
@Target({ElementType.PARAMETER, ElementType.FIELD})
@Retention(RetentionPolicy.RUNTIME)
@interface Model {
    /** The shipped shapes model (the folder the build names in {@code conditio.shapesModel}). */
    String SHAPES = "shapes";

    /** @return the fixture model's folder name under diffusers-tiny/models, or {@link #SHAPES} */
    String value();
}
