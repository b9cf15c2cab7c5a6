package io.conditio.it;

import java.util.ArrayList;
import java.util.List;

/** Garbage collection for the tests that wait for plugin class loaders to become unreachable. */
final class Heap {
    private Heap() {
    }

    /**
     * Asks for a collection, then allocates up to 64 MB and drops it, so that soft references and pending
     * finalization are not the reason something is still reachable, and waits 50 ms.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    static void collect() throws InterruptedException {
        System.gc();
        List<byte[]> pressure = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                pressure.add(new byte[8 << 20]);
            }
        } catch (OutOfMemoryError ignored) {
            // enough pressure
        }
        pressure.clear();
        Thread.sleep(50);
    }
}
