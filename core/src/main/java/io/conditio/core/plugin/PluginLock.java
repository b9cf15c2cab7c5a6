package io.conditio.core.plugin;

import io.conditio.api.PluginFailureException;
import io.conditio.core.io.AtomicOutputs;
import io.conditio.core.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.pf4j.CompoundPluginDescriptorFinder;
import org.pf4j.ManifestPluginDescriptorFinder;
import org.pf4j.PluginDescriptor;
import org.pf4j.PropertiesPluginDescriptorFinder;

/**
 * The plugins an operator trusts: a JSON file {@value #FILE_NAME} in a plugin directory mapping each plugin id to
 * its version and the SHA-256 of its jar. When the file is present the host loads only jars listed in it with the
 * same digest, id and version; any other jar, and any exploded plugin folder, is refused with a line naming it.
 *
 * <pre>{@code
 * {"plugins": {"schedulers": {"version": "0.1.0", "sha256": "3f…"}}}
 * }</pre>
 */
public final class PluginLock {
    /** The lock file's name inside a plugin directory. */
    public static final String FILE_NAME = "conditio-plugins.lock";

    /** A trusted jar. */
    public record Entry(String id, String version, String sha256) {
    }

    private final Path file;
    private final Map<String, Entry> byId;

    private PluginLock(Path file, Map<String, Entry> byId) {
        this.file = file;
        this.byId = byId;
    }

    /**
     * @param directory a plugin directory
     * @return its lock, or empty when it has none
     * @throws PluginFailureException naming the file when it is malformed
     */
    public static Optional<PluginLock> read(Path directory) {
        Path file = directory.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Map<String, Object> root;
        try {
            root = Json.parseObject(file);
        } catch (RuntimeException e) {
            throw new PluginFailureException("plugin lock file " + file + " is unreadable: " + e.getMessage(), e);
        }
        if (!(root.get("plugins") instanceof Map<?, ?> plugins)) {
            throw new PluginFailureException("plugin lock file " + file + ": expected an object \"plugins\" mapping "
                    + "plugin ids to {\"version\", \"sha256\"}");
        }
        Map<String, Entry> byId = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : plugins.entrySet()) {
            String id = (String) e.getKey();
            if (!(e.getValue() instanceof Map<?, ?> m) || !(m.get("version") instanceof String version)
                    || !(m.get("sha256") instanceof String sha) || !sha.matches("[0-9a-f]{64}")) {
                throw new PluginFailureException("plugin lock file " + file + ": entry '" + id + "' must be {\"version\":"
                        + " \"x.y.z\", \"sha256\": \"64 lower-case hex digits\"}");
            }
            byId.put(id, new Entry(id, version, sha));
        }
        return Optional.of(new PluginLock(file, byId));
    }

    /** @return the lock file */
    public Path file() {
        return file;
    }

    /** @return the trusted plugins by id */
    public Map<String, Entry> entries() {
        return byId;
    }

    /**
     * @param jar a plugin jar
     * @return why it may not load, or empty when a trusted entry has its digest
     */
    Optional<String> refusal(Path jar) {
        if (!Files.isRegularFile(jar)) {
            return Optional.of("the lock file " + file + " is present and only locked jars load; "
                    + jar.getFileName() + " is not a jar");
        }
        String digest = sha256(jar);
        for (Entry e : byId.values()) {
            if (e.sha256().equals(digest)) {
                return Optional.empty();
            }
        }
        return Optional.of("not trusted: its SHA-256 " + digest.substring(0, 16) + "… matches no entry of " + file
                + " (trusted: " + String.join(", ", byId.values().stream().map(e -> e.id() + "@" + e.version())
                        .toList()) + "); run 'conditio plugins --lock' to trust the plugins now in the folder");
    }

    /**
     * @param jar     a plugin jar whose digest is trusted
     * @param id      the id its descriptor declares
     * @param version the version its descriptor declares
     * @return why it may not load, or empty when the lock's entry for that digest has this id and version
     */
    Optional<String> mismatch(Path jar, String id, String version) {
        Entry e = byId.get(id);
        if (e == null || !e.sha256().equals(sha256(jar)) || !e.version().equals(version)) {
            return Optional.of("not trusted: " + file + " does not list " + id + "@" + version + " with this jar's "
                    + "SHA-256");
        }
        return Optional.empty();
    }

    /**
     * Writes the lock of a plugin directory from the jars in it now, reading their descriptors without loading them.
     *
     * @param directory a plugin directory
     * @return the entries written
     * @throws PluginFailureException when a jar has no readable descriptor, two jars share an id, or the file
     *     cannot be written
     */
    public static List<Entry> write(Path directory) {
        CompoundPluginDescriptorFinder finder = new CompoundPluginDescriptorFinder()
                .add(new PropertiesPluginDescriptorFinder())
                .add(new ManifestPluginDescriptorFinder());
        TreeMap<String, Entry> entries = new TreeMap<>();
        List<Path> jars;
        try (Stream<Path> files = Files.list(directory)) {
            jars = files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f))
                    .sorted().toList();
        } catch (IOException e) {
            throw new PluginFailureException("cannot list plugin directory " + directory + ": "
                    + AtomicOutputs.reason(e), e);
        }
        for (Path jar : jars) {
            PluginDescriptor d;
            try {
                d = finder.find(jar);
            } catch (RuntimeException e) {
                throw new PluginFailureException("cannot lock " + jar + ": no readable plugin descriptor ("
                        + e.getMessage() + ")", e);
            }
            Entry previous = entries.put(d.getPluginId(), new Entry(d.getPluginId(), d.getVersion(), sha256(jar)));
            if (previous != null) {
                throw new PluginFailureException("cannot lock " + directory + ": two jars declare plugin id '"
                        + d.getPluginId() + "'");
            }
        }
        Map<String, Object> plugins = new LinkedHashMap<>();
        entries.values().forEach(e -> plugins.put(e.id(), Map.of("version", e.version(), "sha256", e.sha256())));
        Path file = directory.resolve(FILE_NAME);
        try {
            AtomicOutputs.write(file, (Json.writePretty(Map.of("plugins", plugins)) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new PluginFailureException("cannot write " + file + ": " + AtomicOutputs.reason(e), e);
        }
        return new ArrayList<>(entries.values());
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new PluginFailureException("cannot read " + file + ": " + AtomicOutputs.reason(e), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
