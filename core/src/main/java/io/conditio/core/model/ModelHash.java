package io.conditio.core.model;

import io.conditio.api.ModelLoadException;
import io.conditio.core.CacheFolder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The SHA-256 of a model folder: every regular file under it (links followed, names starting with {@code .}
 * skipped), in the order of their relative paths, each as its path, its size and its bytes. Two folders with the
 * same files have the same hash wherever they are. Cached per folder while no file's size or modification time
 * changes, so a pipeline hashes a large model once: in memory, and in {@code model-hash/} of the
 * {@link CacheFolder} so that the next process does not read the folder again (the shipped 23 MB model took a quarter
 * of the CLI's run to hash). As with {@code make} or {@code rsync}, a file rewritten with its size and modification
 * time kept is not noticed.
 */
public final class ModelHash {
    private static final Map<Path, Cached> CACHE = new ConcurrentHashMap<>();

    private record Cached(List<String> fingerprint, String hash) {
    }

    private ModelHash() {
    }

    /**
     * @param folder a model folder
     * @return its hash, 64 lower-case hex digits
     * @throws ModelLoadException when a file cannot be read
     */
    public static String of(Path folder) {
        Path root = folder.toAbsolutePath().normalize();
        List<Path> files = files(root);
        List<String> fingerprint = new ArrayList<>();
        try {
            for (Path f : files) {
                fingerprint.add(root.relativize(f) + "\0" + Files.size(f) + "\0" + Files.getLastModifiedTime(f));
            }
        } catch (IOException e) {
            throw new ModelLoadException("cannot hash model folder " + root + ": " + e.getMessage(), e);
        }
        Cached c = CACHE.get(root);
        if (c != null && c.fingerprint().equals(fingerprint)) {
            return c.hash();
        }
        Optional<Path> entry = CacheFolder.root().map(dir -> dir.resolve("model-hash")
                .resolve(sha256(root.toString()).substring(0, 32) + ".txt"));
        // the key names this way of hashing too, so that a change to it makes the stored hashes stale
        String key = sha256("path-size-bytes sha-256\n" + root + "\n" + String.join("\n", fingerprint));
        Optional<String> stored = entry.flatMap(e -> stored(e, key));
        String hash = stored.orElseGet(() -> digest(root, files));
        if (stored.isEmpty()) {
            entry.ifPresent(e -> store(e, key, hash));
        }
        CACHE.put(root, new Cached(fingerprint, hash));
        return hash;
    }

    /**
     * @param entry the folder's cache file: one line, the key (the SHA-256 of the folder's path and fingerprint) and
     *     the hash
     * @param key   the key the folder has now
     * @return the hash stored for this key; empty when the file is missing, unreadable or for another key
     */
    private static Optional<String> stored(Path entry, String key) {
        try {
            String[] parts = Files.readString(entry, StandardCharsets.UTF_8).strip().split(" ");
            if (parts.length == 2 && parts[0].equals(key) && parts[1].matches("[0-9a-f]{64}")) {
                return Optional.of(parts[1]);
            }
        } catch (IOException | RuntimeException e) {
            // no entry, or one that cannot be read: the folder is hashed again
        }
        return Optional.empty();
    }

    /** Writes the folder's cache file whole (a temporary file moved over it), or not at all. */
    private static void store(Path entry, String key, String hash) {
        Path tmp = null;
        try {
            Files.createDirectories(entry.getParent());
            tmp = Files.createTempFile(entry.getParent(), "hash", ".tmp");
            Files.writeString(tmp, key + " " + hash + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, entry, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            // the cache is an optimisation: an unwritable one means hashing again in the next process
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException | RuntimeException ignored) {
                    // left for the next cleaner
                }
            }
        }
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Forgets the hashes held in memory (the cache folder's stay), as a new process starts. */
    static void forgetInMemory() {
        CACHE.clear();
    }

    /**
     * @param hash a full hash
     * @return its first 10 hex digits, as A1111's {@code Model hash} shows a checkpoint's
     */
    public static String shortForm(String hash) {
        return hash.length() > 10 ? hash.substring(0, 10) : hash;
    }

    private static List<Path> files(Path root) {
        try (Stream<Path> walk = Files.walk(root, FileVisitOption.FOLLOW_LINKS)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> !hidden(root.relativize(p)))
                    .sorted((a, b) -> root.relativize(a).toString().replace('\\', '/')
                            .compareTo(root.relativize(b).toString().replace('\\', '/')))
                    .toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new ModelLoadException("cannot list model folder " + root + ": " + e.getMessage(), e);
        }
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static String digest(Path root, List<Path> files) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                String name = root.relativize(f).toString().replace('\\', '/');
                sha.update((name + "\0" + Files.size(f) + "\0").getBytes(StandardCharsets.UTF_8));
                int n;
                while ((n = in.read(buf)) > 0) {
                    sha.update(buf, 0, n);
                }
            } catch (IOException e) {
                throw new ModelLoadException("cannot hash " + f + ": " + e.getMessage(), e);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
