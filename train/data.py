"""Training batches and evaluation prompts for train.py (numpy only, so they can be checked
on a machine without PyTorch: `python3 train/data.py`)."""
from __future__ import annotations

import json
import os

import numpy as np

import bpe
import synthetic

# share of each sequence kind in a training batch
MIX = {"text": 0.56, "passkey": 0.2, "kv": 0.13, "copy": 0.11}


class BatchMaker:
    """Makes [B, T+1] int64 batches: each row BOS + T tokens, text or a synthetic episode."""

    def __init__(self, data: str, B: int, T: int, seed: int, mix: dict[str, float] | None = None):
        self.B, self.T = B, T
        mix = dict(MIX if mix is None else mix)
        meta = json.load(open(os.path.join(data, "meta.json")))
        self.stream = np.fromfile(os.path.join(data, "text_train.bin"), dtype=np.uint16)
        tok = bpe.Tokenizer.load(os.path.join(data, "tokenizer.bin"))
        words = open(os.path.join(data, "words.txt")).read().split()
        self.syn = synthetic.Synth(bpe.Encoder(tok), self.stream, words, T, seed * 1000 + 17)
        self.rng = np.random.default_rng(seed * 7919 + 3)
        srcs = list(meta["sources"].values())
        self.lo = np.array([s["train"][0] for s in srcs])
        self.hi = np.array([s["train"][1] for s in srcs])
        w = np.array([s["weight"] * (s["train"][1] - s["train"][0]) for s in srcs], dtype=np.float64)
        self.w = w / w.sum()
        self.kinds = list(mix)
        self.p = np.array([mix[k] for k in self.kinds]) / sum(mix.values())

    def batch(self) -> np.ndarray:
        T = self.T
        out = np.empty((self.B, T + 1), dtype=np.int64)
        ks = self.rng.choice(len(self.kinds), size=self.B, p=self.p)
        for i, k in enumerate(ks):
            if self.kinds[k] == "text":
                s = self.rng.choice(len(self.w), p=self.w)
                a = int(self.rng.integers(self.lo[s], self.hi[s] - T))
                out[i, 0] = bpe.BOS
                out[i, 1:] = self.stream[a:a + T]
            else:
                out[i] = self.syn.sequence(self.kinds[k])
        return out


def val_rows(data: str, T: int, n: int) -> np.ndarray:
    """n fixed held-out rows (BOS + T tokens), taken round-robin from the sources' held-out streams."""
    meta = json.load(open(os.path.join(data, "meta.json")))
    stream = np.fromfile(os.path.join(data, "text_val.bin"), dtype=np.uint16)
    rng = np.random.default_rng(12345)
    rows = []
    srcs = list(meta["sources"].values())
    for i in range(n):
        a0, a1 = srcs[i % len(srcs)]["val"]
        if a1 - a0 <= T:
            seg = np.concatenate([stream[a0:a1], stream[: T - (a1 - a0)]])
        else:
            a = int(rng.integers(a0, a1 - T))
            seg = stream[a:a + T]
        rows.append(np.concatenate([[bpe.BOS], seg]).astype(np.int64))
    return np.stack(rows)


def passkey_prompts(enc: bpe.Encoder, n: int, length: int, seed: int, syn: synthetic.Synth | None = None):
    """n passkey prompts of at most `length` tokens (BOS included), the key at depths i/(n-1).
    With syn=None the filler is synthetic.FILLER (the CI test's form); otherwise held-out
    corpus text. Returns (prompts, answers) as lists of token lists; the answer is the key's
    tokens (enc.encode(key): a leading-space first digit, then digits)."""
    rng = np.random.default_rng(seed)
    prompts, answers = [], []
    base = len(enc.encode(synthetic.passkey_text("12345", 0, 0), bos=True))
    per = float(np.mean([len(enc.encode(s)) for s in synthetic.FILLER]))
    for i in range(n):
        key = str(int(rng.integers(10000, 100000)))
        depth = i / max(1, n - 1)
        if syn is None:
            m = int((length - base) / per) + 2
            while True:
                nb = int(round(depth * m))
                ids = enc.encode(synthetic.passkey_text(key, nb, m - nb), bos=True)
                if len(ids) <= length:
                    break
                m -= 1
        else:
            head = [bpe.BOS] + syn.piece(synthetic.INTRO)
            keyp = syn.piece(synthetic.KEY_LINE.format(k=key))
            qp = syn.piece(synthetic.QUESTION)
            room = length - len(head) - len(keyp) - len(qp)
            nb = int(room * depth)
            before = list(syn.text(nb)) if nb > 0 else []
            after = list(syn.text(room - len(before))) if room - len(before) > 1 else []
            ids = head + before + keyp + after + qp
        prompts.append([int(t) for t in ids])
        answers.append(enc.encode(key))
    return prompts, answers


if __name__ == "__main__":
    import time

    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "data")
    bm = BatchMaker(here, 32, 2048, 1)
    t0 = time.time()
    for _ in range(3):
        b = bm.batch()
    print("batch", b.shape, f"{(time.time() - t0) / 3 * 1000:.0f} ms per batch of 32", "BOS col ok:", bool((b[:, 0] == bpe.BOS).all()),
          "max id", int(b.max()))
    tok = bpe.Tokenizer.load(os.path.join(here, "tokenizer.bin"))
    enc = bpe.Encoder(tok)
    for L in (256, 1024, 2048):
        ps, ans = passkey_prompts(enc, 5, L, 1)
        print(L, [len(p) for p in ps], [tok.decode(a) for a in ans])
    stream = np.fromfile(os.path.join(here, "text_val.bin"), dtype=np.uint16)
    syn = synthetic.Synth(enc, stream, ["a"], 2048, 5)
    ps, ans = passkey_prompts(enc, 3, 1024, 2, syn)
    print("text filler", [len(p) for p in ps])
    print(repr(tok.decode(ps[1][:60])), "...", repr(tok.decode(ps[1][-40:])), tok.decode(ans[1]))
    ps, ans = passkey_prompts(enc, 3, 1024, 2)
    # the prompt's tokens equal the encoding of its text (what the TypeScript test does)
    text = tok.decode(ps[1][1:])[1:]
    assert enc.encode(text, bos=True) == ps[1] == tok.encode_reference(text, bos=True)
    print("prompt re-encodes identically;", repr(text[:80]), "...", repr(text[-60:]))
    print(val_rows(here, 2048, 14).shape)
