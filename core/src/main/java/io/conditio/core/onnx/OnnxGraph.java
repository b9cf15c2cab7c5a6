package io.conditio.core.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.ModelGraph;
import io.conditio.api.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The top-level graph of an {@code .onnx} file, read with protobuf's {@link CodedInputStream}: only the fields
 * matching weights against node names needs (ModelProto.graph; GraphProto.node and .initializer; NodeProto's
 * inputs, outputs, name, op type and integer attributes; TensorProto's dims, type, name, float/raw data and external
 * data location). Subgraphs of control-flow nodes are not read.
 */
public final class OnnxGraph implements ModelGraph {
    private static final int FLOAT = 1;

    private final Path file;
    private final List<Node> nodes;
    private final Map<String, Initializer> initializers;
    private final Map<String, Stored> stored;

    private record Stored(ByteString raw, long rawOffset, float[] floats, String location, long offset, long length) {
    }

    private OnnxGraph(Path file, List<Node> nodes, Map<String, Initializer> initializers, Map<String, Stored> stored) {
        this.file = file;
        this.nodes = Collections.unmodifiableList(nodes);
        this.initializers = Collections.unmodifiableMap(initializers);
        this.stored = stored;
    }

    /**
     * Reads a model file's graph.
     *
     * @param file an {@code .onnx} file
     * @return its graph
     * @throws ModelLoadException naming the file when it cannot be read or is not an ONNX model
     */
    public static OnnxGraph read(Path file) {
        List<Node> nodes = new ArrayList<>();
        Map<String, Initializer> inits = new LinkedHashMap<>();
        Map<String, Stored> stored = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream model = CodedInputStream.newInstance(in);
            model.setSizeLimit(Integer.MAX_VALUE);
            boolean sawGraph = false;
            while (true) {
                int tag = model.readTag();
                if (tag == 0) {
                    break;
                }
                if (WireFormat.getTagFieldNumber(tag) == 7 && WireFormat.getTagWireType(tag) == 2) {
                    sawGraph = true;
                    int limit = model.pushLimit(model.readRawVarint32());
                    readGraph(model, nodes, inits, stored);
                    model.popLimit(limit);
                } else {
                    model.skipField(tag);
                }
            }
            if (!sawGraph) {
                throw new ModelLoadException(file.toAbsolutePath() + " holds no ONNX graph (ModelProto.graph missing)");
            }
        } catch (IOException e) {
            throw new ModelLoadException("could not read the ONNX graph of " + file.toAbsolutePath() + ": "
                    + e.getMessage(), e);
        }
        return new OnnxGraph(file, nodes, inits, stored);
    }

    private static void readGraph(CodedInputStream in, List<Node> nodes, Map<String, Initializer> inits,
                                  Map<String, Stored> stored) throws IOException {
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                return;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == 1 && WireFormat.getTagWireType(tag) == 2) {
                int limit = in.pushLimit(in.readRawVarint32());
                nodes.add(readNode(in));
                in.popLimit(limit);
            } else if (field == 5 && WireFormat.getTagWireType(tag) == 2) {
                int limit = in.pushLimit(in.readRawVarint32());
                readTensor(in, inits, stored);
                in.popLimit(limit);
            } else {
                in.skipField(tag);
            }
        }
    }

    private static Node readNode(CodedInputStream in) throws IOException {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        String name = "";
        String op = "";
        Map<String, Long> attrs = new LinkedHashMap<>();
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                break;
            }
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> inputs.add(in.readStringRequireUtf8());
                case 2 -> outputs.add(in.readStringRequireUtf8());
                case 3 -> name = in.readStringRequireUtf8();
                case 4 -> op = in.readStringRequireUtf8();
                case 5 -> {
                    int limit = in.pushLimit(in.readRawVarint32());
                    readIntAttribute(in, attrs);
                    in.popLimit(limit);
                }
                default -> in.skipField(tag);
            }
        }
        return new Node(name, op, inputs, outputs, attrs);
    }

    private static void readIntAttribute(CodedInputStream in, Map<String, Long> attrs) throws IOException {
        String name = null;
        Long value = null;
        int type = 0;
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                break;
            }
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> name = in.readStringRequireUtf8();
                case 3 -> value = in.readInt64();
                case 20 -> type = in.readInt32();
                default -> in.skipField(tag);
            }
        }
        if (name != null && value != null && (type == 0 || type == 2)) {
            attrs.put(name, value);
        }
    }

    private static void readTensor(CodedInputStream in, Map<String, Initializer> inits, Map<String, Stored> stored)
            throws IOException {
        List<Long> dims = new ArrayList<>();
        int type = 0;
        String name = "";
        ByteString raw = null;
        long rawOffset = -1;
        List<Float> floats = new ArrayList<>();
        Map<String, String> external = new LinkedHashMap<>();
        boolean isExternal = false;
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                break;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            int wire = WireFormat.getTagWireType(tag);
            switch (field) {
                case 1 -> {
                    if (wire == 2) {
                        int limit = in.pushLimit(in.readRawVarint32());
                        while (in.getBytesUntilLimit() > 0) {
                            dims.add(in.readInt64());
                        }
                        in.popLimit(limit);
                    } else {
                        dims.add(in.readInt64());
                    }
                }
                case 2 -> type = in.readInt32();
                case 4 -> {
                    if (wire == 2) {
                        int limit = in.pushLimit(in.readRawVarint32());
                        while (in.getBytesUntilLimit() > 0) {
                            floats.add(in.readFloat());
                        }
                        in.popLimit(limit);
                    } else {
                        floats.add(in.readFloat());
                    }
                }
                case 8 -> name = in.readStringRequireUtf8();
                case 9 -> {
                    int len = in.readRawVarint32();
                    rawOffset = in.getTotalBytesRead();
                    raw = ByteString.copyFrom(in.readRawBytes(len));
                }
                case 13 -> {
                    int limit = in.pushLimit(in.readRawVarint32());
                    String key = null;
                    String value = null;
                    while (true) {
                        int t = in.readTag();
                        if (t == 0) {
                            break;
                        }
                        if (WireFormat.getTagFieldNumber(t) == 1) {
                            key = in.readStringRequireUtf8();
                        } else if (WireFormat.getTagFieldNumber(t) == 2) {
                            value = in.readStringRequireUtf8();
                        } else {
                            in.skipField(t);
                        }
                    }
                    in.popLimit(limit);
                    if (key != null && value != null) {
                        external.put(key, value);
                    }
                }
                case 14 -> isExternal = in.readInt32() == 1;
                default -> in.skipField(tag);
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        inits.put(name, new Initializer(name, elementType(type), shape, isExternal));
        if (type == FLOAT) {
            float[] f = null;
            if (!floats.isEmpty()) {
                f = new float[floats.size()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = floats.get(i);
                }
            }
            long offset = Long.parseLong(external.getOrDefault("offset", "0"));
            long length = Long.parseLong(external.getOrDefault("length", "-1"));
            stored.put(name, new Stored(raw, rawOffset, f, isExternal ? external.get("location") : null, offset, length));
        }
    }

    private static ElementType elementType(int onnxType) {
        return switch (onnxType) {
            case 1 -> ElementType.FLOAT32;
            case 10 -> ElementType.FLOAT16;
            case 7 -> ElementType.INT64;
            case 6 -> ElementType.INT32;
            default -> ElementType.OTHER;
        };
    }

    @Override
    public List<Node> nodes() {
        return nodes;
    }

    @Override
    public Map<String, Initializer> initializers() {
        return initializers;
    }

    @Override
    public Optional<FloatTensor> floatValue(String name) {
        Stored s = stored.get(name);
        if (s == null) {
            return Optional.empty();
        }
        long[] shape = initializers.get(name).shape();
        int[] ishape = new int[shape.length];
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            ishape[i] = Math.toIntExact(shape[i]);
            n *= shape[i];
        }
        float[] out = new float[Math.toIntExact(n)];
        if (s.floats() != null) {
            System.arraycopy(s.floats(), 0, out, 0, out.length);
        } else if (s.raw() != null) {
            s.raw().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        } else if (s.location() != null) {
            Path data = file.toAbsolutePath().getParent().resolve(s.location());
            try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.allocate(out.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                long pos = s.offset();
                while (buf.hasRemaining()) {
                    int r = ch.read(buf, pos);
                    if (r < 0) {
                        throw new ModelLoadException(data + " ends before initializer " + name + " does");
                    }
                    pos += r;
                }
                buf.flip();
                buf.asFloatBuffer().get(out);
            } catch (IOException e) {
                throw new ModelLoadException("could not read initializer " + name + " from " + data + ": "
                        + e.getMessage(), e);
            }
        }
        return Optional.of(FloatTensor.of(out, ishape));
    }

    /**
     * @param name an initializer name
     * @return the file offset of its {@code raw_data} bytes, or -1 when it has none in the file (float_data,
     *         external data, not float32)
     */
    public long rawDataOffset(String name) {
        Stored s = stored.get(name);
        return s == null || s.raw() == null ? -1 : s.rawOffset();
    }

    @Override
    public String toString() {
        return "OnnxGraph[" + file + ", " + nodes.size() + " nodes, " + initializers.size() + " initializers]";
    }
}
