package io.conditio.it;

import io.conditio.core.Conditio;
import io.conditio.core.onnx.NativeObjects;
import io.conditio.core.pipeline.Pipeline;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The shared fixture of the integration tests: a {@link Conditio} started on the plugin jars the build made, and
 * pipelines over the fixture models, handed to test and lifecycle methods as parameters, or set in the test class's
 * static fields before its {@code @BeforeAll} methods run.
 *
 * <ul>
 *   <li>{@code Conditio conditio} (a parameter, or a static field marked {@link Fixture}): started once per test
 *       class on {@link TinyFixtures#pluginDir()};</li>
 *   <li>{@code @Model("sd-tiny") Pipeline p} (a parameter or a static field): that model opened once per test
 *       class.</li>
 * </ul>
 *
 * When the class ends the pipelines and then Conditio are closed, and the class fails if it leaves more ONNX
 * sessions or tensors open than there were when it first asked for the fixture.
 */
final class ConditioExtension implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
            ConditioExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) throws IllegalAccessException {
        for (Field field : context.getRequiredTestClass().getDeclaredFields()) {
            Model model = field.getAnnotation(Model.class);
            boolean conditio = field.isAnnotationPresent(Fixture.class);
            if (model == null && !conditio) {
                continue;
            }
            Class<?> expected = model != null ? Pipeline.class : Conditio.class;
            if (!Modifier.isStatic(field.getModifiers()) || field.getType() != expected) {
                throw new ExtensionConfigurationException(field + " must be a static " + expected.getSimpleName());
            }
            Opened opened = opened(context);
            field.setAccessible(true);
            field.set(null, model != null ? pipeline(opened, model.value(), field) : opened.conditio());
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == Conditio.class || type == Pipeline.class && parameter.isAnnotated(Model.class);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Opened opened = opened(context);
        if (parameter.getParameter().getType() == Conditio.class) {
            return opened.conditio();
        }
        String name = parameter.findAnnotation(Model.class).orElseThrow().value();
        try {
            return opened.pipeline(name);
        } catch (RuntimeException e) {
            throw new ParameterResolutionException("cannot open model " + name + " for parameter "
                    + parameter.getParameter() + " of " + parameter.getDeclaringExecutable(), e);
        }
    }

    private static Opened opened(ExtensionContext context) {
        return classContext(context).getStore(NAMESPACE)
                .getOrComputeIfAbsent(Opened.class, k -> new Opened(), Opened.class);
    }

    private static Pipeline pipeline(Opened opened, String name, Field field) {
        try {
            return opened.pipeline(name);
        } catch (RuntimeException e) {
            throw new ExtensionConfigurationException("cannot open model " + name + " for field " + field, e);
        }
    }

    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
            c = c.getParent().get();
        }
        return c;
    }

    static Path modelFolder(String name) {
        return name.equals(Model.SHAPES)
                ? TinyFixtures.directoryProperty("conditio.shapesModel", "the shipped model")
                : TinyFixtures.model(name);
    }

    /** What one test class opened; closed with the class's store (JUnit closes the AutoCloseable values it holds). */
    private static final class Opened implements AutoCloseable {
        private final long sessionsBefore = NativeObjects.openSessions();
        private final long tensorsBefore = NativeObjects.openTensors();
        private final Map<String, Pipeline> pipelines = new LinkedHashMap<>();
        private Conditio conditio;

        synchronized Conditio conditio() {
            if (conditio == null) {
                conditio = Conditio.start(List.of(TinyFixtures.pluginDir()));
            }
            return conditio;
        }

        synchronized Pipeline pipeline(String name) {
            Pipeline p = pipelines.get(name);
            if (p == null) {
                p = conditio().open(modelFolder(name));
                pipelines.put(name, p);
            }
            return p;
        }

        @Override
        public synchronized void close() {
            RuntimeException failure = null;
            List<AutoCloseable> all = new ArrayList<>(pipelines.values());
            java.util.Collections.reverse(all);
            if (conditio != null) {
                all.add(conditio);
            }
            for (AutoCloseable c : all) {
                try {
                    c.close();
                } catch (Exception e) {
                    if (failure == null) {
                        failure = new IllegalStateException("closing the test class's fixture failed", e);
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
            long sessions = NativeObjects.openSessions() - sessionsBefore;
            long tensors = NativeObjects.openTensors() - tensorsBefore;
            if (sessions > 0 || tensors > 0) {
                throw new AssertionError("the test class left " + sessions + " ONNX session(s) and " + tensors
                        + " tensor(s) open after its pipelines and Conditio were closed; expected none");
            }
        }
    }
}
