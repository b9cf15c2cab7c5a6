package io.conditio.api;

import java.nio.file.Path;
import java.util.Map;

/**
 * The host's reader of weight files, for plugins that take tensors from files the user names (LoRA files,
 * textual-inversion embeddings). Plugins reach it through {@link WeightPatchContext#tensorFiles()} and
 * {@link ConditioningContext#tensorFiles()}, so one reader serves them all and they bundle no JSON library.
 * Since SPI 0.3.0.
 */
@FunctionalInterface
public interface TensorFiles {

    /**
     * Reads a {@code .safetensors} file: an 8-byte little-endian header length, a JSON header
     * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}), then
     * the tensor bytes. F32, F16 and BF16 tensors are read as float32; other dtypes are refused. Pickled PyTorch
     * files ({@code .pt}, {@code .ckpt}, {@code .pth}, {@code .bin}, or a file that starts like a pickle or a zip
     * archive) are refused without being read: unpickling runs code from the file. Nothing is cached; the caller
     * keeps what it reads.
     *
     * @param file a {@code .safetensors} file
     * @return its tensors by name, in header order (metadata left out)
     * @throws InvalidRequestException naming the file when it is pickled, missing or malformed
     */
    Map<String, FloatTensor> readSafetensors(Path file);

    /**
     * @return a reader that refuses every file, for contexts of hosts that read none (the defaults of the context
     *     methods)
     */
    static TensorFiles none() {
        return file -> {
            throw new InvalidRequestException("this host reads no tensor files; asked for " + file);
        };
    }
}
