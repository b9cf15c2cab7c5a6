package io.conditio.core.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.conditio.api.ElementType;
import io.conditio.api.FloatTensor;
import io.conditio.api.ModelGraph;
import io.conditio.api.ModelLoadException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
    private final Layout layout;

    private record Stored(ByteString raw, long rawOffset, float[] floats, String location, long offset, long length) {
    }

    /** Where an initializer's TensorProto lies in the file: its field tag, its content start and end. */
    private record Span(long fieldStart, long contentStart, long contentEnd) {
    }

    /** Byte positions needed to rewrite initializers of another size: ModelProto.graph and each TensorProto. */
    private static final class Layout {
        long graphLengthAt = -1;
        long graphStart = -1;
        long graphEnd = -1;
        final Map<String, Span> tensors = new LinkedHashMap<>();
        final Set<String> declaredValues = new HashSet<>();
    }

    private OnnxGraph(Path file, List<Node> nodes, Map<String, Initializer> initializers, Map<String, Stored> stored,
                      Layout layout) {
        this.file = file;
        this.nodes = Collections.unmodifiableList(nodes);
        this.initializers = Collections.unmodifiableMap(initializers);
        this.stored = stored;
        this.layout = layout;
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
        Layout layout = new Layout();
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream model = CodedInputStream.newInstance(in);
            model.setSizeLimit(Integer.MAX_VALUE);
            boolean sawGraph = false;
            while (true) {
                int tag = model.readTag();
                if (tag == 0) {
                    break;
                }
                if (WireFormat.getTagFieldNumber(tag) == 7 && WireFormat.getTagWireType(tag) == 2 && !sawGraph) {
                    sawGraph = true;
                    layout.graphLengthAt = model.getTotalBytesRead();
                    int length = model.readRawVarint32();
                    layout.graphStart = model.getTotalBytesRead();
                    layout.graphEnd = layout.graphStart + length;
                    int limit = model.pushLimit(length);
                    readGraph(model, nodes, inits, stored, layout);
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
        return new OnnxGraph(file, nodes, inits, stored, layout);
    }

    private static void readGraph(CodedInputStream in, List<Node> nodes, Map<String, Initializer> inits,
                                  Map<String, Stored> stored, Layout layout) throws IOException {
        while (true) {
            long fieldStart = in.getTotalBytesRead();
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
                int length = in.readRawVarint32();
                long contentStart = in.getTotalBytesRead();
                int limit = in.pushLimit(length);
                String name = readTensor(in, inits, stored);
                in.popLimit(limit);
                layout.tensors.put(name, new Span(fieldStart, contentStart, contentStart + length));
            } else if ((field == 11 || field == 12 || field == 13) && WireFormat.getTagWireType(tag) == 2) {
                // graph inputs, outputs and value_info: only their names (a declared shape pins a value's size)
                int limit = in.pushLimit(in.readRawVarint32());
                while (true) {
                    int t = in.readTag();
                    if (t == 0) {
                        break;
                    }
                    if (WireFormat.getTagFieldNumber(t) == 1) {
                        layout.declaredValues.add(in.readStringRequireUtf8());
                    } else {
                        in.skipField(t);
                    }
                }
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

    private static String readTensor(CodedInputStream in, Map<String, Initializer> inits, Map<String, Stored> stored)
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
        return name;
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

    /**
     * Says why an initializer cannot be grown to a new shape, or nothing when it can: it must be float32 raw data in
     * the file, keep its rank and every dimension but the first, not shrink, be read only as the table (input 0) of
     * {@code Gather} nodes on axis 0, and not be a declared graph input, output or value_info, so a larger first
     * dimension changes no other shape in the graph. This is a token-embedding table gaining rows.
     *
     * @param name  an initializer name
     * @param shape the new shape
     * @return the problem in words, or empty when the initializer may take that shape
     */
    public Optional<String> growthProblem(String name, long[] shape) {
        Initializer init = initializers.get(name);
        if (init == null) {
            return Optional.of("initializer " + name + " does not exist");
        }
        long[] old = init.shape();
        if (init.type() != ElementType.FLOAT32 || rawDataOffset(name) < 0 || init.external()) {
            return Optional.of("initializer " + name + " is not float32 raw data stored in the file; only such a"
                    + " table can grow");
        }
        if (shape.length != old.length || shape.length == 0 || shape[0] < old[0]
                || !Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length),
                        Arrays.copyOfRange(old, 1, old.length))) {
            return Optional.of("initializer " + name + " is " + Arrays.toString(old) + "; a grown table"
                    + " keeps every dimension but the first, which may only get larger, but the patch is "
                    + Arrays.toString(shape));
        }
        if (layout.declaredValues.contains(name)) {
            return Optional.of("initializer " + name + " is also declared as a graph input, output or value_info"
                    + " with its shape, so it cannot grow");
        }
        int readers = 0;
        for (Node n : nodes) {
            for (int i = 0; i < n.inputs().size(); i++) {
                if (!n.inputs().get(i).equals(name)) {
                    continue;
                }
                long axis = n.attributes().getOrDefault("axis", 0L);
                if (!n.opType().equals("Gather") || i != 0 || axis != 0) {
                    return Optional.of("initializer " + name + " is read by " + n.opType() + " node '" + n.name()
                            + "' (input " + i + (n.opType().equals("Gather") ? ", axis " + axis : "") + "); only a"
                            + " table read by Gather on axis 0 can grow");
                }
                readers++;
            }
        }
        if (readers == 0) {
            return Optional.of("initializer " + name + " is read by no node");
        }
        return Optional.empty();
    }

    /**
     * Rewrites model bytes so some initializers hold new values of a larger first dimension (see
     * {@link #growthProblem}): each one's TensorProto is written anew with the new dims and raw data (its other
     * fields copied), and the length of ModelProto.graph is adjusted; every other byte is kept.
     *
     * @param bytes the bytes of this graph's file (other initializers may already be patched in place)
     * @param grown new values by initializer name
     * @return the rewritten model
     */
    public byte[] withGrownInitializers(byte[] bytes, Map<String, FloatTensor> grown) {
        if (grown.isEmpty()) {
            return bytes;
        }
        List<Map.Entry<Span, byte[]>> fields = new ArrayList<>();
        for (Map.Entry<String, FloatTensor> e : grown.entrySet()) {
            Span span = layout.tensors.get(e.getKey());
            if (span == null) {
                throw new ModelLoadException("initializer " + e.getKey() + " is not in " + file.toAbsolutePath());
            }
            fields.add(Map.entry(span, tensorField(bytes, span, e.getValue())));
        }
        fields.sort(Comparator.comparingLong(f -> f.getKey().fieldStart()));
        long graphLength = layout.graphEnd - layout.graphStart;
        for (Map.Entry<Span, byte[]> f : fields) {
            graphLength += f.getValue().length - (f.getKey().contentEnd() - f.getKey().fieldStart());
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(
                    Math.toIntExact(bytes.length + graphLength - (layout.graphEnd - layout.graphStart)));
            out.write(bytes, 0, (int) layout.graphLengthAt);
            CodedOutputStream varint = CodedOutputStream.newInstance(out);
            varint.writeUInt32NoTag(Math.toIntExact(graphLength));
            varint.flush();
            long at = layout.graphStart;
            for (Map.Entry<Span, byte[]> f : fields) {
                out.write(bytes, (int) at, (int) (f.getKey().fieldStart() - at));
                out.write(f.getValue());
                at = f.getKey().contentEnd();
            }
            out.write(bytes, (int) at, (int) (bytes.length - at));
            return out.toByteArray();
        } catch (IOException | ArithmeticException e) {
            throw new ModelLoadException("could not rewrite " + file.toAbsolutePath() + " with grown initializers "
                    + grown.keySet() + ": " + e.getMessage(), e);
        }
    }

    /** GraphProto.initializer field (tag, length, TensorProto) with new dims and raw data, other fields copied. */
    private static byte[] tensorField(byte[] bytes, Span span, FloatTensor value) {
        try {
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            CodedInputStream in = CodedInputStream.newInstance(bytes, (int) span.contentStart(),
                    (int) (span.contentEnd() - span.contentStart()));
            while (true) {
                int start = in.getTotalBytesRead();
                int tag = in.readTag();
                if (tag == 0) {
                    break;
                }
                int field = WireFormat.getTagFieldNumber(tag);
                in.skipField(tag);
                if (field != 1 && field != 9) {
                    content.write(bytes, (int) span.contentStart() + start, in.getTotalBytesRead() - start);
                }
            }
            CodedOutputStream t = CodedOutputStream.newInstance(content);
            for (int d : value.shape()) {
                t.writeInt64(1, d);
            }
            ByteBuffer raw = ByteBuffer.allocate(value.array().length * 4).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(value.array());
            t.writeByteArray(9, raw.array());
            t.flush();
            ByteArrayOutputStream field = new ByteArrayOutputStream(content.size() + 16);
            CodedOutputStream f = CodedOutputStream.newInstance(field);
            f.writeTag(5, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            f.writeUInt32NoTag(content.size());
            f.flush();
            content.writeTo(field);
            return field.toByteArray();
        } catch (IOException e) {
            throw new ModelLoadException("could not rewrite an initializer: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "OnnxGraph[" + file + ", " + nodes.size() + " nodes, " + initializers.size() + " initializers]";
    }
}
