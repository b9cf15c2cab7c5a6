package io.conditio.core.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Tensor;
import io.conditio.core.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Session settings reach ONNX Runtime, the optimised-model cache is written on the first open and used on the next,
 * a broken cache falls back to a plain open with one warning, and CUDA falls back to the CPU where the ONNX Runtime
 * artifact lacks it. The model is a chain of 400 MatMul+Tanh nodes, run on one row.
 */
class SessionSettingsTest {
    private static final Path MODEL = Fixtures.resource("onnx/slow-matmul.onnx");

    private final List<String> warned = new ArrayList<>();
    private Consumer<String> before;

    @BeforeEach
    void captureWarnings() {
        before = OnnxModel.warnings(warned::add);
    }

    @AfterEach
    void restoreWarnings() {
        OnnxModel.warnings(before);
    }

    private static float[] run(SessionSettings settings) {
        try (OnnxModel m = OnnxModel.open("slow", MODEL, settings)) {
            float[] x = new float[256];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i * 0.37);
            }
            Map<String, Tensor> out = m.run(Map.of("x", FloatTensor.of(x, 1, 256)));
            return ((FloatTensor) out.values().iterator().next()).array().clone();
        }
    }

    private static SessionSettings.Builder base() {
        return SessionSettings.builder().optIntraOpThreads(1).noModelCache();
    }

    private static List<Path> entries(Path cache) throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(p -> !p.getFileName().toString().equals("index"))
                    .filter(p -> Files.isRegularFile(p.resolve("model.onnx"))).toList();
        }
    }

    @Test
    void everySettingGivesTheSameResultAsTheDefaults() {
        float[] plain = run(base().build());
        assertThat(run(base().optIntraOpThreads(2).build())).containsExactly(plain);
        assertThat(run(base().optExecutionMode(SessionSettings.ExecutionMode.PARALLEL).optInterOpThreads(2).build()))
                .containsExactly(plain);
        assertThat(run(base().optMemoryArena(false).build())).containsExactly(plain);
        assertThat(warned).isEmpty();
    }

    @Test
    void theFirstOpenWritesTheOptimisedModelAndTheSecondLoadsIt(@TempDir Path cache) throws IOException {
        float[] plain = run(base().build());
        SessionSettings cached = base().optModelCache(cache).build();

        float[] first = run(cached);
        List<Path> written = entries(cache);
        assertThat(written).as("one entry after the first open").hasSize(1);
        Path entry = written.get(0).resolve("model.onnx");
        long modified = Files.getLastModifiedTime(entry).toMillis();

        float[] second = run(cached);
        assertThat(entries(cache)).containsExactlyElementsOf(written);
        assertThat(Files.getLastModifiedTime(entry).toMillis()).as("the entry is read, not rewritten")
                .isEqualTo(modified);
        assertThat(first).containsExactly(plain);
        assertThat(second).containsExactly(plain);
        try (Stream<Path> s = Files.list(cache)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
        assertThat(warned).isEmpty();
    }

    @Test
    void aCorruptEntryIsReplacedWithOneWarning(@TempDir Path cache) throws IOException {
        SessionSettings cached = base().optModelCache(cache).build();
        float[] plain = run(cached);
        Path entry = entries(cache).get(0).resolve("model.onnx");
        Files.write(entry, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});

        assertThat(run(cached)).containsExactly(plain);
        assertThat(warned).hasSize(1);
        assertThat(warned.get(0)).contains(cache.toString()).contains("could not be loaded");
        assertThat(Files.size(entries(cache).get(0).resolve("model.onnx"))).as("written anew").isGreaterThan(8);
    }

    @Test
    void anUnwritableCacheFallsBackWithOneWarning(@TempDir Path tmp) throws IOException {
        Path notAFolder = Files.writeString(tmp.resolve("cache"), "a file where the cache folder should be");
        SessionSettings cached = base().optModelCache(notAFolder).build();
        float[] plain = run(base().build());

        assertThat(run(cached)).containsExactly(plain);
        assertThat(run(cached)).containsExactly(plain);
        assertThat(warned).hasSize(1);
        assertThat(warned.get(0)).contains(notAFolder.toString()).contains("not writable");
    }

    @Test
    void aWeightPatchedSessionDoesNotUseTheCache(@TempDir Path cache) throws IOException {
        try (OnnxModel m = OnnxModel.open("slow", MODEL, Map.of(), java.util.Set.of(),
                base().optModelCache(cache).build())) {
            assertThat(m.weightPatches()).isEmpty();
        }
        assertThat(entries(cache)).hasSize(1);
        OnnxGraph graph = OnnxGraph.read(MODEL);
        Map.Entry<String, io.conditio.api.ModelGraph.Initializer> first = graph.initializers().entrySet().stream()
                .filter(e -> e.getValue().shape().length == 2).findFirst().orElseThrow();
        int[] shape = java.util.Arrays.stream(first.getValue().shape()).mapToInt(Math::toIntExact).toArray();
        FloatTensor zeros = FloatTensor.full(0f, shape);
        Path other = Files.createDirectories(cache.resolve("patched-cache"));
        try (OnnxModel m = OnnxModel.open("slow", MODEL, Map.of(first.getKey(), zeros), java.util.Set.of(),
                base().optModelCache(other).build())) {
            assertThat(m.run(Map.of("x", FloatTensor.full(1f, 1, 256)))).isNotEmpty();
        }
        try (Stream<Path> s = Files.list(other)) {
            assertThat(s).as("nothing cached for patched weights").isEmpty();
        }
    }

    @Test
    void cudaFallsBackToTheCpuWithOneWarningWhenTheArtifactLacksIt() {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                OrtAvailable.cuda(), "this ONNX Runtime has the CUDA provider; the fallback cannot happen");
        SessionSettings cuda = base().optDevice(Device.cuda(7)).build();
        try (OnnxModel m = OnnxModel.open("slow", MODEL, cuda)) {
            assertThat(m.device()).isEqualTo(Device.CPU);
        }
        try (OnnxModel m = OnnxModel.open("slow", MODEL, cuda)) {
            assertThat(m.device()).isEqualTo(Device.CPU);
        }
        assertThat(warned).hasSize(1);
        assertThat(warned.get(0)).contains("cuda:7").contains("onnxruntime_gpu").contains("CPU");
        assertThat(run(cuda)).containsExactly(run(base().build()));
    }

    @Test
    void devicesParseAndRefuseWithTheExpectedForms() {
        assertThat(Device.parse("cpu")).isEqualTo(Device.CPU);
        assertThat(Device.parse(" CUDA ")).isEqualTo(Device.cuda(0));
        assertThat(Device.parse("cuda:3")).isEqualTo(Device.cuda(3));
        assertThat(Device.cuda(3).toString()).isEqualTo("cuda:3");
        for (String bad : List.of("gpu", "cuda:", "cuda:-1", "cuda:x", "")) {
            assertThatThrownBy(() -> Device.parse(bad)).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("expected cpu, cuda or cuda:N");
        }
    }

    @Test
    void systemPropertiesSetTheDefaultsAndMalformedOnesAreNamed() {
        String[] props = {SessionSettings.INTRA_OP_THREADS_PROPERTY, SessionSettings.EXECUTION_MODE_PROPERTY,
                SessionSettings.MEMORY_ARENA_PROPERTY, SessionSettings.DEVICE_PROPERTY,
                SessionSettings.MODEL_CACHE_PROPERTY};
        try {
            System.setProperty(SessionSettings.INTRA_OP_THREADS_PROPERTY, "3");
            System.setProperty(SessionSettings.EXECUTION_MODE_PROPERTY, "Parallel");
            System.setProperty(SessionSettings.MEMORY_ARENA_PROPERTY, "false");
            System.setProperty(SessionSettings.DEVICE_PROPERTY, "cuda:1");
            System.setProperty(SessionSettings.MODEL_CACHE_PROPERTY, "none");
            SessionSettings s = SessionSettings.defaults();
            assertThat(s.intraOpThreads()).isEqualTo(3);
            assertThat(s.executionMode()).isEqualTo(SessionSettings.ExecutionMode.PARALLEL);
            assertThat(s.memoryArena()).isFalse();
            assertThat(s.device()).isEqualTo(Device.cuda(1));
            assertThat(s.modelCache()).isEmpty();

            System.setProperty(SessionSettings.INTRA_OP_THREADS_PROPERTY, "0");
            assertThatThrownBy(SessionSettings::defaults).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining(SessionSettings.INTRA_OP_THREADS_PROPERTY + "=0");
            System.clearProperty(SessionSettings.INTRA_OP_THREADS_PROPERTY);
            System.setProperty(SessionSettings.MEMORY_ARENA_PROPERTY, "yes");
            assertThatThrownBy(SessionSettings::defaults).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining(SessionSettings.MEMORY_ARENA_PROPERTY).hasMessageContaining("true or false");
        } finally {
            for (String p : props) {
                System.clearProperty(p);
            }
        }
        assertThatThrownBy(() -> SessionSettings.builder().optIntraOpThreads(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("intra-op threads -1");
    }

    /** Whether the ONNX Runtime on the class path has the CUDA provider. */
    static final class OrtAvailable {
        static boolean cuda() {
            NativeRuntime.environment();
            return ai.onnxruntime.OrtEnvironment.getAvailableProviders().contains(ai.onnxruntime.OrtProvider.CUDA);
        }
    }
}
