package io.conditio.core.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Output files that appear whole or not at all: each is written under a temporary name in its own folder, then
 * moved onto its name (atomically where the file system can). Several files given together are all written before
 * any is moved, so an image and its latents come out both or neither.
 */
public final class AtomicOutputs {
    private AtomicOutputs() {
    }

    /**
     * @param target the file to write (parent folders are created)
     * @param bytes  its content
     * @throws IOException when it cannot be written; nothing is left behind
     */
    public static void write(Path target, byte[] bytes) throws IOException {
        writeAll(Map.of(target, bytes));
    }

    /**
     * Writes every file, or none.
     *
     * @param files the content by target file, written in this order
     * @throws IOException when one cannot be written; then no target has been created or replaced by this call
     *     (a failure of the final moves, which do not copy data, removes the targets it had already moved)
     */
    public static void writeAll(Map<Path, byte[]> files) throws IOException {
        Map<Path, Path> staged = new LinkedHashMap<>();
        List<Path> moved = new ArrayList<>();
        java.util.Set<Path> targets = new java.util.HashSet<>();
        for (Path t : files.keySet()) {
            if (!targets.add(t.toAbsolutePath().normalize())) {
                throw new FileAlreadyExistsException(t.toString(), null, "is given for two outputs");
            }
        }
        try {
            for (Map.Entry<Path, byte[]> e : files.entrySet()) {
                Path target = e.getKey().toAbsolutePath();
                Path dir = target.getParent();
                Files.createDirectories(dir);
                requireReplaceable(target);
                Path temp = createSibling(dir, target.getFileName() + ".", ".tmp");
                staged.put(target, temp);
                Files.write(temp, e.getValue());
            }
            for (Map.Entry<Path, Path> e : staged.entrySet()) {
                move(e.getValue(), e.getKey());
                moved.add(e.getKey());
            }
            staged.clear();
        } catch (IOException | RuntimeException e) {
            for (Path temp : staged.values()) {
                Files.deleteIfExists(temp);
            }
            for (Path target : moved) {
                Files.deleteIfExists(target);
            }
            throw e;
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Checks up front that a file could be written there, so a long generation does not end in a write error.
     *
     * @param target the file to be written later
     * @throws IOException saying why not (the folder cannot be created or written, or the target is a directory)
     */
    public static void checkWritable(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        requireReplaceable(abs);
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path probe = createSibling(dir, abs.getFileName() + ".", ".probe");
        Files.delete(probe);
    }

    /**
     * A target that exists must be a regular file (or a link, which the move replaces): moving a file onto a device
     * such as {@code /dev/null}, a FIFO or a socket would replace that node, and a directory cannot be replaced.
     */
    private static void requireReplaceable(Path target) throws IOException {
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString(), null, "is a directory");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
                && !Files.isSymbolicLink(target)) {
            throw new FileAlreadyExistsException(target.toString(), null,
                    "is not a regular file (a device, FIFO or socket); expected a new or a regular file");
        }
    }

    /**
     * A new empty file beside the target. Unlike {@code Files.createTempFile}, whose files are readable by their
     * owner only, it gets the permissions of any new file (the umask's), which the output then keeps.
     */
    private static Path createSibling(Path dir, String prefix, String suffix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve("." + prefix + Long.toUnsignedString(RANDOM.nextLong(), 36) + suffix);
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /**
     * @param e an I/O failure
     * @return why it failed, in words (the JDK's messages of these exceptions are often just the path)
     */
    public static String reason(IOException e) {
        String detail = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : null;
        String kind;
        if (e instanceof AccessDeniedException) {
            kind = "permission denied";
        } else if (e instanceof NoSuchFileException) {
            kind = "no such file or folder";
        } else if (e instanceof NotDirectoryException) {
            kind = "a path component is not a folder";
        } else if (e instanceof FileAlreadyExistsException) {
            kind = detail != null ? detail : "already exists";
            detail = null;
        } else if (e instanceof FileSystemException) {
            kind = detail != null ? detail : e.getClass().getSimpleName();
            detail = null;
        } else {
            kind = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        }
        String path = e instanceof FileSystemException f && f.getFile() != null ? " (" + f.getFile() + ")" : "";
        return kind + (detail != null ? ": " + detail : "") + path;
    }
}
