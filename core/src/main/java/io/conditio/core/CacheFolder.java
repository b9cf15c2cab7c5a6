package io.conditio.core;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The per-user folder where Conditio keeps what it can make again but would rather not: the ONNX Runtime native
 * libraries unpacked from their jar, model folder hashes, latent-preview projections. Everything in it is keyed by
 * what it was made from, so deleting the folder only costs time on the next start.
 */
public final class CacheFolder {
    /** System property naming the cache folder; wins over {@code $CONDITIO_CACHE}. */
    public static final String PROPERTY = "conditio.cache";

    private CacheFolder() {
    }

    /**
     * @return {@code -Dconditio.cache}, else {@code $CONDITIO_CACHE}, else {@code $XDG_CACHE_HOME/conditio}, else
     *     {@code ~/.cache/conditio}; empty when none is set and there is no home directory
     */
    public static Optional<Path> root() {
        String p = System.getProperty(PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv("CONDITIO_CACHE");
        }
        if (p != null && !p.isBlank()) {
            return Optional.of(Path.of(p).toAbsolutePath());
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Optional.of(Path.of(xdg, "conditio").toAbsolutePath());
        }
        String home = System.getProperty("user.home");
        if (home == null || home.isBlank() || home.equals("?")) {
            return Optional.empty();
        }
        return Optional.of(Path.of(home, ".cache", "conditio"));
    }
}
