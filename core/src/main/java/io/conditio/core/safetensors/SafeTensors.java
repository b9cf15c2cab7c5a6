package io.conditio.core.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.TensorFiles;
import io.conditio.core.onnx.Half;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads {@code .safetensors} files into float32 tensors, refusing pickled checkpoints: the host's
 * {@link TensorFiles#readSafetensors} (which describes the format), that plugins reach through their contexts
 * ({@code WeightPatchContext.tensorFiles()}, {@code ConditioningContext.tensorFiles()}).
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private SafeTensors() {
    }

    /**
     * @param file a {@code .safetensors} file
     * @return its tensors by name, in header order (metadata left out)
     * @throws InvalidRequestException naming the file when it is pickled, missing or malformed
     */
    public static Map<String, FloatTensor> read(Path file) {
        String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (lower.endsWith(".pt") || lower.endsWith(".ckpt") || lower.endsWith(".pth") || lower.endsWith(".bin")) {
            throw new InvalidRequestException(file + " is a pickled PyTorch file; only .safetensors files are read"
                    + " (unpickling can run code from the file; convert it to .safetensors first)");
        }
        if (!Files.isRegularFile(file)) {
            throw new InvalidRequestException("weight file not found: " + file.toAbsolutePath());
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, head, 0);
            byte first = head.get(0);
            // a header length may start with these bytes too; the JSON header that follows tells them apart
            ByteBuffer brace = ByteBuffer.allocate(1);
            boolean json = size > 8 && ch.read(brace, 8) == 1 && brace.get(0) == '{';
            if (!json && (first == (byte) 0x80 || first == 'P')) {
                throw new InvalidRequestException(file + " looks like a pickle or zip archive, not safetensors;"
                        + " only .safetensors files are read");
            }
            long n = head.getLong(0);
            if (n <= 0 || n > MAX_HEADER || 8 + n > size) {
                throw new InvalidRequestException(file + " is not a safetensors file (header length " + n + " of a "
                        + size + "-byte file)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            JsonNode header = JSON.readTree(hb.array());
            if (header == null || !header.isObject()) {
                throw new InvalidRequestException(file + ": safetensors header is not a JSON object");
            }
            long base = 8 + n;
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = header.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                out.put(e.getKey(), tensor(file, ch, base, size, e.getKey(), e.getValue()));
            }
            return out;
        } catch (IOException e) {
            throw new InvalidRequestException("could not read " + file + ": " + e.getMessage());
        }
    }

    private static FloatTensor tensor(Path file, FileChannel ch, long base, long size, String name, JsonNode t)
            throws IOException {
        String dtype = t.path("dtype").asText("");
        JsonNode shapeNode = t.path("shape");
        JsonNode offsets = t.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new InvalidRequestException(file + ": tensor " + name + " lacks shape or data_offsets");
        }
        int[] shape = new int[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asInt(-1);
            if (shape[i] < 0) {
                throw new InvalidRequestException(file + ": tensor " + name + " has a bad shape " + shapeNode);
            }
            count *= shape[i];
        }
        int width = switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new InvalidRequestException(file + ": tensor " + name + " is " + dtype
                    + "; expected F32, F16 or BF16");
        };
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end - begin != count * width || base + end > size) {
            throw new InvalidRequestException(file + ": tensor " + name + " has data_offsets " + offsets
                    + " that do not fit its " + dtype + " shape " + shapeNode + " or the file");
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buf, base + begin);
        buf.flip();
        float[] data = new float[(int) count];
        for (int i = 0; i < data.length; i++) {
            data[i] = switch (dtype) {
                case "F32" -> buf.getFloat();
                case "F16" -> Half.toFloat(buf.getShort());
                default -> Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
            };
        }
        return FloatTensor.of(data, shape);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new IOException("file ends early");
            }
            pos += r;
        }
    }
}
