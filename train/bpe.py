"""Byte-pair-encoding tokenizer in the llama2.c format, trained here in plain Python.

Vocabulary layout (the llama2.c / sentencepiece convention the project's loader expects):
  0 "<unk>", 1 BOS ("\\n<s>\\n"), 2 EOS ("\\n</s>\\n"), 3..258 byte fallbacks "<0x00>".."<0xFF>",
  then the 95 printable ASCII characters and "\\n", then the learned merges in merge order.
Scores: merge number r (0 = first) has score -r, so earlier merges win; every other token
has a score below all merges. The file format (tokenizer.bin): int32 max_token_length,
then per token float32 score, int32 byte length, bytes (all little-endian).

Encoding is llama2.c's: a dummy " " token, one token per character (byte fallback for
anything else), then repeatedly merge the adjacent pair whose concatenation is in the
vocabulary with the highest score (leftmost on ties). `encode_reference` is that algorithm
on the whole string; `Encoder.encode` gets the same result much faster by encoding the
text in chunks (CHUNK below) with a cache: the corpus is normalised (corpus.py) so that no
vocabulary token can span two chunks, and `check_chunk_closure` verifies that property
of the vocabulary, which makes the two encoders agree on any normalised text.
"""
from __future__ import annotations

import collections
import re
import struct
from typing import Iterable

UNK, BOS, EOS = 0, 1, 2
N_SPECIAL = 3
N_BYTES = 256
BASE_CHARS = [chr(c) for c in range(32, 127)] + ["\n"]
# A chunk: an optional space and a run of letters, an optional space and ONE digit, an optional
# space and a run of other printable characters, or a newline.
CHUNK = re.compile(r" ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+|\n| ")


def chunks(text: str) -> list[str]:
    out = CHUNK.findall(text)
    if sum(map(len, out)) != len(text):
        raise ValueError("text is not normalised (characters outside the chunk classes)")
    return out


def _class(ch: str) -> str:
    if ch.isalpha():
        return "a"
    if ch.isdigit():
        return "d"
    if ch == " ":
        return "s"
    if ch == "\n":
        return "n"
    return "p"


def train_bpe(counts: dict[str, int], vocab_size: int) -> list[str]:
    """Learns vocab_size - (3 + 256 + len(BASE_CHARS)) merges from chunk counts; returns the merged strings in order."""
    n_merges = vocab_size - N_SPECIAL - N_BYTES - len(BASE_CHARS)
    if n_merges <= 0:
        raise ValueError("vocab_size too small")
    words: list[list[str]] = []
    freq: list[int] = []
    for w, c in counts.items():
        words.append(list(w))
        freq.append(c)
    pair_count: collections.Counter[tuple[str, str]] = collections.Counter()
    where: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += freq[i]
            where[(a, b)].add(i)
    merges: list[str] = []
    vocab = set(BASE_CHARS)
    import heapq

    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        c = pair_count.get(pair, 0)
        if c <= 0:
            continue
        if -negc != c:  # stale entry
            heapq.heappush(heap, (-c, pair))
            continue
        new = pair[0] + pair[1]
        if new in vocab:  # same string reachable through another split: count it merged already
            pair_count[pair] = 0
            # still apply the merge to the words so the string forms there too
        else:
            merges.append(new)
            vocab.add(new)
        a, b = pair
        changed: collections.Counter[tuple[str, str]] = collections.Counter()
        for i in list(where.get(pair, ())):
            w = words[i]
            f = freq[i]
            j = 0
            out: list[str] = []
            hit = False
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                    hit = True
                else:
                    out.append(w[j])
                    j += 1
            if not hit:
                continue
            for x, y in zip(w, w[1:]):
                changed[(x, y)] -= f
            for x, y in zip(out, out[1:]):
                changed[(x, y)] += f
                where[(x, y)].add(i)
            words[i] = out
        for p, d in changed.items():
            if d != 0:
                pair_count[p] += d
                if d > 0:
                    heapq.heappush(heap, (-pair_count[p], p))
        pair_count[pair] = 0
        where.pop(pair, None)
    return merges


class Tokenizer:
    """A llama2.c-format vocabulary: pieces (str for text tokens) and scores."""

    def __init__(self, merges: list[str]):
        pieces: list[str] = ["<unk>", "\n<s>\n", "\n</s>\n"] + [f"<0x{b:02X}>" for b in range(256)] + list(BASE_CHARS) + list(merges)
        scores = [0.0] * (N_SPECIAL + N_BYTES) + [-1e6] * len(BASE_CHARS) + [-float(r) for r in range(len(merges))]
        if len(set(pieces)) != len(pieces):
            raise ValueError("duplicate pieces")
        self.pieces = pieces
        self.scores = scores
        self.index = {p: i for i, p in enumerate(pieces)}
        self.n_merges = len(merges)

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    def piece_bytes(self, i: int) -> bytes:
        return self.pieces[i].encode("utf-8")

    def save(self, path: str) -> None:
        bs = [self.piece_bytes(i) for i in range(self.vocab_size)]
        with open(path, "wb") as f:
            f.write(struct.pack("<i", max(len(b) for b in bs)))
            for b, s in zip(bs, self.scores):
                f.write(struct.pack("<fi", s, len(b)))
                f.write(b)

    @staticmethod
    def load(path: str) -> "Tokenizer":
        with open(path, "rb") as f:
            data = f.read()
        off = 4
        pieces: list[str] = []
        scores: list[float] = []
        while off < len(data):
            s, n = struct.unpack_from("<fi", data, off)
            off += 8
            pieces.append(data[off:off + n].decode("utf-8"))
            scores.append(s)
            off += n
        n_base = N_SPECIAL + N_BYTES + len(BASE_CHARS)
        t = Tokenizer(pieces[n_base:])
        if t.pieces != pieces or any(abs(a - b) > 0 for a, b in zip(t.scores, scores)):
            raise ValueError("tokenizer file does not have the expected layout")
        return t

    def _merge(self, ids: list[int]) -> list[int]:
        idx, sc, pc = self.index, self.scores, self.pieces
        while True:
            best, best_i, best_id = -1e10, -1, -1
            for i in range(len(ids) - 1):
                j = idx.get(pc[ids[i]] + pc[ids[i + 1]])
                if j is not None and sc[j] > best:
                    best, best_i, best_id = sc[j], i, j
            if best_i < 0:
                return ids
            ids[best_i:best_i + 2] = [best_id]

    def _chars(self, text: str) -> list[int]:
        ids: list[int] = []
        for ch in text:
            j = self.index.get(ch)
            if j is not None:
                ids.append(j)
            else:
                ids.extend(b + N_SPECIAL for b in ch.encode("utf-8"))
        return ids

    def encode_reference(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        """llama2.c's encode on the whole string (slow: quadratic)."""
        ids = ([self.index[" "]] if text else []) + self._chars(text)
        ids = self._merge(ids)
        return ([BOS] if bos else []) + ids + ([EOS] if eos else [])

    def decode(self, ids: Iterable[int]) -> str:
        out = bytearray()
        for i in ids:
            if N_SPECIAL <= i < N_SPECIAL + N_BYTES:
                out.append(i - N_SPECIAL)
            elif i >= N_SPECIAL + N_BYTES:
                out.extend(self.piece_bytes(i))
        return out.decode("utf-8", "replace")


class Encoder:
    """Fast encoder (chunked, cached); equals Tokenizer.encode_reference on normalised text."""

    def __init__(self, tok: Tokenizer):
        self.tok = tok
        self.cache: dict[str, list[int]] = {}

    def chunk(self, c: str) -> list[int]:
        r = self.cache.get(c)
        if r is None:
            r = self.tok._merge(self.tok._chars(c))
            if len(self.cache) < 2_000_000:
                self.cache[c] = r
        return r

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        out: list[int] = [BOS] if bos else []
        if text:
            # the dummy prefix " " joins the first chunk unless that chunk already starts with a space
            # or is a newline/lone space (then it stays a token of its own)
            cs = chunks(text)
            first = cs[0]
            if first[0] in " \n":
                out.append(self.tok.index[" "])
            else:
                cs[0] = " " + first
            for c in cs:
                out.extend(self.chunk(c))
        if eos:
            out.append(EOS)
        return out


def check_chunk_closure(tok: Tokenizer) -> None:
    """Every merged piece must lie inside one chunk class (letters with an optional leading
    space, punctuation with an optional leading space, a space and one digit), so no merge
    can cross a chunk boundary. Raises ValueError otherwise."""
    for p in tok.pieces[N_SPECIAL + N_BYTES + len(BASE_CHARS):]:
        m = CHUNK.fullmatch(p)
        if m is None:
            raise ValueError(f"piece {p!r} spans chunk classes")
