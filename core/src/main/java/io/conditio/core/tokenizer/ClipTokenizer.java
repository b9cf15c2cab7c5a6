package io.conditio.core.tokenizer;

import io.conditio.api.ModelLoadException;
import io.conditio.api.TextTokenizer;
import io.conditio.core.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer, giving the same ids as Hugging Face's {@code CLIPTokenizer} (fast).
 *
 * <p>Text is NFC-normalised, every run of whitespace becomes one space, and the result is lower-cased character by
 * character. It is split into words with CLIP's pattern (the special tokens, the contractions {@code 's 't 're 've
 * 'm 'll 'd}, letter runs, single digits, and runs of other non-space characters); each word's UTF-8 bytes are
 * mapped to GPT-2's printable byte alphabet, the word's last symbol gets the {@code </w>} suffix, and BPE merges
 * are applied lowest rank first. A word that is exactly a special token maps to that token's id.
 *
 * <p>Instances are immutable apart from a bounded, concurrent cache of BPE results per word, and are thread-safe.
 */
public final class ClipTokenizer implements TextTokenizer {
    private static final String DEFAULT_BOS = "<|startoftext|>";
    private static final String DEFAULT_EOS = "<|endoftext|>";
    private static final int DEFAULT_MAX_LENGTH = 77;
    private static final int CACHE_LIMIT = 20_000;
    private static final String END_OF_WORD = "</w>";
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final char[] BYTE_TO_UNICODE = bytesToUnicode();

    private final Map<String, Integer> vocab;
    private final Map<String, Integer> mergeRanks;
    private final Map<String, Integer> specialIds;
    private final Pattern wordPattern;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;
    private final int maxLength;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ClipTokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks, String bos, String eos,
            String pad, String unk, int maxLength, Path dir) {
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.bosId = requireToken(vocab, bos, "bos", dir);
        this.eosId = requireToken(vocab, eos, "eos", dir);
        this.padId = requireToken(vocab, pad, "pad", dir);
        Integer unk0 = vocab.get(unk);
        this.unkId = unk0 != null ? unk0 : eosId;
        this.maxLength = maxLength;
        Map<String, Integer> specials = new HashMap<>();
        specials.put(bos, bosId);
        specials.put(eos, eosId);
        this.specialIds = Map.copyOf(specials);
        StringBuilder re = new StringBuilder();
        for (String special : specials.keySet().stream().sorted().toList()) {
            re.append(Pattern.quote(special)).append('|');
        }
        re.append("'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+");
        this.wordPattern = Pattern.compile(re.toString(), Pattern.UNICODE_CHARACTER_CLASS);
    }

    /**
     * Loads a tokenizer folder as Hugging Face writes it.
     *
     * <p>Reads {@code vocab.json} and {@code merges.txt} (both required) and, when present,
     * {@code tokenizer_config.json} and then {@code special_tokens_map.json} (which wins where both name a token)
     * for {@code bos_token}, {@code eos_token}, {@code pad_token}, {@code unk_token} and {@code model_max_length}.
     * A token may be given as a string or as an object with a {@code "content"} field. Defaults:
     * {@code <|startoftext|>}, {@code <|endoftext|>} for eos, pad and unk, and a maximum length of 77 (also used
     * when {@code model_max_length} is absent or not a sensible length, such as the {@code 1e30} placeholder).
     *
     * @param tokenizerDir the folder
     * @return the tokenizer
     * @throws ModelLoadException when a required file is missing or unreadable, or a special token is not in the
     *                            vocabulary; the message names the path
     */
    public static ClipTokenizer load(Path tokenizerDir) {
        Objects.requireNonNull(tokenizerDir, "tokenizerDir");
        Path vocabFile = tokenizerDir.resolve("vocab.json");
        Path mergesFile = tokenizerDir.resolve("merges.txt");
        for (Path required : List.of(vocabFile, mergesFile)) {
            if (!Files.isRegularFile(required)) {
                throw new ModelLoadException("tokenizer file " + required + " is missing (a CLIP tokenizer folder "
                        + "needs vocab.json and merges.txt)");
            }
        }
        Map<String, Integer> vocab = readVocab(vocabFile);
        Map<String, Integer> ranks = readMerges(mergesFile);

        Map<String, Object> settings = new HashMap<>();
        for (String name : List.of("tokenizer_config.json", "special_tokens_map.json")) {
            Path f = tokenizerDir.resolve(name);
            if (Files.isRegularFile(f)) {
                Map<String, Object> obj = Json.parseObject(f);
                for (String key : List.of("bos_token", "eos_token", "pad_token", "unk_token", "model_max_length")) {
                    if (obj.get(key) != null) {
                        settings.put(key, obj.get(key));
                    }
                }
            }
        }
        String bos = tokenText(settings.get("bos_token"), DEFAULT_BOS);
        String eos = tokenText(settings.get("eos_token"), DEFAULT_EOS);
        String unk = tokenText(settings.get("unk_token"), DEFAULT_EOS);
        String pad = tokenText(settings.get("pad_token"), DEFAULT_EOS);
        int maxLength = DEFAULT_MAX_LENGTH;
        Object ml = settings.get("model_max_length");
        if (ml instanceof Long && (Long) ml >= 2 && (Long) ml <= 1_000_000) {
            maxLength = (int) (long) (Long) ml;
        }
        return new ClipTokenizer(vocab, ranks, bos, eos, pad, unk, maxLength, tokenizerDir);
    }

    @Override
    public int[] tokenize(String text) {
        Objects.requireNonNull(text, "text");
        String normalized = normalize(text);
        if (normalized.isEmpty()) {
            return new int[0];
        }
        int[] out = new int[16];
        int count = 0;
        Matcher m = wordPattern.matcher(normalized);
        while (m.find()) {
            int[] ids = wordIds(m.group());
            if (count + ids.length > out.length) {
                out = Arrays.copyOf(out, Math.max(out.length * 2, count + ids.length));
            }
            System.arraycopy(ids, 0, out, count, ids.length);
            count += ids.length;
        }
        return Arrays.copyOf(out, count);
    }

    @Override
    public int maxLength() {
        return maxLength;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int padId() {
        return padId;
    }

    /** NFC, whitespace runs to one space, stripped, lower-cased code point by code point (as the Rust normaliser). */
    private static String normalize(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFC);
        s = WHITESPACE.matcher(s).replaceAll(" ").strip();
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            if (cp < 0x80) {
                sb.append(cp >= 'A' && cp <= 'Z' ? (char) (cp + 32) : (char) cp);
            } else {
                // per character and without context (no final-sigma rule), but with full mappings (İ -> i̇)
                sb.append(s.substring(i, i + len).toLowerCase(Locale.ROOT));
            }
            i += len;
        }
        return sb.toString();
    }

    private int[] wordIds(String word) {
        Integer special = specialIds.get(word);
        if (special != null) {
            return new int[] {special};
        }
        int[] cached = cache.get(word);
        if (cached != null) {
            return cached;
        }
        int[] ids = bpe(word);
        if (cache.size() < CACHE_LIMIT) {
            cache.put(word, ids);
        }
        return ids;
    }

    private int[] bpe(String word) {
        byte[] utf8 = word.getBytes(StandardCharsets.UTF_8);
        List<String> symbols = new ArrayList<>(utf8.length);
        for (byte b : utf8) {
            symbols.add(String.valueOf(BYTE_TO_UNICODE[b & 0xff]));
        }
        int last = symbols.size() - 1;
        symbols.set(last, symbols.get(last) + END_OF_WORD);

        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String bestFirst = null;
            String bestSecond = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = mergeRanks.get(symbols.get(i) + ' ' + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    bestFirst = symbols.get(i);
                    bestSecond = symbols.get(i + 1);
                }
            }
            if (bestFirst == null) {
                break;
            }
            // merge every occurrence of the best pair, left to right, without overlaps
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); ) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(bestFirst)
                        && symbols.get(i + 1).equals(bestSecond)) {
                    merged.add(bestFirst + bestSecond);
                    i += 2;
                } else {
                    merged.add(symbols.get(i));
                    i++;
                }
            }
            symbols = merged;
        }
        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(symbols.get(i));
            ids[i] = id != null ? id : unkId;
        }
        return ids;
    }

    private static Map<String, Integer> readVocab(Path file) {
        Map<String, Object> raw = Json.parseObject(file);
        Map<String, Integer> vocab = new HashMap<>(raw.size() * 2);
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            if (!(e.getValue() instanceof Long)) {
                throw new ModelLoadException("vocabulary " + file + " maps '" + e.getKey()
                        + "' to a non-integer id " + e.getValue());
            }
            vocab.put(e.getKey(), (int) (long) (Long) e.getValue());
        }
        return vocab;
    }

    private static Map<String, Integer> readMerges(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read tokenizer merges " + file + ": " + e, e);
        }
        Map<String, Integer> ranks = new HashMap<>(lines.size() * 2);
        int rank = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i == 0 && line.startsWith("#version")) {
                continue;
            }
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.strip().split(" ");
            if (parts.length != 2) {
                throw new ModelLoadException("tokenizer merges " + file + " line " + (i + 1)
                        + " is not two symbols separated by a space: '" + line + "'");
            }
            ranks.putIfAbsent(parts[0] + ' ' + parts[1], rank);
            rank++;
        }
        return ranks;
    }

    private static String tokenText(Object value, String fallback) {
        if (value instanceof String) {
            return (String) value;
        }
        if (value instanceof Map) {
            Object content = ((Map<?, ?>) value).get("content");
            if (content instanceof String) {
                return (String) content;
            }
        }
        return fallback;
    }

    private static int requireToken(Map<String, Integer> vocab, String token, String role, Path dir) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new ModelLoadException("the " + role + " token '" + token + "' of tokenizer " + dir
                    + " is not in " + dir.resolve("vocab.json"));
        }
        return id;
    }

    /** GPT-2's reversible map from bytes to printable characters. */
    private static char[] bytesToUnicode() {
        char[] map = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            printable[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            printable[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            printable[b] = true;
        }
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            map[b] = printable[b] ? (char) b : (char) (256 + extra++);
        }
        return map;
    }
}
