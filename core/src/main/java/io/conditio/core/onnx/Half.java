package io.conditio.core.onnx;

import java.nio.ShortBuffer;

/**
 * IEEE 754 binary16 (float16) bit patterns to and from float32, for models whose inputs and outputs are float16
 * (and, through {@link #toFloat}, the F16 tensors of safetensors files).
 * float → half rounds to nearest, ties to even; values beyond the largest half (65504, after rounding) become
 * infinity, values below half the smallest subnormal become a signed zero; NaN stays NaN (quiet) and infinities keep
 * their sign. half → float is exact. Written out because {@code Float.floatToFloat16} needs Java 20.
 */
public final class Half {
    private Half() {
    }

    /**
     * @param f a float32 value
     * @return the nearest float16, as its 16 bits
     */
    static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        if (exp == 0) {
            return (short) sign; // float32 subnormals are far below float16's smallest subnormal (2^-24)
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (e > 0) {
            int h = (e << 10) | (mant >>> 13);
            int rest = mant & 0x1fff;
            if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) {
                h++; // a carry into the exponent is the right result, up to infinity (0x7c00)
            }
            return (short) (sign | h);
        }
        // a float16 subnormal: value = m * 2^-24
        int shift = 14 - e;
        if (shift > 24) {
            return (short) sign;
        }
        int significand = mant | 0x800000;
        int m = significand >>> shift;
        int rest = significand & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rest > halfway || (rest == halfway && (m & 1) != 0)) {
            m++; // 0x400 is the smallest normal, also right
        }
        return (short) (sign | m);
    }

    /**
     * @param h float16 bits
     * @return the same value as a float32
     */
    public static float toFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** Writes {@code count} values of {@code src} from {@code offset} at the buffer's position, advancing it. */
    static void put(ShortBuffer dst, float[] src, int offset, int count) {
        for (int i = 0; i < count; i++) {
            dst.put(fromFloat(src[offset + i]));
        }
    }

    /** Reads the buffer's first {@code dst.length} values (absolute reads; its position is unchanged) into dst. */
    static void get(ShortBuffer src, float[] dst) {
        for (int i = 0; i < dst.length; i++) {
            dst[i] = toFloat(src.get(i));
        }
    }

    /** Reads the buffer's remaining values (absolute reads; its position is unchanged) into a new float array. */
    static float[] toFloats(ShortBuffer src) {
        int start = src.position();
        float[] out = new float[src.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = toFloat(src.get(start + i));
        }
        return out;
    }
}
