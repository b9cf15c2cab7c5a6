package io.conditio.core.random;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;

/**
 * The generators of a generation that makes several images of one prompt: image {@code k} has its own
 * {@link TorchGenerator} seeded {@code seed + k}, as diffusers draws with a list of generators
 * ({@code randn_tensor(shape, generator=[g0, g1, ...])} concatenates one {@code [1, ...]} draw per generator) and as
 * A1111 seeds the images of a batch. So every image is the one a generation of that image alone, with seed
 * {@code seed + k}, gives: its start noise, its VAE sample and every noise an ancestral scheduler adds come from its
 * own stream.
 *
 * <p>A draw whose first dimension is the number of images takes entry {@code k} from generator {@code k}. Any other
 * draw (a conditioning's own, not per image) is made from every generator, so that each stays where it would be for
 * its image alone, and returns the first image's values.
 */
public final class ImageGenerators implements RandomSource {
    private final long seed;
    private final TorchGenerator[] generators;

    /**
     * @param seed   the first image's seed
     * @param images the number of images, at least 1
     */
    public ImageGenerators(long seed, int images) {
        if (images < 1) {
            throw new IllegalArgumentException("images must be at least 1, got " + images);
        }
        this.seed = seed;
        this.generators = new TorchGenerator[images];
        for (int k = 0; k < images; k++) {
            generators[k] = new TorchGenerator(seed + k);
        }
    }

    /**
     * @param seed  the first image's seed
     * @param image an image index
     * @return the seed of that image's generator
     */
    public static long imageSeed(long seed, int image) {
        return seed + image;
    }

    /** @return the number of images */
    public int images() {
        return generators.length;
    }

    /**
     * @param image an image index
     * @return that image's generator
     */
    public RandomSource image(int image) {
        return generators[image];
    }

    @Override
    public FloatTensor randn(int... shape) {
        return draw(true, shape);
    }

    /**
     * {@link #randn} of {@code into}'s shape, drawn into {@code into} with each generator drawing what it draws for
     * {@code randn}: a batch of one entry per image gets entry {@code k} from image {@code k}'s generator; any other
     * shape is drawn whole by every generator (the later images' draws only advance their streams) and holds the
     * first image's draw, which is drawn last.
     */
    @Override
    public FloatTensor randnInto(FloatTensor into) {
        int[] shape = into.shape();
        float[] out = into.array();
        if (generators.length > 1 && shape.length > 0 && shape[0] == generators.length) {
            int perImage = out.length / generators.length;
            for (int k = 0; k < generators.length; k++) {
                generators[k].fillNormal(out, k * perImage, perImage);
            }
            return into;
        }
        for (int k = generators.length - 1; k >= 0; k--) {
            generators[k].fillNormal(out, 0, out.length);
        }
        return into;
    }

    @Override
    public FloatTensor rand(int... shape) {
        return draw(false, shape);
    }

    private FloatTensor draw(boolean normal, int[] shape) {
        if (generators.length == 1) {
            return normal ? generators[0].randn(shape) : generators[0].rand(shape);
        }
        if (shape.length > 0 && shape[0] == generators.length) {
            int[] one = shape.clone();
            one[0] = 1;
            FloatTensor[] parts = new FloatTensor[generators.length];
            for (int k = 0; k < generators.length; k++) {
                parts[k] = normal ? generators[k].randn(one) : generators[k].rand(one);
            }
            return FloatTensor.concatBatch(parts);
        }
        FloatTensor first = null;
        for (TorchGenerator g : generators) {
            FloatTensor t = normal ? g.randn(shape) : g.rand(shape);
            first = first == null ? t : first;
        }
        return first;
    }

    /** @return the first image's seed */
    @Override
    public long seed() {
        return seed;
    }

    @Override
    public String toString() {
        return "ImageGenerators[seed " + seed + ", " + generators.length + " images]";
    }
}
