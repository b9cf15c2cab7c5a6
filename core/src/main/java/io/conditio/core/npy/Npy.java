package io.conditio.core.npy;

import io.conditio.api.FloatTensor;
import io.conditio.api.ModelLoadException;
import io.conditio.core.io.AtomicOutputs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes NumPy {@code .npy} files holding float arrays.
 *
 * <p>Reading accepts format versions 1.0, 2.0 and 3.0, C order, with dtype {@code '<f4'} or {@code '<f8'} (the latter
 * rounded to float32). Writing produces version 1.0, {@code '<f4'}, C order, with the header padded so the data
 * starts at a multiple of 64 bytes, as {@code numpy.save} does.
 *
 * <p>All methods are static and thread-safe.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;

    private Npy() {
    }

    /**
     * Reads a float array.
     *
     * @param file the {@code .npy} file
     * @return a tensor with the file's shape (rank 0 for a scalar array)
     * @throws ModelLoadException when the file cannot be read, is not a {@code .npy} file, is truncated, is in
     *                            Fortran order, or holds a dtype other than {@code '<f4'} / {@code '<f8'}; the
     *                            message names the file (and the dtype)
     */
    public static FloatTensor readFloat(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read .npy file " + file + ": " + e, e);
        }
        if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new ModelLoadException(file + " is not a .npy file (the magic string \\x93NUMPY is missing)");
        }
        int major = bytes[6] & 0xff;
        int minor = bytes[7] & 0xff;
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = buf.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) {
                throw new ModelLoadException(file + " is truncated inside the .npy header");
            }
            headerLen = buf.getInt(8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new ModelLoadException(file + " has .npy format version " + major + "." + minor
                    + "; versions 1.0, 2.0 and 3.0 are supported");
        }
        if (headerStart + headerLen > bytes.length) {
            throw new ModelLoadException(file + " is truncated inside the .npy header");
        }
        String header = new String(bytes, headerStart, (int) headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            dict = new HeaderParser(header).parseDict();
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file + " has an unreadable .npy header (" + e.getMessage() + "): "
                    + header.strip(), e);
        }
        Object descr = dict.get("descr");
        Object fortran = dict.get("fortran_order");
        Object shapeObj = dict.get("shape");
        if (!(descr instanceof String) || !(fortran instanceof Boolean) || !(shapeObj instanceof List)) {
            throw new ModelLoadException(file + " has a .npy header without descr, fortran_order and shape: "
                    + header.strip());
        }
        String dtype = (String) descr;
        int width;
        if (dtype.equals("<f4")) {
            width = 4;
        } else if (dtype.equals("<f8")) {
            width = 8;
        } else {
            throw new ModelLoadException(file + " holds dtype '" + dtype
                    + "'; only little-endian float32 ('<f4') and float64 ('<f8') are supported");
        }
        if ((Boolean) fortran) {
            throw new ModelLoadException(file + " (dtype '" + dtype
                    + "') is stored in Fortran order; only C order is supported");
        }
        List<?> dims = (List<?>) shapeObj;
        int[] shape = new int[dims.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            Object dim = dims.get(i);
            long d = dim instanceof Long ? (Long) dim : -1;
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new ModelLoadException(file + " has an invalid shape " + dims);
            }
            shape[i] = (int) d;
            count *= d;
            if (count > Integer.MAX_VALUE - 16) {
                throw new ModelLoadException(file + " has shape " + dims + ", too many elements for one tensor");
            }
        }
        long dataStart = headerStart + headerLen;
        long needed = count * width;
        if (bytes.length - dataStart < needed) {
            throw new ModelLoadException(file + " is truncated: shape " + dims + " of dtype '" + dtype + "' needs "
                    + needed + " data bytes but only " + (bytes.length - dataStart) + " are present");
        }
        float[] data = new float[(int) count];
        buf.position((int) dataStart);
        if (width == 4) {
            buf.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
        } else {
            var doubles = buf.slice().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) doubles.get(i);
            }
        }
        return FloatTensor.of(data, shape);
    }

    /**
     * Writes a tensor as a version 1.0, {@code '<f4'}, C-order {@code .npy} file, replacing any existing file; written
     * under a temporary name and moved in place, so the file is never seen half-written.
     *
     * @param file the destination
     * @param t    the tensor
     * @throws UncheckedIOException when the file cannot be written
     */
    public static void write(Path file, FloatTensor t) {
        Objects.requireNonNull(file, "file");
        try {
            AtomicOutputs.write(file, encode(t));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write .npy file " + file + ": " + AtomicOutputs.reason(e), e);
        }
    }

    /**
     * @param t the tensor
     * @return the bytes of a version 1.0, {@code '<f4'}, C-order {@code .npy} file holding it
     */
    public static byte[] encode(FloatTensor t) {
        Objects.requireNonNull(t, "t");
        byte[] header = header(t.shape());
        float[] data = t.array();
        ByteBuffer body = ByteBuffer.allocate(header.length + data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        body.put(header);
        body.asFloatBuffer().put(data);
        return body.array();
    }

    /** The magic, version, length and padded header dictionary of a version 1.0 file. */
    private static byte[] header(int[] shape) {
        StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                dict.append(", ");
            }
            dict.append(shape[i]);
        }
        if (shape.length == 1) {
            dict.append(',');
        }
        dict.append("), }");
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1; // + 1 for the final '\n'
        int pad = (ALIGN - unpadded % ALIGN) % ALIGN;
        dict.append(" ".repeat(pad)).append('\n');
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (text.length > 0xffff) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too long for a .npy header");
        }
        ByteBuffer b = ByteBuffer.allocate(10 + text.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length).put(text);
        return b.array();
    }

    /**
     * Parses the Python literal of a {@code .npy} header: a dict with string keys whose values are strings,
     * booleans, integers or tuples of those.
     */
    private static final class HeaderParser {
        private final String s;
        private int pos;

        HeaderParser(String s) {
            this.s = s;
        }

        Map<String, Object> parseDict() {
            skip();
            expect('{');
            Map<String, Object> map = new LinkedHashMap<>();
            skip();
            while (peek() != '}') {
                Object key = value();
                if (!(key instanceof String)) {
                    throw new IllegalArgumentException("dictionary key is not a string");
                }
                skip();
                expect(':');
                skip();
                map.put((String) key, value());
                skip();
                if (peek() == ',') {
                    pos++;
                    skip();
                } else if (peek() != '}') {
                    throw new IllegalArgumentException("expected ',' or '}' at offset " + pos);
                }
            }
            pos++;
            skip();
            if (pos != s.length()) {
                throw new IllegalArgumentException("unexpected text after the dictionary at offset " + pos);
            }
            return map;
        }

        private Object value() {
            char c = peek();
            if (c == '\'' || c == '"') {
                int end = s.indexOf(c, pos + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated string at offset " + pos);
                }
                String str = s.substring(pos + 1, end);
                pos = end + 1;
                return str;
            }
            if (c == '(' || c == '[') {
                char close = c == '(' ? ')' : ']';
                pos++;
                List<Object> items = new ArrayList<>();
                skip();
                while (peek() != close) {
                    items.add(value());
                    skip();
                    if (peek() == ',') {
                        pos++;
                        skip();
                    } else if (peek() != close) {
                        throw new IllegalArgumentException("expected ',' or '" + close + "' at offset " + pos);
                    }
                }
                pos++;
                return items;
            }
            if (s.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            int start = pos;
            if (c == '-') {
                pos++;
            }
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            // numpy may write Python 2 style longs such as 3L
            String digits = s.substring(start, pos);
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++;
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("unexpected text at offset " + start, e);
            }
        }

        private char peek() {
            if (pos >= s.length()) {
                throw new IllegalArgumentException("unexpected end of header");
            }
            return s.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at offset " + pos);
            }
            pos++;
        }

        private void skip() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }
    }
}
