package io.conditio.plugins.schedulers;

/**
 * Scalar float32 functions as torch evaluates them on 0-d float32 tensors. Each is computed in double and rounded
 * once to float32: exact for {@code sqrt}, and the correctly rounded result (which is what torch's float kernels
 * return for all but rare ties) for {@code exp}, {@code log} and {@code expm1}.
 */
final class Float32 {
    private Float32() {
    }

    /** @return {@code torch.sqrt(x)} (also {@code x ** 0.5}) */
    static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }

    /** @return {@code torch.exp(x)} */
    static float exp(float x) {
        return (float) Math.exp(x);
    }

    /** @return {@code torch.log(x)} */
    static float log(float x) {
        return (float) Math.log(x);
    }

    /** @return {@code torch.expm1(x)} */
    static float expm1(float x) {
        return (float) Math.expm1(x);
    }

    /** @return {@code x ** 2}, which torch turns into {@code x * x} */
    static float square(float x) {
        return x * x;
    }
}
