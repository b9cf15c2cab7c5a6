package io.conditio.core.random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import io.conditio.api.FloatTensor;
import io.conditio.core.json.Json;
import io.conditio.core.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks the generator against vectors recorded from PyTorch.
 *
 * <p>{@code reference/torch-randn-avx2.json} was recorded from real PyTorch (1.13.1, AVX2 CPU kernel); every value
 * must match it exactly: identical float bits, no ulp tolerance.
 *
 * <p>{@code reference/torch-randn.json} (the project's shared reference) agrees with real torch, bit for bit, on the
 * uniform stream ({@code rand}), the scalar path (fewer than 16 values) and the tail handling, but its Box–Muller
 * values for 16 or more elements differ from real torch by up to 2 ulp in about 15% of the elements (they are
 * reproduced exactly by NumPy's float32 log/sin/cos, not by torch's kernel). Those cases are checked at 2 ulp.
 */
class TorchGeneratorTest {

    private static Map<String, Object> shared() {
        return Json.parseObject(Fixtures.resource("reference/torch-randn.json"));
    }

    private static Map<String, Object> recorded() {
        return Json.parseObject(Fixtures.resource("reference/torch-randn-avx2.json"));
    }

    @SuppressWarnings("unchecked")
    static Stream<Map<String, Object>> recordedCases() {
        return ((List<Map<String, Object>>) recorded().get("cases")).stream();
    }

    @SuppressWarnings("unchecked")
    static Stream<Map<String, Object>> sharedCases() {
        List<Map<String, Object>> cases = (List<Map<String, Object>>) shared().get("cases");
        assertThat(cases).hasSize(8);
        return cases.stream();
    }

    @SuppressWarnings("unchecked")
    static Stream<Map<String, Object>> recordedSequences() {
        return ((List<Map<String, Object>>) recorded().get("sequences")).stream();
    }

    @SuppressWarnings("unchecked")
    static Stream<Map<String, Object>> recordedDigests() {
        return ((List<Map<String, Object>>) recorded().get("digests")).stream();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("recordedCases")
    @SuppressWarnings("unchecked")
    void randnTwiceMatchesRealTorchBitForBit(Map<String, Object> c) {
        FloatTensor[] draws = randnTwice(c);
        assertThat(draws[0].shape()).containsExactly(ints((List<Object>) c.get("shape")));
        assertDrawsWithinUlps(c, draws, 0);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("recordedSequences")
    @SuppressWarnings("unchecked")
    void interleavedCallsMatchRealTorchBitForBit(Map<String, Object> sequence) {
        long seed = (Long) sequence.get("seed");
        TorchGenerator g = new TorchGenerator(seed);
        int i = 0;
        for (Map<String, Object> step : (List<Map<String, Object>>) sequence.get("steps")) {
            int[] shape = ints((List<Object>) step.get("shape"));
            FloatTensor t = "rand".equals(step.get("op")) ? g.rand(shape) : g.randn(shape);
            assertWithinUlps(t, (List<Object>) step.get("values"), 0,
                    "seed " + seed + " step " + i++ + " " + step.get("op"));
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("recordedDigests")
    @SuppressWarnings("unchecked")
    void largeDrawsMatchRealTorchDigest(Map<String, Object> d) throws Exception {
        int[] shape = ints((List<Object>) d.get("shape"));
        FloatTensor t = new TorchGenerator((Long) d.get("seed")).randn(shape);
        ByteBuffer bytes = ByteBuffer.allocate(t.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(t.array());
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
        float[] head = Arrays.copyOfRange(t.array(), 0, 8);
        float[] tail = Arrays.copyOfRange(t.array(), t.size() - 8, t.size());
        assertWithinUlps(FloatTensor.of(head, 8), (List<Object>) d.get("first8"), 0, "first 8");
        assertWithinUlps(FloatTensor.of(tail, 8), (List<Object>) d.get("last8"), 0, "last 8");
        assertThat(sha).as("SHA-256 of all %d values", t.size()).isEqualTo(d.get("sha256_le_f32"));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("sharedCases")
    void randnMatchesSharedReference(Map<String, Object> c) {
        FloatTensor[] draws = randnTwice(c);
        // the scalar path (< 16 values) is exact; the 16-block kernel within 2 ulp (see the class comment)
        assertDrawsWithinUlps(c, draws, draws[0].size() < 16 ? 0 : 2);
    }

    /** @return two randn draws of the case's shape from one generator seeded with the case's seed */
    @SuppressWarnings("unchecked")
    private static FloatTensor[] randnTwice(Map<String, Object> c) {
        int[] shape = ints((List<Object>) c.get("shape"));
        TorchGenerator g = new TorchGenerator((Long) c.get("seed"));
        return new FloatTensor[] {g.randn(shape), g.randn(shape)};
    }

    /** Checks the draws of {@link #randnTwice} against the case's {@code first} and {@code second} values. */
    @SuppressWarnings("unchecked")
    private static void assertDrawsWithinUlps(Map<String, Object> c, FloatTensor[] draws, int ulps) {
        long seed = (Long) c.get("seed");
        assertWithinUlps(draws[0], (List<Object>) c.get("first"), ulps, "seed " + seed + " first");
        assertWithinUlps(draws[1], (List<Object>) c.get("second"), ulps, "seed " + seed + " second");
    }

    @Test
    @SuppressWarnings("unchecked")
    void randMatchesBothReferencesBitForBit() {
        FloatTensor r = new TorchGenerator(42).rand(16);
        assertWithinUlps(r, (List<Object>) shared().get("rand_seed42_first16"), 0, "rand seed 42 (shared)");
        assertWithinUlps(r, (List<Object>) recorded().get("rand_seed42_first16"), 0, "rand seed 42 (recorded)");
    }

    @Test
    @SuppressWarnings("unchecked")
    void randInSeveralCallsContinuesTheStream() {
        List<Object> expected = (List<Object>) shared().get("rand_seed42_first16");
        TorchGenerator g = new TorchGenerator(42);
        float[] a = g.rand(2, 3).array();
        float[] b = g.rand(10).array();
        float[] joined = new float[16];
        System.arraycopy(a, 0, joined, 0, 6);
        System.arraycopy(b, 0, joined, 6, 10);
        assertWithinUlps(FloatTensor.of(joined, 16), expected, 0, "rand in two calls");
    }

    @Test
    void onlyTheLow32BitsOfTheSeedMatter() {
        float[] a = new TorchGenerator(42).randn(32).array();
        float[] b = new TorchGenerator(42L + (1L << 32)).randn(32).array();
        assertThat(b).containsExactly(a);
        assertThat(new TorchGenerator(7L).seed()).isEqualTo(7L);
    }

    @Test
    void emptyAndScalarShapesAreAllowedAndNegativeDimensionsAreNot() {
        TorchGenerator g = new TorchGenerator(0);
        assertThat(g.randn(0, 4).size()).isZero();
        FloatTensor s = g.randn();
        assertThat(s.rank()).isZero();
        assertThat(s.size()).isEqualTo(1);
        assertThatThrownBy(() -> g.randn(-1, 2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void kernelLogAndSinCosStayCloseToTheExactFunctions() {
        for (int i = 1; i <= 1 << 16; i++) {
            float u = i * 0x1p-16f;
            assertThat((double) TorchGenerator.log(u)).isCloseTo(Math.log(u), offset(
                    4 * Math.ulp((float) Math.log(u)) + 1e-7));
            float theta = (float) (2 * Math.PI) * (1 - u);
            long sc = TorchGenerator.sinCos(theta);
            assertThat((double) Float.intBitsToFloat((int) (sc >>> 32)))
                    .isCloseTo(Math.sin(theta), offset(3e-7));
            assertThat((double) Float.intBitsToFloat((int) sc))
                    .isCloseTo(Math.cos(theta), offset(3e-7));
        }
    }

    @Test
    void largeDrawLooksStandardNormalAndIsFast() {
        TorchGenerator g = new TorchGenerator(123);
        for (int i = 0; i < 5; i++) {
            g.randn(1, 4, 64, 64); // warm-up
        }
        long t0 = System.nanoTime();
        FloatTensor t = g.randn(1, 4, 64, 64);
        long micros = (System.nanoTime() - t0) / 1000;
        double sum = 0;
        double sq = 0;
        for (float v : t.array()) {
            assertThat(Float.isFinite(v)).isTrue();
            sum += v;
            sq += (double) v * v;
        }
        double mean = sum / t.size();
        double var = sq / t.size() - mean * mean;
        assertThat(mean).isBetween(-0.05, 0.05);
        assertThat(var).isBetween(0.95, 1.05);
        // generous bound for slow CI machines; a 64x64 latent takes well under a millisecond once warm
        assertThat(micros).as("microseconds for 16384 normals").isLessThan(200_000);
    }

    private static int[] ints(List<Object> values) {
        return values.stream().mapToInt(o -> ((Long) o).intValue()).toArray();
    }

    private static void assertWithinUlps(FloatTensor actual, List<Object> expected, int maxUlps, String what) {
        assertThat(actual.size()).as(what + ": element count").isEqualTo(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            float want = ((Number) expected.get(i)).floatValue();
            float got = actual.get(i);
            long diff = Math.abs((long) Float.floatToRawIntBits(got) - Float.floatToRawIntBits(want));
            if (diff > maxUlps) {
                throw new AssertionError(what + ": element " + i + " is " + got + " but the reference gives " + want
                        + " (" + diff + " ulp apart, allowed " + maxUlps + ")");
            }
        }
    }
}
