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

    /**
     * {@link #randn} written into a tensor the caller keeps, so that a scheduler drawing noise in every step
     * allocates none. Since SPI 0.3.0; the default copies {@code randn(into.shape())} into {@code into}, so a source
     * that implements only {@code randn} draws the same values.
     *
     * @param into the tensor to fill; its shape is the shape drawn
     * @return {@code into}, holding what {@code randn(into.shape())} would have returned
     */
    default FloatTensor randnInto(FloatTensor into) {
        float[] drawn = randn(into.shape()).array();
        System.arraycopy(drawn, 0, into.array(), 0, drawn.length);
        return into;
    }

    /** @return the seed this source was created with */
    long seed();
}
