package io.conditio.core.testing;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test helper: resolves test resources (from {@code src/test/resources}) to file system paths. */
public final class Fixtures {

    private Fixtures() {
    }

    /**
     * Resolves a test resource through the class loader.
     *
     * @param relative the resource path relative to the test resources root, e.g. {@code "reference/torch-randn.json"}
     * @return the resource's path on disk
     * @throws AssertionError when the resource is missing or is not a plain file or folder on disk
     */
    public static Path resource(String relative) {
        String name = relative.startsWith("/") ? relative.substring(1) : relative;
        URL url = Fixtures.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new AssertionError("test resource '" + name + "' is missing: expected it under src/test/resources");
        }
        if (!"file".equals(url.getProtocol())) {
            throw new AssertionError("test resource '" + name + "' is not a file on disk: " + url);
        }
        try {
            Path path = Path.of(url.toURI());
            if (!Files.exists(path)) {
                throw new AssertionError("test resource '" + name + "' resolved to " + path + ", which does not exist");
            }
            return path;
        } catch (URISyntaxException e) {
            throw new AssertionError("test resource '" + name + "' has an unusable URL " + url, e);
        }
    }
}
