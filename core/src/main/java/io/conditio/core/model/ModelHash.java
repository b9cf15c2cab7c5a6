package io.conditio.core.model;

import io.conditio.api.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The SHA-256 of a model folder: every regular file under it (links followed, names starting with {@code .}
 * skipped), in the order of their relative paths, each as its path, its size and its bytes. Two folders with the
 * same files have the same hash wherever they are. Cached per folder while no file's size or modification time
 * changes, so a pipeline hashes a large model once.
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
        String hash = digest(root, files);
        CACHE.put(root, new Cached(fingerprint, hash));
        return hash;
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
