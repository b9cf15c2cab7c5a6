package io.conditio.core;

import java.security.AccessController;
import java.security.PrivilegedAction;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Daemon threads for the host's own pools, made so that they keep no plugin alive.
 *
 * <p>A new thread inherits its creator's context class loader and the access-control context of every frame on the
 * creator's stack. Pools create their threads lazily, so the creator may be a generation running plugin code (a
 * conditioner calling a model, say); a thread made there would hold that plugin's class loader for as long as the
 * pool lives, long after the plugin was unloaded. These threads are created with only the host's frames in their
 * context and the host's class loader as their context loader.
 */
public final class HostThreads {
    private HostThreads() {
    }

    /**
     * @param prefix the thread name; a number is appended when {@code numbered}
     * @param numbered whether to number the threads ({@code prefix-1}, {@code prefix-2}, ...)
     * @return a factory of daemon threads that hold no reference to the creating thread's plugins
     */
    public static ThreadFactory daemon(String prefix, boolean numbered) {
        AtomicInteger n = new AtomicInteger();
        ClassLoader host = HostThreads.class.getClassLoader();
        return r -> create(() -> {
            Thread t = new Thread(r, numbered ? prefix + "-" + n.incrementAndGet() : prefix);
            t.setDaemon(true);
            t.setContextClassLoader(host);
            return t;
        });
    }

    @SuppressWarnings("removal")
    private static Thread create(PrivilegedAction<Thread> make) {
        // doPrivileged cuts the inherited access-control context at this frame: the caller's frames are not in it
        return AccessController.doPrivileged(make);
    }
}
