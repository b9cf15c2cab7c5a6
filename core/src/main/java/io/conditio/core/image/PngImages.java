package io.conditio.core.image;

import io.conditio.api.InvalidRequestException;
import io.conditio.api.RgbImage;
import io.conditio.core.MemoryLimit;
import io.conditio.core.recipe.InfoText;
import io.conditio.core.io.AtomicOutputs;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * PNG reading and writing. Written files are 8-bit RGB with one {@code iTXt} chunk (UTF-8) per provenance entry, so
 * the settings that made an image travel with it.
 */
public final class PngImages {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    /** Heap bytes per pixel while decoding: ImageIO's raster (up to 8) and the float RGB copy (12). */
    static final int DECODE_BYTES_PER_PIXEL = 20;
    /** Text values longer than this are cut in the file (a prompt of a megabyte must not make a megabyte PNG). */
    static final int MAX_TEXT_CHARS = 16_384;
    /** Entries that must stay whole to be of use (a recipe with its images inlined), and their own limit. */
    static final java.util.Set<String> WHOLE_ENTRIES = java.util.Set.of("conditio.recipe");
    static final int MAX_WHOLE_CHARS = 64 << 20;
    /** Entries written as tEXt (Latin-1) when they can be, for readers that look only there (A1111's tools). */
    static final java.util.Set<String> LATIN1_ENTRIES = java.util.Set.of("parameters");

    private PngImages() {
    }

    /**
     * Writes an image with text entries.
     *
     * @param file  the PNG file to write (parent folders are created); written under a temporary name and moved in
     *              place, so the file is never seen half-written
     * @param image the image
     * @param text  entries written as iTXt chunks; keys must be 1–79 Latin-1 characters
     */
    public static void write(Path file, RgbImage image, Map<String, String> text) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            AtomicOutputs.write(file, encode(image, text));
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file.toAbsolutePath() + ": " + AtomicOutputs.reason(e),
                    e);
        }
    }

    /**
     * @param image the image
     * @param text  entries written as iTXt chunks. When they are a generation's provenance (they hold
     *              {@code prompt}, {@code seed} and {@code steps}) and no {@code parameters} entry, A1111's
     *              {@code parameters} text ({@link InfoText}) is written first, as a tEXt chunk, so that every
     *              Stable Diffusion tool reads the settings.
     * @return the PNG bytes
     */
    public static byte[] encode(RgbImage image, Map<String, String> text) throws IOException {
        if (!text.containsKey(InfoText.PNG_KEY) && text.containsKey("prompt") && text.containsKey("seed")
                && text.containsKey("steps")) {
            Map<String, String> withInfo = new java.util.LinkedHashMap<>();
            withInfo.put(InfoText.PNG_KEY, InfoText.format(text));
            withInfo.putAll(text);
            text = withInfo;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(SIGNATURE);
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream h = new DataOutputStream(ihdr);
        h.writeInt(image.width());
        h.writeInt(image.height());
        h.writeByte(8); // bit depth
        h.writeByte(2); // colour type RGB
        h.writeByte(0);
        h.writeByte(0);
        h.writeByte(0);
        chunk(bytes, "IHDR", ihdr.toByteArray());
        for (Map.Entry<String, String> e : text.entrySet()) {
            String v = WHOLE_ENTRIES.contains(e.getKey()) ? e.getValue() : textValue(e.getValue());
            if (WHOLE_ENTRIES.contains(e.getKey()) && v.length() > MAX_WHOLE_CHARS) {
                throw new IOException("PNG text '" + e.getKey() + "' has " + v.length() + " characters; at most "
                        + MAX_WHOLE_CHARS);
            }
            if (LATIN1_ENTRIES.contains(e.getKey()) && latin1Text(v)) {
                chunk(bytes, "tEXt", text(e.getKey(), v));
            } else {
                chunk(bytes, "iTXt", itxt(e.getKey(), v));
            }
        }
        byte[] rgb = image.toRgbBytes();
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        try (DeflaterOutputStream z = new DeflaterOutputStream(raw, deflater)) {
            int row = image.width() * 3;
            for (int y = 0; y < image.height(); y++) {
                z.write(0); // filter: none
                z.write(rgb, y * row, row);
            }
        } finally {
            deflater.end();
        }
        chunk(bytes, "IDAT", raw.toByteArray());
        chunk(bytes, "IEND", new byte[0]);
        return bytes.toByteArray();
    }

    private static byte[] itxt(String key, String value) {
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        if (k.length < 1 || k.length > 79 || !new String(k, StandardCharsets.ISO_8859_1).equals(key)) {
            throw new IllegalArgumentException("PNG text key must be 1-79 Latin-1 characters: '" + key + "'");
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(k);
        b.write(0); // end of keyword
        b.write(0); // not compressed
        b.write(0); // compression method
        b.write(0); // empty language tag
        b.write(0); // empty translated keyword
        b.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        return b.toByteArray();
    }

    private static boolean latin1Text(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c > 0xff || (c < 0x20 && c != '\n')) {
                return false;
            }
        }
        return true;
    }

    private static byte[] text(String key, String value) {
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(k);
        b.write(0);
        b.writeBytes(value.getBytes(StandardCharsets.ISO_8859_1));
        return b.toByteArray();
    }

    /**
     * A text value as it is stored: control characters other than tab and line breaks, and unpaired surrogates, as
     * {@code \\uXXXX} escapes (a PNG reader must get valid UTF-8 without NULs); longer values than
     * {@value #MAX_TEXT_CHARS} characters cut, saying how long the value was.
     */
    static String textValue(String value) {
        String v = value;
        String suffix = "";
        if (v.length() > MAX_TEXT_CHARS) {
            suffix = "… [cut: " + value.length() + " characters in all]";
            v = v.substring(0, Character.isHighSurrogate(v.charAt(MAX_TEXT_CHARS - 1)) ? MAX_TEXT_CHARS - 1
                    : MAX_TEXT_CHARS);
        }
        StringBuilder out = null;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < v.length()
                    && Character.isLowSurrogate(v.charAt(i + 1));
            boolean escape = !pair && ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f
                    || Character.isSurrogate(c));
            if (escape && out == null) {
                out = new StringBuilder(v.length() + 16).append(v, 0, i);
            }
            if (out != null) {
                if (escape) {
                    out.append(String.format("\\u%04X", (int) c));
                } else {
                    out.append(c);
                    if (pair) {
                        out.append(v.charAt(i + 1));
                    }
                }
            }
            if (pair) {
                i++;
            }
        }
        return (out == null ? v : out.toString()) + suffix;
    }

    private static void chunk(OutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        d.writeInt(data.length);
        d.write(t);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }

    /** The most text the compressed text chunks of one file may inflate to. */
    static final long MAX_INFLATED_TEXT = 16L << 20;

    /**
     * Reads the text entries (tEXt, zTXt and iTXt) of a PNG file.
     *
     * @param file a PNG file
     * @return the entries in file order
     * @throws InvalidRequestException naming the file when it is not a PNG file, is truncated, or has a corrupt
     *     compressed text chunk or compressed text of more than 16 MiB
     */
    public static Map<String, String> readText(Path file) {
        Map<String, String> out = new LinkedHashMap<>();
        String where = file.toAbsolutePath().toString();
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            byte[] sig = in.readNBytes(8);
            if (!Arrays.equals(sig, SIGNATURE)) {
                throw new InvalidRequestException(where + " is not a PNG file");
            }
            long inflated = 0;
            while (true) {
                byte[] header = in.readNBytes(8);
                if (header.length == 0) {
                    break;
                }
                int len = header.length == 8 ? java.nio.ByteBuffer.wrap(header).getInt() : -1;
                if (len < 0) {
                    throw new InvalidRequestException(where + ": truncated or corrupt chunk header (a PNG chunk "
                            + "starts with a length of 0 to 2^31-1 and a 4-letter type)");
                }
                String type = new String(header, 4, 4, StandardCharsets.US_ASCII);
                byte[] data = in.readNBytes(len);
                if (data.length < len || in.readNBytes(4).length < 4) {
                    throw new InvalidRequestException(where + ": the " + type + " chunk is truncated (" + len
                            + " bytes announced, " + data.length + " present)");
                }
                switch (type) {
                    case "tEXt" -> {
                        int z = indexOf(data, 0);
                        out.put(latin1(data, 0, z), latin1(data, z + 1, data.length));
                    }
                    case "zTXt" -> {
                        int z = indexOf(data, 0);
                        byte[] body = inflate(data, z + 2, where, MAX_INFLATED_TEXT - inflated);
                        inflated += body.length;
                        out.put(latin1(data, 0, z), new String(body, StandardCharsets.ISO_8859_1));
                    }
                    case "iTXt" -> {
                        int z = indexOf(data, 0);
                        boolean compressed = z + 1 < data.length && data[z + 1] != 0;
                        int lang = indexOf(data, z + 3);
                        int trans = indexOf(data, lang + 1);
                        byte[] body = compressed ? inflate(data, trans + 1, where, MAX_INFLATED_TEXT - inflated)
                                : Arrays.copyOfRange(data, Math.min(trans + 1, data.length), data.length);
                        inflated += compressed ? body.length : 0;
                        out.put(latin1(data, 0, z), new String(body, StandardCharsets.UTF_8));
                    }
                    case "IEND" -> {
                        return out;
                    }
                    default -> {
                        // image data and other chunks are not text
                    }
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + where + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads an image file (PNG, JPEG, BMP, GIF) as RGB in [0, 1] (value / 255), with the JDK's ImageIO. The size in
     * the file's header is checked against the {@link MemoryLimit} before any pixel is decoded.
     *
     * @param file the image file
     * @return the image
     * @throws InvalidRequestException naming the file when it is missing, not an image, corrupt or truncated, or
     *     announces a size whose pixels would exceed the memory limit
     */
    public static RgbImage read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidRequestException("image file not found: " + file.toAbsolutePath());
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            return read(in, file.toAbsolutePath().toString());
        } catch (IOException e) {
            throw new InvalidRequestException("could not read image " + file.toAbsolutePath() + ": "
                    + e.getMessage());
        }
    }

    /**
     * Reads an encoded image (PNG, JPEG, BMP, GIF) held in memory, e.g. from a {@code data:} URI; as {@link #read}.
     *
     * @param bytes the encoded image
     * @param what  what the bytes are, for messages (e.g. {@code parameter 'init_image' (data: URI)})
     * @return the image
     * @throws InvalidRequestException naming {@code what} when the bytes are not an image or too large
     */
    public static RgbImage decode(byte[] bytes, String what) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(bytes))) {
            return read(in, what);
        } catch (IOException e) {
            throw new InvalidRequestException("could not read image " + what + ": " + e.getMessage());
        }
    }

    private static RgbImage read(ImageInputStream in, String name) {
        BufferedImage img;
        try {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new InvalidRequestException(name + " is not an image ImageIO can read "
                        + "(expected PNG, JPEG, BMP or GIF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                // the header's size, checked before any pixel is decoded: a small file can announce a huge image
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w <= 0 || h <= 0) {
                    throw new InvalidRequestException("image " + name + " announces a size of " + w
                            + "x" + h + "; expected a positive width and height");
                }
                MemoryLimit.check("image " + name + " (" + w + "x" + h + " in its header)",
                        (double) w * h * DECODE_BYTES_PER_PIXEL);
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidRequestException r) {
                throw r;
            }
            throw new InvalidRequestException("could not read image " + name + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + " (the file is corrupt or truncated)");
        }
        if (img == null) {
            throw new InvalidRequestException(name + " is not an image ImageIO can read "
                    + "(expected PNG, JPEG, BMP or GIF)");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        float[] px = new float[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                int i = (y * w + x) * 3;
                px[i] = ((rgb >> 16) & 0xff) / 255f;
                px[i + 1] = ((rgb >> 8) & 0xff) / 255f;
                px[i + 2] = (rgb & 0xff) / 255f;
            }
        }
        return new RgbImage(w, h, px);
    }

    /**
     * Inflates a compressed text chunk's body, refusing one that is corrupt or inflates past {@code limit} bytes (a
     * small chunk can announce gigabytes of text).
     */
    private static byte[] inflate(byte[] data, int from, String where, long limit) {
        int start = Math.min(from, data.length);
        Inflater inflater = new Inflater();
        try (InputStream in = new InflaterInputStream(
                new java.io.ByteArrayInputStream(data, start, data.length - start), inflater)) {
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, Math.max(0, limit) + 1));
            if (body.length > limit) {
                throw new InvalidRequestException(where + ": its compressed text chunks inflate to more than "
                        + MAX_INFLATED_TEXT + " bytes");
            }
            return body;
        } catch (IOException e) {
            throw new InvalidRequestException(where + ": corrupt compressed text chunk (" + e.getMessage() + ")");
        } finally {
            inflater.end();
        }
    }

    private static int indexOf(byte[] data, int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] == 0) {
                return i;
            }
        }
        return data.length;
    }

    private static String latin1(byte[] data, int from, int to) {
        int start = Math.min(from, data.length); // a keyword without its NUL separator: no text after it
        return new String(data, start, Math.max(0, Math.min(to, data.length) - start), StandardCharsets.ISO_8859_1);
    }
}
