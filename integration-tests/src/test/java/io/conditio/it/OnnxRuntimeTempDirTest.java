package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.GenerationRequest;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that loads ONNX Runtime and generates leaves nothing in its {@code java.io.tmpdir} and {@code TMPDIR}:
 * ONNX Runtime 1.29 on its own leaves an empty {@code onnxruntime-java*} folder per process, and on some hosts its
 * telemetry files ({@code .ses}, {@code mat-debug-PID.log}). Run in a forked JVM with a private temp
 * folder; the class path goes through a {@code @argfile}, since ONNX Runtime 1.29 crashes when the command line is
 * longer than about 4 KB.
 */
class OnnxRuntimeTempDirTest {

    /** The forked process: one generation on sd-tiny, then a normal exit. */
    public static final class Generate {
        private Generate() {
        }

        public static void main(String[] args) {
            try (Conditio conditio = Conditio.start(List.of(Path.of(args[0])));
                    Pipeline pipeline = conditio.open(Path.of(args[1]))) {
                int n = pipeline.generate(GenerationRequest.builder().setPrompt("a red circle").optSteps(2).optSeed(1)
                        .build()).images().size();
                System.out.println("generated " + n);
                Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
                try (Stream<Path> files = Files.list(tmp)) {
                    // while running, ONNX Runtime's folder may be there (it unpacks provider libraries into it)
                    System.out.println("during: " + files.map(p -> p.getFileName().toString()).sorted().toList());
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    @Test
    void aProcessThatLoadsOnnxRuntimeLeavesNothingInItsTempFolder(@TempDir Path dir) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path argfile = dir.resolve("args");
        Files.writeString(argfile, "-cp\n" + quoted(System.getProperty("java.class.path")) + "\n",
                StandardCharsets.UTF_8);
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Djava.io.tmpdir=" + tmp, "-Xmx512m", "@" + argfile,
                Generate.class.getName(), TinyFixtures.pluginDir().toString(),
                TinyFixtures.model("sd-tiny").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile());
        // TMPDIR too: ONNX Runtime's telemetry writes there (.ses, mat-debug-PID.log) unless it is switched off
        pb.environment().put("TMPDIR", tmp.toString());
        pb.environment().remove("ORT_DISABLE_TELEMETRY");
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("forked generation finished").isTrue();
        String out = Files.readString(dir.resolve("out.txt"));
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("generated 1");
        // ONNX Runtime did unpack its libraries there (so the empty folder below is not luck); whether its telemetry
        // files (mat-debug-PID.log) appear depends on the host, so they are only required to be gone afterwards
        assertThat(out).containsPattern("during: \\[.*onnxruntime-java");
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.map(f -> f.getFileName().toString()).toList()).as("left in java.io.tmpdir").isEmpty();
        }
    }

    /** An argfile token: quoted, with backslashes and quotes escaped. */
    private static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
