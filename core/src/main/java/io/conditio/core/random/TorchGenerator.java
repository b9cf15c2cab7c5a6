package io.conditio.core.random;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import java.util.Arrays;

/**
 * A random source that reproduces PyTorch's CPU generator bit for bit:
 * {@code g = torch.Generator("cpu").manual_seed(seed)} followed by any sequence of
 * {@code torch.randn(shape, generator=g, dtype=torch.float32)} and
 * {@code torch.rand(shape, generator=g, dtype=torch.float32)} calls.
 *
 * <p>How torch draws, as reproduced here:
 * <ul>
 *   <li>The engine is a 32-bit Mersenne Twister (mt19937) initialised with {@code init_genrand} from the low
 *       32 bits of the seed.</li>
 *   <li>A float uniform in [0, 1) is the low 24 bits of one 32-bit draw times 2<sup>-24</sup>; a double uniform is
 *       the low 53 bits of a 64-bit value built from two draws (the first draw being the high half) times
 *       2<sup>-53</sup>.</li>
 *   <li>{@code rand} fills the tensor with float uniforms in order.</li>
 *   <li>{@code randn} with 16 or more elements first fills the whole tensor with float uniforms, then transforms it
 *       in blocks of 16 with torch's AVX2 kernel ({@code normal_fill_16_AVX2}): for j in 0..7,
 *       {@code u1 = 1 - x[j]}, {@code u2 = x[j + 8]}, {@code r = sqrt(-2 log u1)}, {@code theta = (float) 2π * u2},
 *       {@code x[j] = r cos theta}, {@code x[j + 8] = r sin theta}, all in float32, where log, sin and cos are the
 *       Cephes-style polynomials of {@code avx_mathfun.h} ({@code log256_ps}, {@code sincos256_ps}) evaluated with the
 *       fused multiply-adds that the compiler forms in torch's build. When the count is not a multiple of 16, the last
 *       16 elements are then refilled with 16 fresh uniforms and transformed again (overlapping the previous
 *       block).</li>
 *   <li>{@code randn} with fewer than 16 elements draws each value from a double Box–Muller
 *       ({@code u1}, {@code u2} double uniforms, {@code r = sqrt(-2 log1p(-u2))}, {@code theta = 2π u1}) returning
 *       {@code r cos theta} and caching {@code r sin theta} for the next scalar-path value; the cache belongs to
 *       the generator and survives between calls. Values are rounded to float.</li>
 * </ul>
 *
 * <p>Torch's CPU kernel depends on the CPU capability it dispatches to; this class follows the AVX2 kernel, which x86-64
 * builds use (verified bit for bit against PyTorch 1.13.1 with {@code ATEN_CPU_CAPABILITY=avx2}). Torch's portable
 * fallback kernel ({@code DEFAULT} capability: libm {@code logf}/{@code cosf}/{@code sinf}, theta rounded from double)
 * differs from it in the last bit or two of some values, and so may other architectures.
 *
 * <p>Not thread-safe: use one instance per generation.
 */
public final class TorchGenerator implements RandomSource {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;
    private static final float TWO_PI_F = (float) (2.0 * Math.PI);
    private static final float TWO_POW_MINUS_24 = 0x1p-24f;
    private static final double TWO_POW_MINUS_53 = 0x1p-53;
    private static final long MASK_53 = (1L << 53) - 1;

    // Constants of avx_mathfun.h (Cephes single precision), rounded to float as _mm256_set1_ps does.
    private static final float SQRT_HALF = 0.707106781186547524f;
    private static final float LOG_P0 = 7.0376836292E-2f;
    private static final float LOG_P1 = -1.1514610310E-1f;
    private static final float LOG_P2 = 1.1676998740E-1f;
    private static final float LOG_P3 = -1.2420140846E-1f;
    private static final float LOG_P4 = 1.4249322787E-1f;
    private static final float LOG_P5 = -1.6668057665E-1f;
    private static final float LOG_P6 = 2.0000714765E-1f;
    private static final float LOG_P7 = -2.4999993993E-1f;
    private static final float LOG_P8 = 3.3333331174E-1f;
    private static final float LOG_Q1 = -2.12194440e-4f;
    private static final float LOG_Q2 = 0.693359375f;
    private static final float FOUR_OVER_PI = 1.27323954473516f;
    private static final float MINUS_DP1 = -0.78515625f;
    private static final float MINUS_DP2 = -2.4187564849853515625e-4f;
    private static final float MINUS_DP3 = -3.77489497744594108e-8f;
    private static final float SIN_P0 = -1.9515295891E-4f;
    private static final float SIN_P1 = 8.3321608736E-3f;
    private static final float SIN_P2 = -1.6666654611E-1f;
    private static final float COS_P0 = 2.443315711809948E-005f;
    private static final float COS_P1 = -1.388731625493765E-003f;
    private static final float COS_P2 = 4.166664568298827E-002f;

    private final long seed;
    private final int[] state = new int[N];
    private int next;
    private boolean hasCachedNormal;
    private double cachedNormal;

    /**
     * Creates a generator in the state of {@code torch.Generator("cpu").manual_seed(seed)}.
     *
     * @param seed the seed; as in torch, only its low 32 bits affect the stream
     */
    public TorchGenerator(long seed) {
        this.seed = seed;
        int[] mt = state;
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            int prev = mt[i - 1];
            mt[i] = 1812433253 * (prev ^ (prev >>> 30)) + i;
        }
        next = N; // the first draw regenerates the state
    }

    @Override
    public long seed() {
        return seed;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException when a dimension is negative or the element count overflows an int
     */
    @Override
    public FloatTensor randn(int... shape) {
        int n = volume(shape);
        float[] out = new float[n];
        fillNormal(out, 0, n);
        return FloatTensor.of(out, shape);
    }

    /** {@link #randn} of {@code into}'s shape, drawn into {@code into}: the same values, no new array. */
    @Override
    public FloatTensor randnInto(FloatTensor into) {
        fillNormal(into.array(), 0, into.size());
        return into;
    }

    /**
     * Writes what {@code randn} of {@code count} values returns into {@code out[from, from + count)}.
     *
     * @param out   where the values go
     * @param from  the first index written
     * @param count how many values are drawn (as the volume of the shape {@code randn} is given)
     */
    void fillNormal(float[] out, int from, int count) {
        if (count >= 16) {
            fillUniform(out, from, count);
            for (int i = 0; i + 16 <= count; i += 16) {
                boxMuller16(out, from + i);
            }
            if (count % 16 != 0) {
                int tail = from + count - 16;
                fillUniform(out, tail, 16);
                boxMuller16(out, tail);
            }
        } else {
            for (int i = from; i < from + count; i++) {
                out[i] = (float) nextNormalDouble();
            }
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException when a dimension is negative or the element count overflows an int
     */
    @Override
    public FloatTensor rand(int... shape) {
        int n = volume(shape);
        float[] out = new float[n];
        fillUniform(out, 0, n);
        return FloatTensor.of(out, shape);
    }

    /**
     * Returns the next raw 32-bit output of the engine (torch's {@code generator->random()}).
     *
     * @return 32 random bits
     */
    public int nextInt() {
        if (next >= N) {
            twist();
        }
        return temper(state[next++]);
    }

    /** The Mersenne Twister's tempering of one state word. */
    private static int temper(int word) {
        int y = word;
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /**
     * Returns the next 64-bit value as torch's {@code generator->random64()} builds it: two draws, the first in
     * the high half.
     *
     * @return 64 random bits
     */
    public long nextLong() {
        long hi = nextInt() & 0xffffffffL;
        long lo = nextInt() & 0xffffffffL;
        return (hi << 32) | lo;
    }

    private void fillUniform(float[] out, int from, int count) {
        int end = from + count;
        for (int i = from; i < end; i++) {
            if (next >= N) {
                twist();
            }
            out[i] = (temper(state[next++]) & 0xffffff) * TWO_POW_MINUS_24;
        }
    }

    /** Torch's {@code normal_fill_16_AVX2} with mean 0 and std 1, one lane at a time. */
    private static void boxMuller16(float[] d, int off) {
        for (int j = off; j < off + 8; j++) {
            float u1 = 1f - d[j];
            float u2 = d[j + 8];
            float radius = (float) Math.sqrt(-2f * log(u1));
            float theta = TWO_PI_F * u2;
            long sc = sinCos(theta);
            float sin = Float.intBitsToFloat((int) (sc >>> 32));
            float cos = Float.intBitsToFloat((int) sc);
            // torch stores fmadd(n, std = 1, mean = 0): exact, except that -0 becomes +0
            d[j] = radius * cos + 0f;
            d[j + 8] = radius * sin + 0f;
        }
    }

    /**
     * {@code log256_ps} for one lane, for arguments in (0, 1] (here always at least 2<sup>-24</sup>).
     * Every multiply that feeds an add is fused, as in torch's compiled kernel.
     */
    static float log(float x) {
        int bits = Float.floatToRawIntBits(Math.max(x, Float.MIN_NORMAL));
        float e = (float) ((bits >>> 23) - 0x7f) + 1f;
        float m = Float.intBitsToFloat((bits & ~0x7f800000) | 0x3f000000); // mantissa in [0.5, 1)
        float tmp = 0f;
        if (m < SQRT_HALF) {
            tmp = m;
            e = e - 1f;
        }
        m = m - 1f;
        m = m + tmp;
        float z = m * m;
        float y = LOG_P0;
        y = Math.fma(y, m, LOG_P1);
        y = Math.fma(y, m, LOG_P2);
        y = Math.fma(y, m, LOG_P3);
        y = Math.fma(y, m, LOG_P4);
        y = Math.fma(y, m, LOG_P5);
        y = Math.fma(y, m, LOG_P6);
        y = Math.fma(y, m, LOG_P7);
        y = Math.fma(y, m, LOG_P8);
        y = y * m;
        y = Math.fma(y, z, e * LOG_Q1);
        y = Math.fma(z, -0.5f, y);
        m = m + y;
        return Math.fma(e, LOG_Q2, m);
    }

    /**
     * {@code sincos256_ps} for one lane, for finite arguments of moderate size (here [0, 2π)), with the fused
     * multiply-adds of torch's compiled kernel.
     *
     * @return the bits of sin in the high half and of cos in the low half
     */
    static long sinCos(float theta) {
        int bits = Float.floatToRawIntBits(theta);
        int signSin = bits & 0x80000000;
        float x = Float.intBitsToFloat(bits & 0x7fffffff);
        int q = (int) (x * FOUR_OVER_PI); // truncation, as cvttps
        q = (q + 1) & ~1;
        float y = (float) q;
        signSin ^= (q & 4) << 29;
        int signCos = (~(q - 2) & 4) << 29;
        boolean sinPoly = (q & 2) == 0;
        // extended precision modular arithmetic: x - y * pi/4 in three parts
        x = Math.fma(y, MINUS_DP1, x);
        x = Math.fma(y, MINUS_DP2, x);
        x = Math.fma(y, MINUS_DP3, x);
        float z = x * x;
        float c = Math.fma(COS_P0, z, COS_P1);
        c = Math.fma(c, z, COS_P2);
        c = c * z;
        c = Math.fma(c, z, -(z * 0.5f));
        c = c + 1f;
        float s = Math.fma(SIN_P0, z, SIN_P1);
        s = Math.fma(s, z, SIN_P2);
        s = s * z;
        s = Math.fma(s, x, x);
        float sin = sinPoly ? s : c;
        float cos = sinPoly ? c : s;
        int sinBits = Float.floatToRawIntBits(sin) ^ signSin;
        int cosBits = Float.floatToRawIntBits(cos) ^ signCos;
        return ((long) sinBits << 32) | (cosBits & 0xffffffffL);
    }

    /** Torch's {@code at::normal_distribution<double>} with mean 0 and std 1, including its cached value. */
    private double nextNormalDouble() {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal;
        }
        double u1 = (nextLong() & MASK_53) * TWO_POW_MINUS_53;
        double u2 = (nextLong() & MASK_53) * TWO_POW_MINUS_53;
        // torch calls glibc here; fdlibm's results differ from it by far less than a float ulp
        double r = Math.sqrt(-2.0 * StrictMath.log1p(-u2));
        double theta = 2.0 * Math.PI * u1;
        cachedNormal = r * StrictMath.sin(theta);
        hasCachedNormal = true;
        return r * StrictMath.cos(theta);
    }

    private void twist() {
        int[] mt = state;
        int kk;
        for (kk = 0; kk < N - M; kk++) {
            int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
        for (; kk < N - 1; kk++) {
            int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
        int y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
        mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        next = 0;
    }

    private static int volume(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has too many elements");
            }
        }
        return (int) n;
    }
}
