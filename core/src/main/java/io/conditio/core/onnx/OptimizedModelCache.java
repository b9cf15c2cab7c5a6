package io.conditio.core.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The optimised-model cache: ONNX Runtime's graph after its optimisations (constant folding, fusions, layout
 * changes), saved on a model's first open and loaded with optimisation off on the next, so later starts skip the
 * optimisation.
 *
 * <p>An entry is a folder {@code KEY/} holding {@code model.onnx} (and {@code model.onnx.data} for large
 * initializers). The key is the SHA-256 of the model's content hash (the {@code .onnx} file and the other files
 * beside it but other {@code .onnx} files: its external data), the ONNX Runtime version, the CPU (architecture,
 * model name and flags: the saved graph may use the CPU's own kernels and layouts), and this format's version. The
 * content hash is remembered under {@code index/} by the files' paths, sizes and modification times, so an unchanged
 * model is not read again to find its entry. Entries are written into
 * a temporary folder and renamed into place, so a reader sees a whole entry or none, and several processes may share
 * the folder.
 *
 * <p>Any problem (a folder that cannot be made or written, an entry ONNX Runtime rejects) is reported once per
 * folder and kind to the warning sink, and the model is opened as if there were no cache; a rejected entry is
 * deleted so the next open writes it anew.
 */
final class OptimizedModelCache {
    private static final String FORMAT = "conditio-optimized-1";
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private final Path folder;
    private final Consumer<String> warnings;

    OptimizedModelCache(Path folder, Consumer<String> warnings) {
        this.folder = folder;
        this.warnings = warnings;
    }

    Path folder() {
        return folder;
    }

    /**
     * @param model   the model file
     * @param version ONNX Runtime's version
     * @return the entry folder for this model and runtime (it may not exist), or null when the model's files cannot
     *     be read for its key (warned)
     */
    Path entry(Path model, String version) {
        try {
            String content = contentHash(model);
            String key = sha256((FORMAT + "\0" + version + "\0" + System.getProperty("os.arch") + "\0" + CPU
                    + "\0" + content).getBytes(StandardCharsets.UTF_8));
            return folder.resolve(key);
        } catch (IOException e) {
            warn("read", "cannot read " + model + " to find its optimised-model cache entry (" + e
                    + "); opening it without the cache");
            return null;
        }
    }

    /**
     * @param entry an entry folder
     * @return its model file when the entry is complete, else null
     */
    static Path cached(Path entry) {
        Path m = entry.resolve("model.onnx");
        return Files.isRegularFile(m) ? m : null;
    }

    /**
     * A fresh temporary folder beside the entry to have ONNX Runtime write the optimised model into.
     *
     * @param entry the entry folder
     * @return the temporary folder, or null when the cache folder is not writable (warned)
     */
    Path staging(Path entry) {
        try {
            Files.createDirectories(folder);
            return Files.createTempDirectory(folder, entry.getFileName() + ".tmp-");
        } catch (IOException | RuntimeException e) {
            warn("write", "optimised-model cache " + folder + " is not writable (" + e
                    + "); models are optimised anew on every start");
            return null;
        }
    }

    /** Renames a staged folder into place; when another process was first, keeps its entry and drops this one. */
    void publish(Path staged, Path entry) {
        try {
            if (cached(staged) == null) {
                throw new IOException("ONNX Runtime wrote no model.onnx into " + staged);
            }
            try {
                Files.move(staged, entry, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(staged, entry);
            }
        } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            delete(staged);
        } catch (IOException | RuntimeException e) {
            warn("write", "could not store the optimised model in " + folder + " (" + e
                    + "); models are optimised anew on every start");
            delete(staged);
        }
    }

    /** Reports that ONNX Runtime rejected an entry, and deletes it. */
    void rejected(Path entry, Exception why) {
        warn("load", "optimised-model cache entry " + entry + " could not be loaded (" + why.getMessage()
                + "); it is deleted and the model optimised anew");
        delete(entry);
    }

    void warn(String kind, String message) {
        if (WARNED.add(folder + "\0" + kind)) {
            warnings.accept(message);
        }
    }

    static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            // what is left is a stale temporary folder or entry; the next open overwrites or ignores it
        }
    }

    /** The content hash of a model, remembered in {@code index/} by its files' paths, sizes and times. */
    private String contentHash(Path model) throws IOException {
        List<Path> files = modelFiles(model);
        StringBuilder fp = new StringBuilder();
        for (Path f : files) {
            fp.append(f.toAbsolutePath().normalize()).append('\0').append(Files.size(f)).append('\0')
                    .append(Files.getLastModifiedTime(f).toMillis()).append('\n');
        }
        Path index = folder.resolve("index").resolve(sha256(fp.toString().getBytes(StandardCharsets.UTF_8)));
        if (Files.isRegularFile(index)) {
            String known = Files.readString(index, StandardCharsets.UTF_8).strip();
            if (known.matches("[0-9a-f]{64}")) {
                return known;
            }
        }
        String hash = digest(model, files);
        try {
            Files.createDirectories(index.getParent());
            Path tmp = Files.createTempFile(index.getParent(), "hash", ".tmp");
            Files.writeString(tmp, hash, StandardCharsets.UTF_8);
            Files.move(tmp, index, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            // the hash is computed again next time; staging reports an unwritable folder
        }
        return hash;
    }

    /** The model file first, then the other files beside it except other models, by name. */
    static List<Path> modelFiles(Path model) throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(model);
        Path dir = model.toAbsolutePath().getParent();
        if (dir != null) {
            List<Path> others = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) {
                    String n = p.getFileName().toString();
                    if (Files.isRegularFile(p) && !n.endsWith(".onnx") && !n.startsWith(".")) {
                        others.add(p);
                    }
                }
            }
            others.sort(Comparator.comparing(p -> p.getFileName().toString()));
            files.addAll(others);
        }
        return files;
    }

    private static String digest(Path model, List<Path> files) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        for (Path f : files) {
            md.update((f.getFileName() + "\0" + Files.size(f) + "\0").getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static final String CPU = cpuModel();

    private static String cpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name") || l.startsWith("flags")).distinct()
                    .reduce("", (a, b) -> a + b + "\n");
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String sha256(byte[] data) {
        return HexFormat.of().formatHex(sha256().digest(data));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
