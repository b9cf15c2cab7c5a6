package io.conditio.api;

/**
 * The generation's random generator. The core's implementation reproduces
 * {@code torch.Generator("cpu").manual_seed(seed)} with {@code torch.randn} / {@code torch.rand} in float32, so draws
 * made in diffusers' order give diffusers' numbers. One instance per generation; not thread-safe.
 */
public interface RandomSource {

    /**
     * Draws standard-normal values, as {@code torch.randn(shape, generator=g, dtype=torch.float32)}.
     *
     * @param shape the dimensions of the result
     * @return a new tensor; successive calls continue the same stream
     */
    FloatTensor randn(int... shape);

    /**
     * Draws uniform values in [0, 1), as {@code torch.rand(shape, generator=g, dtype=torch.float32)}.
     *
     * @param shape the dimensions of the result
     * @return a new tensor; successive calls continue the same stream
     */
    FloatTensor rand(int... shape);

    /** @return the seed this source was created with */
    long seed();
}
