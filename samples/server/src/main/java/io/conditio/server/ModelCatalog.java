package io.conditio.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The models a server offers, by name. Clients only ever name a model; the folder behind a name is the server's
 * business. Pipelines are opened on first use, shared by the generations that lease them, and closed when they
 * have been idle for the idle time, or when memory is short: before another model is opened, the least recently
 * used idle ones are closed while the open models' weights and the new one's would exceed the model memory budget
 * (ONNX Runtime holds the weights in native memory, so a model's size is the size of its ONNX files), or while the
 * JVM heap is nearly full.
 */
final class ModelCatalog implements AutoCloseable {
    /** A model the server offers. */
    record ModelEntry(String name, Path folder) {
    }

    private final Conditio conditio;
    private final Map<String, ModelEntry> models;
    /** Folders beside the models, offered to all of them: diffusers class name to folder name to folder. */
    private final Map<String, Map<String, Path>> standalone;
    private final List<Path> redactedDirectories = new ArrayList<>();
    private final long idleNanos;
    private final int maxOpen;
    private final long memoryBudget;
    private final java.util.function.BiConsumer<String, String> onClose;
    private final Map<String, Long> footprints = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Open> open = new LinkedHashMap<>();
    private final Map<String, String> hashes = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile String defaultModel;

    private static final class Open {
        final Pipeline pipeline;
        int leases;
        long lastUsed = System.nanoTime();

        Open(Pipeline pipeline) {
            this.pipeline = pipeline;
        }
    }

    /** A pipeline held for one generation; close it when done. */
    final class Lease implements AutoCloseable {
        private final String name;
        private final Pipeline pipeline;
        private boolean closed;

        private Lease(String name, Pipeline pipeline) {
            this.name = name;
            this.pipeline = pipeline;
        }

        Pipeline pipeline() {
            return pipeline;
        }

        @Override
        public void close() {
            synchronized (ModelCatalog.this) {
                if (!closed) {
                    closed = true;
                    Open o = open.get(name);
                    if (o != null) {
                        o.leases--;
                        o.lastUsed = System.nanoTime();
                    }
                }
            }
        }
    }

    /** The heap fraction above which idle models are closed before another is opened. */
    static final double HEAP_SHORT = 0.85;

    ModelCatalog(Conditio conditio, ServerConfig config) {
        this(conditio, config, (name, reason) -> { });
    }

    /**
     * @param onClose told (model name, reason {@code idle}, {@code memory}, {@code heap} or {@code count}) when a
     *     model is closed before the server stops
     */
    ModelCatalog(Conditio conditio, ServerConfig config, java.util.function.BiConsumer<String, String> onClose) {
        this.conditio = conditio;
        this.onClose = onClose;
        this.idleNanos = config.idleClose().toNanos();
        this.maxOpen = config.maxOpenModels();
        this.memoryBudget = config.modelMemory();
        Map<String, ModelEntry> found = new TreeMap<>();
        Map<String, Map<String, Path>> beside = new TreeMap<>();
        if (config.model().isPresent()) {
            Path folder = config.model().get().toAbsolutePath().normalize();
            if (!isModelFolder(folder)) {
                throw new IllegalArgumentException("--model " + folder + ": not a model folder (no unet/ or "
                        + "model_index.json)");
            }
            found.put(folder.getFileName().toString(), new ModelEntry(folder.getFileName().toString(), folder));
        } else {
            Path dir = config.modelsDirectory().get().toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--models " + dir + ": no such directory");
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                    if (isModelFolder(p)) {
                        found.put(p.getFileName().toString(), new ModelEntry(p.getFileName().toString(), p));
                    } else if (className(p) != null) {
                        beside.computeIfAbsent(className(p), c -> new TreeMap<>()).put(p.getFileName().toString(), p);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not list --models " + dir + ": " + e.getMessage(), e);
            }
            if (found.isEmpty()) {
                throw new IllegalArgumentException("--models " + dir + ": no model folders in it (folders with "
                        + "unet/ or model_index.json)");
            }
        }
        this.models = java.util.Collections.unmodifiableMap(found);
        for (ModelEntry m : found.values()) {
            Path parent = m.folder().getParent();
            if (parent != null && !redactedDirectories.contains(parent)) {
                redactedDirectories.add(parent);
            }
        }
        this.standalone = java.util.Collections.unmodifiableMap(beside);
        this.defaultModel = found.keySet().iterator().next();
    }

    static boolean isModelFolder(Path p) {
        return Files.isDirectory(p.resolve("unet")) || Files.isRegularFile(p.resolve("model_index.json"));
    }

    /** A ControlNet folder's diffusers class. */
    static final String CONTROLNET = "ControlNetModel";
    /** A T2I-Adapter folder's diffusers class. */
    static final String T2I_ADAPTER = "T2IAdapter";

    /**
     * @param p a folder
     * @return the diffusers {@code _class_name} of a one-model folder ({@code model.onnx} and {@code config.json}),
     *     e.g. {@code ControlNetModel}, or null
     */
    static String className(Path p) {
        Path config = p.resolve("config.json");
        if (!Files.isRegularFile(p.resolve("model.onnx")) || !Files.isRegularFile(config)) {
            return null;
        }
        try {
            JsonNode n = JsonFields.MAPPER.readTree(config.toFile());
            String c = n == null ? "" : n.path("_class_name").asText();
            return c.isEmpty() ? null : c;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * @param text a message that may name the server's folders (an error from a plugin or the core)
     * @return the text with each model folder written as its model name and the models directory left out: the
     *     server's layout is not the client's business
     */
    String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (ModelEntry m : models.values()) {
            out = out.replace(m.folder().toString(), m.name());
            try {
                out = out.replace(m.folder().toRealPath().toString(), m.name());
            } catch (IOException e) {
                // the folder is gone: its name was replaced above
            }
        }
        for (Path dir : redactedDirectories) {
            out = out.replace(dir + java.io.File.separator, "").replace(dir.toString(), "<models>");
        }
        return out;
    }

    /** @return the models by name, sorted */
    Map<String, ModelEntry> models() {
        return models;
    }

    /** @return the model sdapi requests use unless they name one */
    String defaultModel() {
        return defaultModel;
    }

    /**
     * Makes the model a client names the default.
     *
     * @param nameOrTitle a model name as a client sends it
     */
    void setDefaultModel(String nameOrTitle) {
        this.defaultModel = resolve("sd_model_checkpoint", nameOrTitle).name();
    }

    /**
     * Finds a model by what a client sends: its name, A1111's title {@code name [hash]}, or a file name with an
     * extension; case does not matter.
     *
     * @param field the request field, for the message
     * @param given the client's text
     * @return the model
     */
    ModelEntry resolve(String field, String given) {
        String key = normalise(given);
        for (ModelEntry m : models.values()) {
            if (normalise(m.name()).equals(key)) {
                return m;
            }
        }
        throw ApiError.badField(field, "no model '" + given + "'; this server has " + String.join(", ",
                models.keySet()));
    }

    private static String normalise(String s) {
        String t = s.strip();
        int bracket = t.indexOf(" [");
        if (bracket > 0 && t.endsWith("]")) {
            t = t.substring(0, bracket);
        }
        for (String ext : List.of(".safetensors", ".ckpt", ".onnx")) {
            if (t.toLowerCase(Locale.ROOT).endsWith(ext)) {
                t = t.substring(0, t.length() - ext.length());
            }
        }
        return t.toLowerCase(Locale.ROOT);
    }

    /**
     * @param model a model name
     * @return the ControlNets a request for that model may name: the model folder's own ControlNet sub-folders and
     *     the ControlNet folders beside the models, by name
     */
    Map<String, Path> controlNets(String model) {
        return named(model, CONTROLNET);
    }

    /**
     * @param model     a model name
     * @param className a diffusers class, e.g. {@link #T2I_ADAPTER}
     * @return the folders of that class a request for the model may name: the model folder's own sub-folders and
     *     the folders beside the models, by name
     */
    Map<String, Path> named(String model, String className) {
        Map<String, Path> out = new TreeMap<>();
        ModelEntry m = models.get(model);
        if (m != null) {
            try (Stream<Path> s = Files.list(m.folder())) {
                s.filter(p -> className.equals(className(p))).forEach(p -> out.put(p.getFileName().toString(), p));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        standalone.getOrDefault(className, Map.of()).forEach(out::putIfAbsent);
        return out;
    }

    /**
     * @param model a model name
     * @param given the ControlNet name a client sent (A1111 titles such as {@code name [hash]} are accepted)
     * @param field the request field, for the message
     * @return the ControlNet folder
     */
    Path controlNet(String model, String given, String field) {
        return namedFolder(model, CONTROLNET, given, field);
    }

    /**
     * @param model     a model name
     * @param className the diffusers class of the folder
     * @param given     the name a client sent (A1111 titles such as {@code name [hash]} are accepted)
     * @param field     the request field, for the message
     * @return the folder
     */
    Path namedFolder(String model, String className, String given, String field) {
        Map<String, Path> all = named(model, className);
        Optional<Path> found = findNamed(model, className, given);
        if (found.isPresent()) {
            return found.get();
        }
        String what = className.equals(CONTROLNET) ? "ControlNet" : className.equals(T2I_ADAPTER) ? "T2I-Adapter"
                : className;
        throw ApiError.badField(field, "no " + what + " '" + given + "' for model " + model + "; available: "
                + (all.isEmpty() ? "none" : String.join(", ", all.keySet())));
    }

    /**
     * @param model     a model name
     * @param className the diffusers class of the folder
     * @param given     the name a client sent (A1111 titles such as {@code name [hash]} are accepted)
     * @return the folder, or empty when the model has none of that class by that name
     */
    Optional<Path> findNamed(String model, String className, String given) {
        String key = normalise(given);
        for (Map.Entry<String, Path> e : named(model, className).entrySet()) {
            if (normalise(e.getKey()).equals(key)) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }

    /** @return the first 10 hex digits of the UNet file's SHA-256, A1111's short model hash */
    String shortHash(String model) {
        return sha256(model).substring(0, 10);
    }

    /** @return the SHA-256 of the model's UNet file, hex */
    String sha256(String model) {
        return hashes.computeIfAbsent(model, n -> {
            Path unet = models.get(n).folder().resolve("unet").resolve("model.onnx");
            try (InputStream in = Files.newInputStream(unet)) {
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[1 << 16];
                for (int r; (r = in.read(buf)) > 0; ) {
                    d.update(buf, 0, r);
                }
                return HexFormat.of().formatHex(d.digest());
            } catch (IOException e) {
                return "0000000000";
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * Opens the model if needed and holds it for one generation.
     *
     * @param name a model name from {@link #models()}
     * @return the lease; close it when the generation ends
     */
    synchronized Lease lease(String name) {
        ModelEntry m = models.get(name);
        if (m == null) {
            throw ApiError.badField("model", "no model '" + name + "'");
        }
        Open o = open.get(name);
        if (o == null) {
            makeRoomFor(name);
            o = new Open(conditio.open(m.folder()));
            open.put(name, o);
        }
        o.leases++;
        o.lastUsed = System.nanoTime();
        return new Lease(name, o.pipeline);
    }

    /**
     * Closes least recently used idle models while opening {@code name} would exceed the count limit, the memory
     * budget or the heap. Models in use are never closed: when only they remain, the new one opens anyway (the
     * budget is a target, and a generation is never failed for it).
     */
    private void makeRoomFor(String name) {
        long needed = footprint(name);
        while (true) {
            String reason;
            if (open.size() >= maxOpen) {
                reason = "count";
            } else if (openFootprint() + needed > memoryBudget) {
                reason = "memory";
            } else if (heapShort()) {
                reason = "heap";
            } else {
                return;
            }
            if (!closeLeastRecentlyUsedIdle(reason)) {
                return;
            }
        }
    }

    private long openFootprint() {
        long sum = 0;
        for (String n : open.keySet()) {
            sum += footprint(n);
        }
        return sum;
    }

    private static boolean heapShort() {
        if (heapUsed() <= HEAP_SHORT) {
            return false;
        }
        System.gc(); // garbage is not shortage: look again once it is collected (opening a model is rare and slow)
        return heapUsed() > HEAP_SHORT;
    }

    private static double heapUsed() {
        Runtime rt = Runtime.getRuntime();
        return (double) (rt.totalMemory() - rt.freeMemory()) / rt.maxMemory();
    }

    /**
     * @param name a model name
     * @return the bytes of its ONNX files (with external weight files), an estimate of the native memory its
     *     sessions hold
     */
    long footprint(String name) {
        return footprints.computeIfAbsent(name, n -> {
            try (Stream<Path> s = Files.walk(models.get(n).folder(), 3, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
                return s.filter(Files::isRegularFile).filter(p -> {
                    String f = p.getFileName().toString().toLowerCase(Locale.ROOT);
                    return f.endsWith(".onnx") || f.endsWith(".onnx.data") || f.endsWith(".onnx_data")
                            || f.endsWith(".pb");
                }).mapToLong(p -> {
                    try {
                        return Files.size(p);
                    } catch (IOException e) {
                        return 0L;
                    }
                }).sum();
            } catch (IOException e) {
                throw new UncheckedIOException("could not size model " + n + ": " + e.getMessage(), e);
            }
        });
    }

    /** @return the model memory budget in bytes */
    long memoryBudget() {
        return memoryBudget;
    }

    private boolean closeLeastRecentlyUsedIdle(String reason) {
        Optional<Map.Entry<String, Open>> lru = open.entrySet().stream().filter(e -> e.getValue().leases == 0)
                .min(java.util.Comparator.comparingLong(e -> e.getValue().lastUsed));
        lru.ifPresent(e -> {
            open.remove(e.getKey());
            e.getValue().pipeline.close();
            onClose.accept(e.getKey(), reason);
        });
        return lru.isPresent();
    }

    /** Closes the models nobody has used for the idle time. */
    synchronized void closeIdle() {
        long now = System.nanoTime();
        List<String> idle = new ArrayList<>();
        open.forEach((name, o) -> {
            if (o.leases == 0 && now - o.lastUsed >= idleNanos) {
                idle.add(name);
            }
        });
        for (String name : idle) {
            open.remove(name).pipeline.close();
            onClose.accept(name, "idle");
        }
    }

    /** @return the names of the models open now */
    synchronized List<String> openModels() {
        return new ArrayList<>(open.keySet());
    }

    @Override
    public synchronized void close() {
        open.values().forEach(o -> o.pipeline.close());
        open.clear();
    }
}
