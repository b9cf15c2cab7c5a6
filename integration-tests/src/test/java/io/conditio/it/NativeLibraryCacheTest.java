package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.conditio.api.GenerationRequest;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime's native libraries are unpacked once into the cache folder and loaded from there by every later
 * process, which then leaves nothing in its temp folder; with no usable cache folder ONNX Runtime unpacks into the temp
 * folder as on its own, and that is cleaned up too. Each case runs forked JVMs (the native library loads once per
 * process) and reads from {@code /proc/self/maps} which file the process really mapped.
 */
class NativeLibraryCacheTest {

    /** The forked process: one generation on sd-tiny, then the path libonnxruntime was mapped from. */
    public static final class Generate {
        private Generate() {
        }

        public static void main(String[] args) throws IOException {
            try (Conditio conditio = Conditio.start(List.of(Path.of(args[0])));
                    Pipeline pipeline = conditio.open(Path.of(args[1]))) {
                int n = pipeline.generate(GenerationRequest.builder().setPrompt("a red circle").optSteps(2).optSeed(1)
                        .build()).images().size();
                System.out.println("generated " + n);
                try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
                    // a file deleted while mapped reads "PATH (deleted)"
                    maps.map(l -> l.replace(" (deleted)", "")).filter(l -> l.endsWith("/libonnxruntime.so"))
                            .map(l -> l.substring(l.indexOf('/')))
                            .distinct().forEach(l -> System.out.println("mapped " + l));
                }
            }
        }
    }

    private record Run(String out, Path tmp) {
        String mapped() {
            return out.lines().filter(l -> l.startsWith("mapped ")).map(l -> l.substring(7)).findFirst()
                    .orElseThrow(() -> new AssertionError("no libonnxruntime.so mapped:\n" + out));
        }
    }

    private static Run run(Path dir, String name, Path cache) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve(name + "-tmp"));
        Path argfile = dir.resolve(name + "-args");
        // the class path goes through an argfile: ONNX Runtime 1.29 crashes with a command line over about 4 KB
        Files.writeString(argfile, "-cp\n\"" + System.getProperty("java.class.path").replace("\\", "\\\\")
                .replace("\"", "\\\"") + "\"\n", StandardCharsets.UTF_8);
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Djava.io.tmpdir=" + tmp,
                "-Dconditio.cache=" + cache, "-Xmx512m", "@" + argfile, Generate.class.getName(),
                TinyFixtures.pluginDir().toString(), TinyFixtures.model("sd-tiny").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve(name + "-out.txt").toFile());
        pb.environment().put("TMPDIR", tmp.toString());
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("forked generation finished").isTrue();
        String out = Files.readString(dir.resolve(name + "-out.txt"));
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("generated 1");
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.map(f -> f.getFileName().toString()).toList()).as("left in java.io.tmpdir").isEmpty();
        }
        return new Run(out, tmp);
    }

    @Test
    void theFirstProcessUnpacksIntoTheCacheAndTheNextLoadsWhatItUnpacked(@TempDir Path dir) throws Exception {
        assumeThat(Path.of("/proc/self/maps")).as("Linux /proc").exists();
        Path cache = dir.resolve("cache");

        Run first = run(dir, "first", cache);
        Path library = Path.of(first.mapped());
        assertThat(library.toString()).as("mapped from the cache folder")
                .startsWith(cache.resolve("onnxruntime") + "/");
        assertThat(library.getParent().getFileName().toString()).as("folder named by version and platform")
                .matches("\\d+\\.\\d+\\.\\d+-linux-(x64|aarch64)-[0-9a-f]{8}");
        assertThat(library.resolveSibling("libonnxruntime4j_jni.so")).isRegularFile();
        try (Stream<Path> files = Files.list(library.getParent())) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".part")).toList())
                    .as("no partial file left").isEmpty();
        }
        BasicFileAttributes before = Files.readAttributes(library, BasicFileAttributes.class);

        Run second = run(dir, "second", cache);
        assertThat(second.mapped()).isEqualTo(library.toString());
        BasicFileAttributes after = Files.readAttributes(library, BasicFileAttributes.class);
        assertThat(after.fileKey()).as("the same file, not unpacked again").isEqualTo(before.fileKey());
        assertThat(after.lastModifiedTime()).isEqualTo(before.lastModifiedTime());
    }

    @Test
    void aTruncatedLibraryInTheCacheIsUnpackedAgain(@TempDir Path dir) throws Exception {
        assumeThat(Path.of("/proc/self/maps")).as("Linux /proc").exists();
        Path cache = dir.resolve("cache");
        Path library = Path.of(run(dir, "first", cache).mapped());
        long size = Files.size(library);
        Files.write(library, new byte[] {0x7f, 'E', 'L', 'F'});

        Run again = run(dir, "again", cache);
        assertThat(again.mapped()).isEqualTo(library.toString());
        assertThat(Files.size(library)).isEqualTo(size);
    }

    @Test
    void withoutAUsableCacheFolderOnnxRuntimeUnpacksIntoTheTempFolderAndItIsRemoved(@TempDir Path dir)
            throws Exception {
        assumeThat(Path.of("/proc/self/maps")).as("Linux /proc").exists();
        Path notAFolder = Files.writeString(dir.resolve("cache"), "a file where the cache folder would be");

        Run run = run(dir, "fallback", notAFolder);
        // that folder is gone by now, so the path is compared as text
        assertThat(run.mapped()).as("ONNX Runtime's own temporary folder")
                .startsWith(run.tmp().resolve("onnxruntime-java").toString());
    }
}
