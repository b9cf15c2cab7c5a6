package io.conditio.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.core.CacheFolder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model folder's hash is its files' paths, sizes and bytes; the next process takes it from the cache folder while
 * no file's size or modification time changed, and hashes the folder again when one did.
 */
class ModelHashTest {
    @TempDir
    Path dir;
    private Path model;
    private Path cache;
    private String cacheBefore;

    @BeforeEach
    void folders() throws Exception {
        model = Files.createDirectories(dir.resolve("model"));
        Files.createDirectories(model.resolve("unet"));
        Files.write(model.resolve("unet/model.onnx"), new byte[] {1, 2, 3, 4, 5});
        Files.writeString(model.resolve("model_index.json"), "{}");
        Files.writeString(model.resolve(".hidden"), "not part of the model");
        cache = dir.resolve("cache");
        cacheBefore = System.getProperty(CacheFolder.PROPERTY);
        System.setProperty(CacheFolder.PROPERTY, cache.toString());
        ModelHash.forgetInMemory();
    }

    @AfterEach
    void restore() {
        if (cacheBefore == null) {
            System.clearProperty(CacheFolder.PROPERTY);
        } else {
            System.setProperty(CacheFolder.PROPERTY, cacheBefore);
        }
        ModelHash.forgetInMemory();
    }

    /** The documented digest: for each file in path order, "path\0size\0" and its bytes. */
    private static String expected(Path root, List<String> names) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (String n : names) {
            byte[] bytes = Files.readAllBytes(root.resolve(n));
            sha.update((n + "\0" + bytes.length + "\0").getBytes(StandardCharsets.UTF_8));
            sha.update(bytes);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private Path entry() throws Exception {
        try (Stream<Path> files = Files.list(cache.resolve("model-hash"))) {
            List<Path> all = files.toList();
            assertThat(all).as("cache entries").hasSize(1);
            return all.get(0);
        }
    }

    @Test
    void theHashIsThePathsSizesAndBytesOfTheVisibleFiles() throws Exception {
        assertThat(ModelHash.of(model)).isEqualTo(expected(model, List.of("model_index.json", "unet/model.onnx")));
    }

    @Test
    void aNewProcessTakesTheHashFromTheCacheFolderWithoutReadingTheFiles() throws Exception {
        String hash = ModelHash.of(model);
        Path entry = entry();
        assertThat(Files.readString(entry)).contains(hash);
        // a stored hash that is not the files' own shows that the next "process" reads the entry, not the files
        String planted = "ab".repeat(32);
        Files.writeString(entry, Files.readString(entry).replace(hash, planted));
        ModelHash.forgetInMemory();

        assertThat(ModelHash.of(model)).isEqualTo(planted);
    }

    @Test
    void aFileWithAnotherModificationTimeOrSizeIsHashedAgain() throws Exception {
        String hash = ModelHash.of(model);
        Path entry = entry();
        Files.writeString(entry, Files.readString(entry).replace(hash, "cd".repeat(32)));
        ModelHash.forgetInMemory();
        Path unet = model.resolve("unet/model.onnx");
        Files.setLastModifiedTime(unet, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));

        assertThat(ModelHash.of(model)).as("same bytes, new time: hashed again").isEqualTo(hash);
        assertThat(Files.readString(entry())).as("the entry is rewritten").contains(hash);

        Files.write(unet, new byte[] {1, 2, 3, 4, 5, 6});
        ModelHash.forgetInMemory();
        String grown = ModelHash.of(model);
        assertThat(grown).isNotEqualTo(hash)
                .isEqualTo(expected(model, List.of("model_index.json", "unet/model.onnx")));
    }

    @Test
    void anUnusableCacheFolderOnlyCostsTheHashingAgain() throws Exception {
        // a regular file where the cache folder should be: nothing can be written under it
        Files.writeString(cache, "in the way");
        String first = ModelHash.of(model);
        ModelHash.forgetInMemory();

        assertThat(ModelHash.of(model)).isEqualTo(first)
                .isEqualTo(expected(model, List.of("model_index.json", "unet/model.onnx")));
        assertThat(Files.isRegularFile(cache)).isTrue();
    }

    @Test
    void twoFoldersWithTheSameFilesHaveTheSameHashAndTheirOwnEntries() throws Exception {
        Path copy = Files.createDirectories(dir.resolve("copy/unet"));
        Files.copy(model.resolve("unet/model.onnx"), copy.resolve("model.onnx"));
        Files.copy(model.resolve("model_index.json"), copy.getParent().resolve("model_index.json"));

        assertThat(ModelHash.of(copy.getParent())).isEqualTo(ModelHash.of(model));
        try (Stream<Path> files = Files.list(cache.resolve("model-hash"))) {
            assertThat(files.count()).isEqualTo(2);
        }
    }
}
