package io.conditio.core.testing;

import io.conditio.api.ModelConfig;
import io.conditio.core.json.Json;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fakes of SPI interfaces for plugin unit tests, shared through the core's test jar. */
public final class InterfaceFakes {
    private InterfaceFakes() {
    }

    /**
     * A view of {@code impl} as {@code type}: interface methods go to {@code impl}'s methods of the same name and
     * parameter types, default methods without such a method run their default, and others throw. So the fakes keep
     * compiling when the SPI gains methods.
     *
     * @param type an interface
     * @param impl an object with some of its methods
     * @param <T>  the interface
     * @return the view
     */
    public static <T> T as(Class<T> type, Object impl) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            Method target;
            try {
                target = impl.getClass().getDeclaredMethod(method.getName(), method.getParameterTypes());
            } catch (NoSuchMethodException e) {
                if (method.getDeclaringClass() == Object.class) {
                    target = method;
                } else if (method.isDefault()) {
                    return InvocationHandler.invokeDefault(proxy, method, args);
                } else {
                    throw new UnsupportedOperationException(type.getSimpleName() + "." + method.getName()
                            + " is not faked");
                }
            }
            try {
                target.setAccessible(true);
                return target.invoke(impl, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }

    /**
     * @param modelFile a (possibly fake) model file
     * @return the config.json beside it, as the core's models read it, or the empty config
     */
    public static ModelConfig configBeside(Path modelFile) {
        Path file = modelFile.toAbsolutePath().resolveSibling("config.json");
        return Files.isRegularFile(file) ? ModelConfig.of(Json.parseObject(file), file) : ModelConfig.empty();
    }
}
