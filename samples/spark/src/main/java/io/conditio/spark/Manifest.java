package io.conditio.spark;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * {@code DIR/manifest.jsonl}: one JSON line per request (id, status, error, seed, settings, timings). Executors
 * append each finished request to a part file of their own under {@code DIR/_manifest-parts/} as soon as it is done
 * (flushed per line), so a stopped job keeps what it finished; the driver folds the parts into the manifest at the
 * end of every run and at the start of the next. Per id, an {@code ok} record beats a failure, and the later of two
 * records of the same status wins.
 */
final class Manifest {
    static final String FILE = "manifest.jsonl";
    static final String PARTS = "_manifest-parts";

    private Manifest() {
    }

    /** The records of a manifest and its parts, one per id. */
    static Map<String, JsonNode> read(Path out) {
        Map<String, JsonNode> records = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        files.add(out.resolve(FILE));
        Path parts = out.resolve(PARTS);
        if (Files.isDirectory(parts)) {
            try (Stream<Path> s = Files.list(parts)) {
                s.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                continue;
            }
            try {
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode n;
                    try {
                        n = RecipeMapping.JSON.readTree(line);
                    } catch (IOException e) {
                        continue; // a line cut short by a killed executor: that request is simply not done
                    }
                    if (n == null || !n.hasNonNull("id")) {
                        continue;
                    }
                    add(records, n);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not read " + f + ": " + e.getMessage(), e);
            }
        }
        return records;
    }

    static void add(Map<String, JsonNode> records, JsonNode n) {
        String id = n.get("id").asText();
        JsonNode old = records.get(id);
        if (old == null || ok(n) || !ok(old)) {
            records.put(id, n);
        }
    }

    static boolean ok(JsonNode n) {
        return "ok".equals(n.path("status").asText());
    }

    /**
     * Writes the manifest (in {@code order} first, then any other ids) atomically and removes the part files.
     *
     * @param out     the output folder
     * @param records the records by id
     * @param order   the ids of this run's requests in input order
     * @param keep    which records to keep (e.g. ok ones whose image is still there)
     */
    static void write(Path out, Map<String, JsonNode> records, Collection<String> order, Predicate<JsonNode> keep) {
        try {
            Files.createDirectories(out);
            Path tmp = out.resolve(FILE + "." + UUID.randomUUID() + ".tmp");
            LinkedHashMap<String, JsonNode> sorted = new LinkedHashMap<>();
            for (String id : order) {
                if (records.containsKey(id)) {
                    sorted.put(id, records.get(id));
                }
            }
            records.forEach(sorted::putIfAbsent);
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (JsonNode n : sorted.values()) {
                    if (keep.test(n)) {
                        w.write(RecipeMapping.JSON.writeValueAsString(n));
                        w.write('\n');
                    }
                }
            }
            Files.move(tmp, out.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Path parts = out.resolve(PARTS);
            if (Files.isDirectory(parts)) {
                try (Stream<Path> s = Files.list(parts)) {
                    for (Path p : s.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(parts);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + out.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    /** An executor's part file: one line per finished request, flushed as it goes. */
    static final class PartWriter implements AutoCloseable {
        private final Path file;
        private BufferedWriter writer;

        PartWriter(Path out, String name) {
            this.file = out.resolve(PARTS).resolve(name + "-" + UUID.randomUUID() + ".jsonl");
        }

        void append(String line) {
            try {
                if (writer == null) {
                    Files.createDirectories(file.getParent());
                    writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
                }
                writer.write(line);
                writer.write('\n');
                writer.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("could not write " + file + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            if (writer != null) {
                try {
                    writer.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
