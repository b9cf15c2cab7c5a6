package io.conditio.plugins.text;

import io.conditio.api.FloatTensor;
import io.conditio.api.GenerationRequest;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.TensorFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Textual-inversion embeddings: which ones a request uses and what their files hold.
 *
 * <p>A request names embedding files in the parameter {@value #PARAMETER} (a string {@code FILE[:TOKEN]}, several
 * separated by {@code ;}, or a list of such strings; the CLI's {@code --embedding}). Files in the model folder's
 * {@code embeddings/} are used when the prompt or the negative prompt contains their name (the file name without
 * {@code .safetensors}) as a word, as A1111 does. Files:
 * <ul>
 *   <li>A1111 {@code .safetensors}: {@code emb_params} {@code [n, dim]} (or {@code [dim]}) for {@code text_encoder};
 *   SDXL ones {@code clip_l} for {@code text_encoder} and {@code clip_g} for {@code text_encoder_2}. The token is
 *   the file name unless {@code :TOKEN} says otherwise.</li>
 *   <li>diffusers {@code learned_embeds.safetensors}: one entry {@code {token: [dim] or [n, dim]}}; the token is the
 *   key unless {@code :TOKEN} says otherwise.</li>
 * </ul>
 * A token with n vectors stands for n new tokens {@code TOKEN, TOKEN_1, ..., TOKEN_(n-1)}, as diffusers'
 * {@code load_textual_inversion} adds them; the prompt writes just {@code TOKEN}. Only safetensors files are read.
 */
final class Embeddings {
    /** The request parameter naming embedding files. */
    static final String PARAMETER = "embeddings";
    static final String FOLDER = "embeddings";
    private static final Set<String> PICKLED = Set.of("pt", "ckpt", "pth", "bin");

    /**
     * One embedding: a token and its vectors for each text encoder.
     *
     * @param token   the word the prompt uses
     * @param vectors {@code [n, dim]} by component ({@code text_encoder}, {@code text_encoder_2})
     * @param file    where it was read
     * @param sha256  the file's content hash (hex)
     */
    record Embedding(String token, Map<String, FloatTensor> vectors, Path file, String sha256) {
        int count(String component) {
            FloatTensor v = vectors.get(component);
            return v == null ? 0 : v.dim(0);
        }

        String describe() {
            return token + " (" + file.getFileName() + "#" + sha256.substring(0, 16) + ")";
        }
    }

    private record Parsed(long size, long modified, String sha256, String key, Map<String, FloatTensor> vectors) {
    }

    private static final Map<Path, Parsed> CACHE = new ConcurrentHashMap<>();

    private Embeddings() {
    }

    /**
     * The embeddings a request uses: the parameter's files in order, then the model folder's whose name the prompt
     * or negative prompt contains, by name.
     *
     * @param request     the request
     * @param modelFolder the model folder's root
     * @param reader      the host's reader of the files
     * @return the embeddings, no two with one token; empty when the request uses none
     * @throws InvalidRequestException naming the file when one is missing, pickled or malformed, or two give one token
     */
    static List<Embedding> of(GenerationRequest request, Path modelFolder, TensorFiles reader) {
        Map<String, Embedding> byToken = new LinkedHashMap<>();
        for (String spec : specs(request.parameters().get(PARAMETER))) {
            Spec s = parseSpec(spec);
            Embedding e = load(s.file(), s.token(), reader);
            Embedding before = byToken.putIfAbsent(e.token(), e);
            if (before != null) {
                throw new InvalidRequestException("embeddings " + before.file() + " and " + e.file()
                        + " both define the token '" + e.token() + "'; give one of them another token with FILE:TOKEN");
            }
        }
        Path dir = modelFolder.resolve(FOLDER);
        if (Files.isDirectory(dir)) {
            String texts = request.prompt() + "\n" + request.negativePrompt();
            TreeMap<String, Path> files = new TreeMap<>();
            try (DirectoryStream<Path> list = Files.newDirectoryStream(dir)) {
                for (Path f : list) {
                    files.put(f.getFileName().toString(), f);
                }
            } catch (IOException e) {
                throw new InvalidRequestException("could not list " + dir + ": " + e.getMessage());
            }
            for (Path f : files.values()) {
                String name = f.getFileName().toString();
                int dot = name.lastIndexOf('.');
                if (dot <= 0 || !Files.isRegularFile(f)) {
                    continue;
                }
                String stem = name.substring(0, dot);
                String ext = name.substring(dot + 1).toLowerCase(Locale.ROOT);
                boolean used = !byToken.containsKey(stem) && word(stem).matcher(texts).find();
                if (used && ext.equals("safetensors")) {
                    byToken.put(stem, load(f, stem, reader));
                } else if (used && PICKLED.contains(ext)) {
                    throw new InvalidRequestException("the prompt uses '" + stem + "', and " + f + " is a pickled "
                            + "PyTorch file; only .safetensors embeddings are read (unpickling can run code from the"
                            + " file; convert it to .safetensors first)");
                }
            }
        }
        return List.copyOf(byToken.values());
    }

    /**
     * The pattern that finds a token in a prompt: a token that starts (ends) with a letter or digit must not have one
     * right before (after) it, so {@code star} is not found in {@code starry} but {@code <cat-toy>} is found in
     * {@code <cat-toy>s}.
     */
    static Pattern word(String token) {
        String before = Character.isLetterOrDigit(token.codePointAt(0)) ? "(?<![\\p{L}\\p{N}_])" : "";
        String after = Character.isLetterOrDigit(token.codePointBefore(token.length())) ? "(?![\\p{L}\\p{N}_])" : "";
        return Pattern.compile(before + Pattern.quote(token) + after);
    }

    private static List<String> specs(Object p) {
        List<String> out = new ArrayList<>();
        if (p == null) {
            return out;
        }
        if (p instanceof String s) {
            for (String part : s.split(";")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        } else if (p instanceof List<?> list) {
            for (Object o : list) {
                out.add(String.valueOf(o).trim());
            }
        } else {
            throw new InvalidRequestException("request parameter '" + PARAMETER + "' is a "
                    + p.getClass().getSimpleName() + "; expected FILE[:TOKEN] strings");
        }
        return out;
    }

    /** A file and the token the user gave it (null: the file's own). */
    record Spec(Path file, String token) {
    }

    /** {@code FILE[:TOKEN]}: the text after the last colon is a token unless it holds a path separator. */
    static Spec parseSpec(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon > 1 && colon < spec.length() - 1) {  // "C:\\..." keeps its drive letter
            String tail = spec.substring(colon + 1);
            if (tail.indexOf('/') < 0 && tail.indexOf('\\') < 0) {
                return new Spec(Path.of(spec.substring(0, colon)), tail.trim());
            }
        }
        return new Spec(Path.of(spec), null);
    }

    /**
     * Reads an embedding file (cached by path, size and modification time).
     *
     * @param file  a {@code .safetensors} file
     * @param token the token to use, or null for the file's own (the diffusers key, else the file name)
     * @param reader the host's reader of the file
     * @return the embedding
     */
    static Embedding load(Path file, String token, TensorFiles reader) {
        Path abs = file.toAbsolutePath().normalize();
        Parsed p = parse(abs, reader);
        String t = token != null ? token : p.key() != null ? p.key() : stem(abs);
        if (t.isBlank() || t.chars().anyMatch(Character::isWhitespace)) {
            throw new InvalidRequestException("embedding " + abs + ": token '" + t + "' must be one word without"
                    + " spaces; give one with FILE:TOKEN");
        }
        return new Embedding(t, p.vectors(), abs, p.sha256());
    }

    private static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static Parsed parse(Path abs, TensorFiles reader) {
        long size;
        long modified;
        try {
            size = Files.size(abs);
            modified = Files.getLastModifiedTime(abs).toMillis();
        } catch (IOException e) {
            reader.readSafetensors(abs);  // names the problem: a missing or pickled file
            throw new InvalidRequestException("could not read embedding " + abs + ": " + e.getMessage());
        }
        Parsed cached = CACHE.get(abs);
        if (cached != null && cached.size() == size && cached.modified() == modified) {
            return cached;
        }
        Map<String, FloatTensor> tensors = reader.readSafetensors(abs);
        Map<String, FloatTensor> vectors = new LinkedHashMap<>();
        String key = null;
        if (tensors.containsKey("emb_params")) {
            vectors.put("text_encoder", matrix(abs, "emb_params", tensors.get("emb_params")));
        } else if (tensors.containsKey("clip_l") || tensors.containsKey("clip_g")) {
            if (tensors.containsKey("clip_l")) {
                vectors.put("text_encoder", matrix(abs, "clip_l", tensors.get("clip_l")));
            }
            if (tensors.containsKey("clip_g")) {
                vectors.put("text_encoder_2", matrix(abs, "clip_g", tensors.get("clip_g")));
            }
        } else if (tensors.size() == 1) {
            key = tensors.keySet().iterator().next();
            vectors.put("text_encoder", matrix(abs, key, tensors.get(key)));
        } else {
            throw new InvalidRequestException(abs + " is not a textual-inversion embedding: expected 'emb_params'"
                    + " (A1111), 'clip_l'/'clip_g' (SDXL) or a single {token: vectors} entry (diffusers), found "
                    + tensors.keySet());
        }
        Parsed fresh = new Parsed(size, modified, sha256(abs), key, Map.copyOf(vectors));
        CACHE.put(abs, fresh);
        return fresh;
    }

    private static FloatTensor matrix(Path file, String name, FloatTensor t) {
        if (t.rank() == 1) {
            return FloatTensor.of(t.array(), 1, t.dim(0));
        }
        if (t.rank() != 2 || t.dim(0) == 0) {
            throw new InvalidRequestException(file + ": '" + name + "' has shape " + t.shapeString()
                    + "; expected [vectors, dim] or [dim]");
        }
        return t;
    }

    private static String sha256(Path file) {
        try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file),
                MessageDigest.getInstance("SHA-256"))) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // digesting
            }
            return HexFormat.of().formatHex(in.getMessageDigest().digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new InvalidRequestException("could not read " + file + ": " + e.getMessage());
        }
    }
}
