"""Synthetic long-context episodes for the default model: passkeys at random depths in
filler, key-value lookups and repeated spans, mixed with corpus text.

Every sequence is BOS followed by `seq_len` tokens. Episodes are assembled from token
pieces that each start at a chunk boundary of the tokenizer (bpe.py), so the token
sequence equals the tokenizer's encoding of the assembled text. The passkey prompt used by
the evaluations is `passkey_prompt` (the CI test in models/default-model.test.ts builds the
same text in TypeScript).
"""
from __future__ import annotations

import numpy as np

import bpe

FILLER = [
    "The grass is green.",
    "The sky is blue.",
    "The sun is yellow.",
    "Here we go.",
    "There and back again.",
]
INTRO = ("There is an important info hidden inside a lot of irrelevant text. "
         "Find it and memorize it. I will quiz you about the important information there.")
KEY_LINE = "The pass key is {k}. Remember it. {k} is the pass key."
QUESTION = "What is the pass key? The pass key is"
VARIANTS = [  # (statement, question) alternatives used in training only
    ("The secret number is {k}. Remember it. {k} is the secret number.", "What is the secret number? The secret number is"),
    ("The access code is {k}. Keep it in mind. The access code is {k}.", "What is the access code? The access code is"),
]


def passkey_text(key: str, n_before: int, n_after: int, intro: bool = True) -> str:
    """The evaluation prompt (without the answer): intro, n_before filler sentences (cycling
    through FILLER from the start), the key line, n_after filler sentences continuing the
    cycle, the question. Sentences are joined by single spaces."""
    parts = [INTRO] if intro else []
    parts += [FILLER[i % len(FILLER)] for i in range(n_before)]
    parts.append(KEY_LINE.format(k=key))
    parts += [FILLER[(n_before + i) % len(FILLER)] for i in range(n_after)]
    parts.append(QUESTION)
    return " ".join(parts)


class Synth:
    def __init__(self, enc: bpe.Encoder, stream: np.ndarray, words: list[str], seq_len: int, seed: int):
        self.enc = enc
        self.tok = enc.tok
        self.stream = stream
        self.words = words
        self.T = seq_len
        self.rng = np.random.default_rng(seed)
        v = self.tok.vocab_size
        sw = np.zeros(v, dtype=bool)
        for i in range(v):
            p = self.tok.pieces[i]
            sw[i] = i < bpe.N_SPECIAL or p.startswith(" ") or p == "\n"
        self.starts_word = sw
        self.filler = [np.asarray(self.piece(s), dtype=np.int64) for s in FILLER]
        self.filler_len = np.array([len(f) for f in self.filler])

    def piece(self, text: str) -> list[int]:
        """tokens of ' ' + text, as they appear in the middle of a document (text starts with a
        word or punctuation, or is '\\n'-led)."""
        if text.startswith("\n"):
            return [t for c in bpe.chunks(text) for t in self.enc.chunk(c)]
        return [t for c in bpe.chunks(" " + text) for t in self.enc.chunk(c)]

    # --- corpus text --------------------------------------------------------------------
    def text(self, n: int) -> np.ndarray:
        """n tokens of corpus text starting and ending at word boundaries (n >= 1; may be a few shorter)."""
        s = self.stream
        sw = self.starts_word
        for _ in range(20):
            i = int(self.rng.integers(0, len(s) - n - 64))
            while not sw[s[i]]:
                i += 1
            j = i + n
            while j > i + 1 and not sw[s[j]]:
                j -= 1
            if j > i:
                return s[i:j].astype(np.int64)
        return s[i:i + 1].astype(np.int64)

    def classic_filler(self, n: int, start: int = 0) -> np.ndarray:
        out: list[np.ndarray] = []
        k, total = start, 0
        while total < n:
            f = self.filler[k % len(self.filler)]
            if total + len(f) > n:
                break
            out.append(f)
            total += len(f)
            k += 1
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def filler_tokens(self, n: int, classic: bool, start: int = 0) -> np.ndarray:
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        return self.classic_filler(n, start) if classic else self.text(n)

    def key(self) -> str:
        nd = int(self.rng.choice([3, 4, 5, 5, 5, 5, 6, 7]))
        return str(int(self.rng.integers(10 ** (nd - 1), 10 ** nd)))

    # --- episodes (each returns the token list after BOS, not yet padded) ------------------
    def passkey(self, budget: int) -> list[np.ndarray]:
        k = self.key()
        if self.rng.random() < 0.8:
            stmt, q = KEY_LINE, QUESTION
        else:
            stmt, q = VARIANTS[int(self.rng.integers(len(VARIANTS)))]
        head = [np.asarray(self.piece(INTRO), dtype=np.int64)] if self.rng.random() < 0.5 else []
        keyp = np.asarray(self.piece(stmt.format(k=k)), dtype=np.int64)
        qp = np.asarray(self.piece(q), dtype=np.int64)
        ans = np.asarray(self.piece(k + "."), dtype=np.int64)
        fixed = sum(len(h) for h in head) + len(keyp) + len(qp) + len(ans) + 1
        room = max(0, budget - fixed)
        depth = self.rng.random()
        classic = self.rng.random() < 0.6
        before = self.filler_tokens(int(room * depth), classic)
        after = self.filler_tokens(room - len(before), classic, start=int(self.rng.integers(5)))
        return head + [before, keyp, after, qp, ans, np.array([bpe.EOS])]

    def kv(self, budget: int) -> list[np.ndarray]:
        out: list[np.ndarray] = [np.asarray(self.piece("Here is a list of codes."), dtype=np.int64)]
        used = len(out[0]) + 1
        n_q = int(self.rng.integers(3, 13))
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        interleave = self.rng.random() < 0.4
        reserve = n_q * 20
        while used < budget - reserve:
            w = self.words[int(self.rng.integers(len(self.words)))]
            if w in seen:
                continue
            seen.add(w)
            v = self.key()
            line = np.asarray(self.piece(f"\nThe code for {w} is {v}."), dtype=np.int64)
            if used + len(line) > budget - reserve:
                break
            out.append(line)
            used += len(line)
            pairs.append((w, v))
            if interleave and self.rng.random() < 0.3:
                t = self.text(int(self.rng.integers(10, 80)))
                if used + len(t) < budget - reserve:
                    out.append(t)
                    used += len(t)
        if not pairs:
            return out + [np.array([bpe.EOS])]
        for _ in range(n_q):
            w, v = pairs[int(self.rng.integers(len(pairs)))]
            line = np.asarray(self.piece(f"\nWhat is the code for {w}? The code for {w} is {v}."), dtype=np.int64)
            if used + len(line) > budget:
                break
            out.append(line)
            used += len(line)
        return out + [np.array([bpe.EOS])]

    def copy(self, budget: int) -> list[np.ndarray]:
        a_len = int(self.rng.integers(16, max(17, min(400, budget // 3))))
        if self.rng.random() < 0.7:
            a = self.text(a_len)
        else:
            ws = [self.words[int(i)] for i in self.rng.integers(0, len(self.words), max(4, a_len // 3))]
            a = np.asarray(self.piece(" ".join(ws)), dtype=np.int64)
        gap = max(0, budget - 2 * len(a) - 1)
        b = self.filler_tokens(int(self.rng.integers(0, gap + 1)), self.rng.random() < 0.3)
        return [a, b, a]

    def sequence(self, kind: str) -> np.ndarray:
        """BOS + T tokens: an episode of a random length, then corpus text to fill."""
        T = self.T
        budget = int(self.rng.integers(64, T + 1))
        parts = getattr(self, kind)(budget)
        body = np.concatenate([np.array([bpe.BOS])] + parts)
        if body[-1] != bpe.EOS and len(body) < T + 1:
            body = np.concatenate([body, [bpe.EOS]])
        parts = [body]
        n = len(body)
        while n < T + 1:
            t = self.text(T + 1 - n + 8)
            parts.append(t)
            n += len(t)
        return np.concatenate(parts)[:T + 1]
