package io.conditio.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a static {@link io.conditio.core.Conditio} field that {@link ConditioExtension} sets to the test class's
 * shared Conditio before the class's {@code @BeforeAll} methods run.
 */
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
@interface Fixture {
}
