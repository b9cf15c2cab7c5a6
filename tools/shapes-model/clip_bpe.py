"""A CLIP-format byte-level BPE tokenizer: training of a tiny vocabulary and HF CLIPTokenizer-equivalent encoding.

Files written are exactly CLIP's: vocab.json (256 byte symbols, the same 256 + "</w>", one entry per merge, then
<|startoftext|>, <|endoftext|>) and merges.txt ("#version: 0.2" then one merge per line). Encoding follows
transformers' CLIPTokenizer without ftfy: whitespace collapsed, lowercase, the CLIP regex, bytes_to_unicode,
BPE by merge rank with "</w>" on the last symbol, [BOS] + tokens[:75] + [EOS], padded to 77 with the pad token
(<|endoftext|>).
"""
import json
import re
from collections import Counter

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MAX_LEN = 77

# CLIP: r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
# The stdlib has no \p{..}: letters = [^\W\d_], numbers = \d, the rest = runs of (non-space, non-word, or "_").
PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""",
                 re.IGNORECASE)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENC = bytes_to_unicode()


def clean(text):
    return re.sub(r"\s+", " ", text).strip().lower()


def pre_tokens(text):
    out = []
    for tok in PAT.findall(clean(text)):
        out.append("".join(BYTE_ENC[b] for b in tok.encode("utf-8")))
    return out


def train_bpe(words):
    """Train merges on a word list until every word is one symbol. Returns (vocab dict, merges list)."""
    corpus = Counter()
    for w in words:
        for t in pre_tokens(w):
            corpus[tuple(t[:-1]) + (t[-1] + "</w>",)] += 1
    merges = []
    while True:
        pairs = Counter()
        for sym, f in corpus.items():
            for a, b in zip(sym, sym[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        best = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        merges.append(best)
        new = Counter()
        for sym, f in corpus.items():
            out, i = [], 0
            while i < len(sym):
                if i < len(sym) - 1 and (sym[i], sym[i + 1]) == best:
                    out.append(sym[i] + sym[i + 1])
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            new[tuple(out)] += f
        corpus = new
    base = list(BYTE_ENC.values())
    vocab_list = base + [v + "</w>" for v in base] + ["".join(m) for m in merges] + [BOS, EOS]
    vocab = {}
    for v in vocab_list:
        if v not in vocab:
            vocab[v] = len(vocab)
    return vocab, merges


class CLIPTokenizer:
    def __init__(self, vocab, merges):
        self.encoder = dict(vocab)
        self.ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.cache = {}
        self.bos = self.encoder[BOS]
        self.eos = self.encoder[EOS]
        self.pad = self.eos

    @classmethod
    def from_dir(cls, d):
        vocab = json.load(open(f"{d}/vocab.json", encoding="utf-8"))
        lines = open(f"{d}/merges.txt", encoding="utf-8").read().split("\n")[1:]
        merges = [tuple(l.split()) for l in lines if l.strip()]
        return cls(vocab, merges)

    def save(self, d, merges):
        json.dump(self.encoder, open(f"{d}/vocab.json", "w", encoding="utf-8"), ensure_ascii=False)
        with open(f"{d}/merges.txt", "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            for a, b in merges:
                f.write(f"{a} {b}\n")
        cfg = {"bos_token": BOS, "eos_token": EOS, "pad_token": EOS, "unk_token": EOS, "model_max_length": MAX_LEN,
               "do_lower_case": True, "tokenizer_class": "CLIPTokenizer", "clean_up_tokenization_spaces": True,
               "add_prefix_space": False, "errors": "replace"}
        json.dump(cfg, open(f"{d}/tokenizer_config.json", "w"), indent=1)
        json.dump({k: cfg[k] for k in ["bos_token", "eos_token", "pad_token", "unk_token"]},
                  open(f"{d}/special_tokens_map.json", "w"), indent=1)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            a, b = best
            out, i = [], 0
            while i < len(word):
                try:
                    j = word.index(a, i)
                except ValueError:
                    out.extend(word[i:])
                    break
                out.extend(word[i:j])
                i = j
                if word[i] == a and i < len(word) - 1 and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = tuple(out)
        self.cache[token] = word
        return word

    def tokens(self, text):
        out = []
        for t in pre_tokens(text):
            out.extend(self.bpe(t))
        return out

    def encode(self, text):
        ids = [self.encoder.get(t, self.encoder[EOS]) for t in self.tokens(text)][: MAX_LEN - 2]
        ids = [self.bos] + ids + [self.eos]
        return ids + [self.pad] * (MAX_LEN - len(ids))
