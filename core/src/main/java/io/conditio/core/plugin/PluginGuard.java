package io.conditio.core.plugin;

import io.conditio.api.ConditioException;
import io.conditio.api.PluginFailureException;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one way core calls into plugin code. A plugin's own bug (a {@code NullPointerException} in a scheduler's
 * {@code step}, an index out of bounds in a guidance {@code combine}) comes out as a {@link PluginFailureException}
 * naming what was called, the extension's class and the plugin's id and version, with the bug as its cause. A
 * {@link ConditioException} passes unchanged: it is the plugin telling the user what was wrong with the request.
 * Caught: any exception (a checked one thrown undeclared too), linkage errors (a plugin built against another api),
 * {@code StackOverflowError} and {@code AssertionError}; other errors (out of memory) pass unchanged.
 */
public final class PluginGuard {
    private final Function<Object, String> origin;

    /** @param host the host that loaded the extensions; it says which plugin each came from */
    public PluginGuard(PluginHost host) {
        this(host::origin);
    }

    /** @param origin {@code id@version} of the plugin an extension came from, {@code host} for the host's own */
    public PluginGuard(Function<Object, String> origin) {
        this.origin = origin;
    }

    /**
     * Calls plugin code.
     *
     * @param extension the extension the code belongs to (for a per-generation object such as a scheduler: the
     *                  extension that created it), to name its plugin
     * @param what      what is called, in words, e.g. {@code scheduler step}
     * @param call      the call
     * @param <T>       its result type
     * @return what the call returned
     * @throws PluginFailureException when the call fails with anything but a {@link ConditioException}
     */
    public <T> T call(Object extension, String what, Supplier<T> call) {
        try {
            return call.get();
        } catch (ConditioException e) {
            throw e;
        } catch (Exception | LinkageError | StackOverflowError | AssertionError e) {
            // Exception: also a checked exception a plugin threw undeclared; the two errors are plugin bugs too, and
            // leave the JVM sound (an OutOfMemoryError or other VirtualMachineError is not the plugin's to own)
            throw failure(extension, what, e);
        }
    }

    /**
     * Runs plugin code that returns nothing.
     *
     * @param extension as for {@link #call}
     * @param what      as for {@link #call}
     * @param call      the call
     * @throws PluginFailureException when the call fails with anything but a {@link ConditioException}
     */
    public void run(Object extension, String what, Runnable call) {
        call(extension, what, () -> {
            call.run();
            return null;
        });
    }

    /** A resource a plugin handed out, with the extension that handed it out. */
    public record Owned(Object extension, String what, AutoCloseable resource) {
    }

    /**
     * Closes plugin resources in reverse order, every one even when some fail. When the work that used them failed,
     * each close failure is added to that failure as a suppressed exception and nothing is thrown; otherwise the
     * first close failure is thrown, with the later ones suppressed, as try-with-resources does.
     *
     * @param resources the resources, in the order they were opened
     * @param primary   the failure of the work that used them, or null when it succeeded
     * @throws ConditioException the first close failure, when {@code primary} is null
     */
    public void closeAll(List<Owned> resources, Throwable primary) {
        ConditioException first = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            Owned o = resources.get(i);
            try {
                call(o.extension(), o.what(), () -> {
                    try {
                        o.resource().close();
                    } catch (RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    return null;
                });
            } catch (ConditioException e) {
                if (primary != null) {
                    primary.addSuppressed(e);
                } else if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private PluginFailureException failure(Object extension, String what, Throwable e) {
        return new PluginFailureException(what + " failed in plugin " + origin.apply(extension) + " ("
                + extension.getClass().getName() + "): " + e, e);
    }
}
