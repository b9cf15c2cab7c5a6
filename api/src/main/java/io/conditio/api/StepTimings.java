package io.conditio.api;

/**
 * Where a generation spent its time, in nanoseconds.
 *
 * @param prepareNanos  conditioner preparation (prompt encoding, image encoding)
 * @param loopNanos     the whole denoise loop
 * @param unetNanos     inside UNet calls only (summed)
 * @param decodeNanos   VAE decoding
 * @param modelCalls    the number of UNet calls
 */
public record StepTimings(long prepareNanos, long loopNanos, long unetNanos, long decodeNanos, int modelCalls) {

    /** @return mean wall time of one loop step in milliseconds */
    public double meanStepMillis() {
        return modelCalls == 0 ? 0 : loopNanos / 1e6 / modelCalls;
    }

    /** @return mean time of one bare UNet call in milliseconds */
    public double meanUnetMillis() {
        return modelCalls == 0 ? 0 : unetNanos / 1e6 / modelCalls;
    }
}
