package io.conditio.core.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.zip.CRC32;

/**
 * ONNX Runtime's native libraries unpacked once into a cache folder, instead of into a new temporary folder by every
 * process (28 MB inflated on each start for linux-x64). ONNX Runtime loads them from there when the system property
 * {@code onnxruntime.native.path} names the folder.
 *
 * <p>The folder is {@code onnxruntime/VERSION-OS-ARCH-KEY} in the cache: KEY is a checksum of the names, sizes and
 * CRC-32s that the jar's index records for the libraries, so another build of the same version gets its own folder,
 * and nothing is read from the jar when the folder is complete. Every file of the jar's
 * {@code ai/onnxruntime/native/OS-ARCH/} folder is unpacked (the GPU artifact's provider libraries too, which ONNX
 * Runtime looks for beside its main library). Each file is written under a temporary name and moved into place, so
 * processes starting together never load a partial file. When anything goes wrong (no jar, an unknown platform, a
 * read-only cache) nothing is set and ONNX Runtime unpacks into the temporary folder as it does on its own.
 */
final class NativeLibraryCache {
    /** ONNX Runtime's own system property: the folder to load its native libraries from. */
    static final String NATIVE_PATH_PROPERTY = "onnxruntime.native.path";

    private NativeLibraryCache() {
    }

    /** One library in the jar: its file name, uncompressed size and CRC-32. */
    private record Library(String name, String resource, long size, long crc) {
    }

    /**
     * Unpacks the libraries into the cache when they are not there yet and points ONNX Runtime at them; does nothing
     * when {@code onnxruntime.native.path} is already set.
     *
     * @param cache the cache folder, or empty for none
     * @return the folder ONNX Runtime will load from, or empty when it unpacks on its own
     */
    static Optional<Path> install(Optional<Path> cache) {
        if (System.getProperty(NATIVE_PATH_PROPERTY) != null || cache.isEmpty()) {
            return Optional.empty();
        }
        Optional<Path> dir = unpack(cache.get());
        dir.ifPresent(d -> System.setProperty(NATIVE_PATH_PROPERTY, d.toString()));
        return dir;
    }

    /**
     * @param cache the cache folder
     * @return the folder holding every native library of this ONNX Runtime jar, unpacked now if need be; empty when
     *     they cannot be found or written
     */
    static Optional<Path> unpack(Path cache) {
        String platform = platform();
        if (platform == null) {
            return Optional.empty();
        }
        String prefix = "ai/onnxruntime/native/" + platform + "/";
        ClassLoader loader = ai.onnxruntime.OrtEnvironment.class.getClassLoader();
        URL main = loader.getResource(prefix + System.mapLibraryName("onnxruntime"));
        if (main == null) {
            return Optional.empty();
        }
        try {
            URLConnection connection = main.openConnection();
            if (!(connection instanceof JarURLConnection jar)) {
                return Optional.empty();
            }
            connection.setUseCaches(true);
            List<Library> libraries = libraries(jar.getJarFile(), prefix);
            CRC32 key = new CRC32();
            for (Library l : libraries) {
                key.update((l.name() + ":" + l.size() + ":" + l.crc() + "\n").getBytes(
                        java.nio.charset.StandardCharsets.UTF_8));
            }
            String version = ai.onnxruntime.OrtEnvironment.class.getPackage().getImplementationVersion();
            Path dir = cache.resolve("onnxruntime").resolve((version == null ? "unknown" : version) + "-" + platform
                    + "-" + String.format(Locale.ROOT, "%08x", key.getValue()));
            for (Library l : libraries) {
                Path file = dir.resolve(l.name());
                if (!Files.isRegularFile(file) || !Files.isReadable(file) || Files.size(file) != l.size()) {
                    Files.createDirectories(dir);
                    copy(loader, l, file);
                }
            }
            return Optional.of(dir);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The regular files directly in the platform's folder of the jar, debug symbols (macOS .dSYM) left out. */
    private static List<Library> libraries(JarFile jar, String prefix) {
        List<Library> out = new ArrayList<>();
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements();) {
            JarEntry entry = e.nextElement();
            String rest = entry.getName().startsWith(prefix) ? entry.getName().substring(prefix.length()) : "";
            if (!entry.isDirectory() && !rest.isEmpty() && !rest.contains("/") && entry.getSize() >= 0) {
                out.add(new Library(rest, entry.getName(), entry.getSize(), entry.getCrc()));
            }
        }
        out.sort(java.util.Comparator.comparing(Library::name));
        return out;
    }

    /** Copies one library to a temporary file beside its place, checks its size and CRC-32, and moves it there. */
    private static void copy(ClassLoader loader, Library library, Path file) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), library.name(), ".part");
        try {
            CRC32 crc = new CRC32();
            long size = 0;
            try (InputStream in = loader.getResourceAsStream(library.resource());
                    java.io.OutputStream out = Files.newOutputStream(tmp)) {
                if (in == null) {
                    throw new IOException("resource " + library.resource() + " vanished");
                }
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0;) {
                    crc.update(buf, 0, n);
                    out.write(buf, 0, n);
                    size += n;
                }
            }
            if (size != library.size() || (library.crc() >= 0 && crc.getValue() != library.crc())) {
                throw new IOException("unpacked " + library.name() + " does not match the jar's index");
            }
            try {
                // readable by all, as a library on the system path: a cache folder may be shared
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString(
                        "rw-r--r--"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: its default permissions apply
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * @return ONNX Runtime's name for this platform's folder in its jar ({@code linux-x64}, {@code osx-aarch64},
     *     {@code win-x64}, ...), or null for one it names differently or not at all
     */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("mac") || os.contains("darwin") ? "osx" : os.contains("win") ? "win"
                : os.contains("nux") ? "linux" : null;
        String a = arch.startsWith("amd64") || arch.startsWith("x86_64") ? "x64"
                : arch.startsWith("aarch64") ? "aarch64" : null;
        if (o == null || a == null || System.getProperty("java.vendor", "").contains("Android")) {
            return null;
        }
        return o + "-" + a;
    }
}
