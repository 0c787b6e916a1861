#!/usr/bin/env python3
"""Generates the Hugging Face fixtures under models/fixtures/ with the real libraries.

    python3 scripts/hf-fixtures.py --out DIR        # needs torch, transformers (5.x) and tokenizers

Nothing is downloaded: every model is random-initialised from its transformers config class
and every tokenizer is trained here on a small fixed corpus (CORPUS below).

Writes DIR/fixtures/ (copied to models/fixtures/ in the repository):
  hf/<name>/config.json, model.safetensors   save_pretrained of a tiny random model
  hf/<name>/reference.json                   prompt, 24 greedy tokens, margins, versions
  hf/<name>/reference.safetensors            logits [31, vocab] (F32) of transformers in
                                             float64 on the saved weights, teacher-forced
                                             on prompt + the first 23 greedy tokens
  tokenizers/<name>/tokenizer.json           trained with the `tokenizers` library
  tokenizers/<name>/reference.json           encode / decode of TEXTS by `tokenizers`
  config-fields.json                         every field of each supported config class
                                             (Config().to_dict() keys with their defaults)
and DIR/info/ (not committed): the transformers sources the TypeScript side follows.

Weights: matrices Gaussian with std 1/sqrt(fan_in), norm gains 1 + U(-0.2, 0.2),
biases N(0, 0.1^2), embeddings and output head std 0.5 (so logits have std ~3.5 and greedy
choices are not knife-edge). Of SEEDS seeds per model, the one whose 24 greedy choices have
the largest smallest top-1/top-2 logit margin is kept (the margin is recorded): the secure
decoder's fixed-point error must not flip a near-tie. Stored in bfloat16 (gpt2: float32) to
stay small; the references are computed from the stored (rounded) weights.
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import math
import os
import shutil
import sys
import traceback

import torch
import transformers
import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

VOCAB = 384
PROMPT = [1, 17, 93, 240, 5, 311, 77, 150]
N_GREEDY = 24
SEEDS = 12
BASE = dict(vocab_size=VOCAB, hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=64)


def rope(rope_type: str, theta: float, **extra) -> dict:
    return dict(rope_type=rope_type, rope_theta=theta, **extra)


# name -> (config class, model class, config kwargs, storage dtype)
SPECS = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(BASE, num_key_value_heads=2, rms_norm_eps=1e-5, tie_word_embeddings=False, rope_parameters=rope("default", 10000.0)), "bfloat16"),
    "llama3": (
        "LlamaConfig",
        "LlamaForCausalLM",
        dict(
            BASE,
            num_key_value_heads=1,
            tie_word_embeddings=True,
            rope_parameters=rope("llama3", 500000.0, factor=4.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=64),
        ),
        "bfloat16",
    ),
    "llama-linear": (
        "LlamaConfig",
        "LlamaForCausalLM",
        dict(BASE, num_key_value_heads=4, head_dim=16, tie_word_embeddings=True, attention_bias=True, mlp_bias=True, rope_parameters=rope("linear", 10000.0, factor=2.0)),
        "bfloat16",
    ),
    "mistral": ("MistralConfig", "MistralForCausalLM", dict(BASE, num_key_value_heads=2, sliding_window=8, tie_word_embeddings=False, rope_parameters=rope("default", 1000000.0)), "bfloat16"),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", dict(BASE, num_key_value_heads=2, tie_word_embeddings=True, rope_parameters=rope("default", 1000000.0)), "bfloat16"),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", dict(BASE, num_key_value_heads=2, head_dim=16, tie_word_embeddings=False, rope_parameters=rope("default", 1000000.0)), "bfloat16"),
    "gpt2": ("GPT2Config", "GPT2LMHeadModel", dict(vocab_size=VOCAB, n_embd=48, n_layer=2, n_head=4, n_positions=64, activation_function="gelu_new", tie_word_embeddings=True), "float32"),
    "phi3": (
        "Phi3Config",
        "Phi3ForCausalLM",
        dict(BASE, num_key_value_heads=2, tie_word_embeddings=False, pad_token_id=0, bos_token_id=1, eos_token_id=2, original_max_position_embeddings=64, rope_parameters=rope("default", 10000.0)),
        "bfloat16",
    ),
}

# config classes whose field lists are committed (model_type -> class name)
CONFIG_CLASSES = {"llama": "LlamaConfig", "mistral": "MistralConfig", "qwen2": "Qwen2Config", "qwen3": "Qwen3Config", "gpt2": "GPT2Config", "phi3": "Phi3Config"}

CORPUS_LINES = [
    "Once upon a time there was a little robot who lived in a quiet town by the sea.",
    "The robot liked to count the waves: one, two, three, four, five, and then start again.",
    "Every morning it said hello to the baker, the teacher and the old fisherman.",
    "It's a small world, they're fond of saying, and we'll see what the tide brings.",
    "Numbers such as 12345, 3.14159 and 2024 appear in the ledger next to the names.",
    "def main(args):\n    return sum(x * x for x in args)\n",
    "Private inference keeps the prompt secret while the model owner keeps the weights.",
    "Café, naïve, façade and résumé are words with accents; Übermut and Straße are German.",
    "Les élèves étudient la géométrie et l'histoire à l'école primaire.",
    "Tabs\tand\tnewlines\nare whitespace too.\n\nSo are   runs of   spaces.",
    "Σ and π are Greek letters; 中文 and 日本語 are written with other scripts.",
    "Key: value; another key = another value (with brackets) [and more] {and braces}.",
]
CORPUS = [line for _ in range(30) for line in CORPUS_LINES]

TEXTS = [
    "Hello world",
    "Hello  world  ",
    " leading space",
    "line one\nline two\n\n  indented",
    "tab\tseparated\tvalues",
    "naïve café, Ünïcödé — “quotes”",
    "emoji 🙂👍🏽 and 中文字符",
    "numbers 12345 and 3.14159",
    "it's they're we'll I'd",
    "Once upon a time",
    "",
    "a",
    "\n",
    "   ",
]

LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def log(*a) -> None:
    print(*a, flush=True)


def jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, torch.dtype):
        return str(v).replace("torch.", "")
    return repr(v)


def base_config_class():
    return getattr(transformers, "PreTrainedConfig", None) or transformers.PretrainedConfig


def config_fields(out: str) -> None:
    base = base_config_class()().to_dict()
    res = {"transformers_version": transformers.__version__, "base": {k: jsonable(v) for k, v in sorted(base.items())}, "classes": {}}
    for mt, name in CONFIG_CLASSES.items():
        cls = getattr(transformers, name)
        d = cls().to_dict()
        own = {}
        if dataclasses.is_dataclass(cls):
            own["dataclass_fields"] = sorted(f.name for f in dataclasses.fields(cls))
        try:
            own["init_params"] = sorted(p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs"))
        except (TypeError, ValueError):
            pass
        own["attribute_map"] = jsonable(dict(getattr(cls, "attribute_map", {}) or {}))
        res["classes"][mt] = {"class": name, "defaults": {k: jsonable(v) for k, v in sorted(d.items())}, **own}
    with open(os.path.join(out, "config-fields.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def make_config(cls_name: str, kw: dict):
    cls = getattr(transformers, cls_name)
    try:
        return cls(**kw)
    except Exception as e:  # a 4.x-style class: rope_theta + rope_scaling
        if "rope_parameters" not in kw:
            raise
        log(f"  {cls_name}(rope_parameters=...) failed ({e!r}); retrying with rope_theta/rope_scaling")
        kw = dict(kw)
        rp = dict(kw.pop("rope_parameters"))
        kw["rope_theta"] = rp.pop("rope_theta")
        if rp.get("rope_type") != "default":
            kw["rope_scaling"] = rp
        return cls(**kw)


def make_model(model_name: str, cfg):
    cls = getattr(transformers, model_name)
    try:
        return cls._from_config(cfg, attn_implementation="eager")
    except Exception as e:
        log(f"  _from_config(eager) failed ({e!r}); using the default attention")
        return cls(cfg)


@torch.no_grad()
def reinit(model, seed: int, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(seed)
    conv_params = set()
    for mod in model.modules():
        if type(mod).__name__ == "Conv1D":  # GPT-2's [in, out] linear layer
            conv_params.add(id(mod.weight))
    done = set()
    for name, p in model.named_parameters(remove_duplicate=True):
        if id(p) in done:
            continue
        done.add(id(p))
        if p.ndim == 1:
            if "norm" in name or ".ln_" in name or name.startswith("ln_") or "ln_f" in name:
                if name.endswith("bias"):
                    v = 0.1 * torch.randn(p.shape, generator=g)
                else:
                    v = 1 + 0.4 * (torch.rand(p.shape, generator=g) - 0.5)
            else:
                v = 0.1 * torch.randn(p.shape, generator=g)
        elif "embed" in name or "wte" in name or "wpe" in name or "lm_head" in name:
            v = 0.5 * torch.randn(p.shape, generator=g)
        else:
            fan_in = p.shape[0] if id(p) in conv_params else p.shape[1]
            v = torch.randn(p.shape, generator=g) / math.sqrt(fan_in)
        p.copy_(v.to(dtype).to(p.dtype))


@torch.no_grad()
def greedy(model, prompt: list[int], n: int):
    """n greedy tokens (full forward each step, no cache), the logits that chose them, margins."""
    seq = list(prompt)
    margins = []
    for _ in range(n):
        lg = model(torch.tensor([seq])).logits[0, -1].double()
        top = torch.topk(lg, 2)
        margins.append(float(top.values[0] - top.values[1]))
        seq.append(int(top.indices[0]))
    return seq[len(prompt):], margins


@torch.no_grad()
def all_logits(model, tokens: list[int]) -> torch.Tensor:
    return model(torch.tensor([tokens])).logits[0].double()


def build(name: str, out: str, info: str) -> dict:
    cfg_name, model_name, kw, store = SPECS[name]
    sdtype = getattr(torch, store)
    best = None
    for seed in range(SEEDS):
        cfg = make_config(cfg_name, dict(kw))
        model = make_model(model_name, cfg).eval()
        reinit(model, 1000 + seed, sdtype)
        model = model.double()
        toks, margins = greedy(model, PROMPT, N_GREEDY)
        m = min(margins)
        if best is None or m > best[0]:
            best = (m, seed, model, cfg)
    _, seed, model, cfg = best
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, f"{name}.config-full.json"), "w") as f:
        json.dump(jsonable(cfg.to_dict()), f, indent=1, sort_keys=True)
    d = os.path.join(out, "hf", name)
    os.makedirs(d, exist_ok=True)
    model.to(sdtype).save_pretrained(d, safe_serialization=True)
    gen = os.path.join(d, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)
    # the reference: the SAVED checkpoint, reloaded, in float64
    cls = getattr(transformers, model_name)
    try:
        m2 = cls.from_pretrained(d, dtype=torch.float64, attn_implementation="eager")
    except TypeError:
        m2 = cls.from_pretrained(d, torch_dtype=torch.float64, attn_implementation="eager")
    m2 = m2.double().eval()
    toks, margins = greedy(m2, PROMPT, N_GREEDY)
    seq = PROMPT + toks[:-1]
    lg = all_logits(m2, seq)
    # the same in float32 (what a user running transformers gets)
    m32 = m2.float()
    toks32, _ = greedy(m32, PROMPT, N_GREEDY)
    lg32 = all_logits(m32, seq)
    m2 = m2.double()
    extra = {}
    if name == "mistral":
        cfg_nw = make_config(cfg_name, dict(kw, sliding_window=None))
        m_nw = make_model(model_name, cfg_nw).eval().double()
        m_nw.load_state_dict(m2.state_dict())
        extra["window_effect_max_abs_logit"] = float((all_logits(m_nw, seq) - lg).abs().max())
    from safetensors.torch import save_file

    save_file({"logits": lg.float().contiguous()}, os.path.join(d, "reference.safetensors"), metadata={"format": "pt"})
    ref = {
        "model": name,
        "prompt": PROMPT,
        "greedy": toks,
        "logits_tokens": seq,
        "seed": 1000 + seed,
        "storage_dtype": store,
        "min_margin": min(margins),
        "min_margin_first16": min(margins[:16]),
        "float32_greedy_equal": toks32 == toks,
        "float32_vs_float64_max_abs_logit": float((lg32.double() - lg).abs().max()),
        "attn_implementation": getattr(m2.config, "_attn_implementation", None),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        **extra,
    }
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    log(f"  {name}: seed {1000 + seed}, min margin {min(margins):.3f}, greedy {toks}, f32 equal {toks32 == toks}, {ref['float32_vs_float64_max_abs_logit']:.2e} f32/f64, {extra}")
    return ref


def train_tokenizer(kind: str) -> Tokenizer:
    if kind in ("bytelevel", "bytelevel-split"):
        tok = Tokenizer(models.BPE())
        if kind == "bytelevel":
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            specials = ["<|endoftext|>"]
        else:
            tok.pre_tokenizer = pre_tokenizers.Sequence(
                [pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
            )
            specials = ["<|begin_of_text|>", "<|end_of_text|>"]
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=480, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(CORPUS, trainer)
        return tok
    if kind == "spm-bytefallback":
        # Llama 2 layout: <unk> <s> </s>, then the 256 byte tokens, then the learned pieces
        tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
        trainer = trainers.BpeTrainer(vocab_size=250, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
        tok.train_from_iterator(CORPUS, trainer)
        j = json.loads(tok.to_str())
        vocab = j["model"]["vocab"]
        nspecial = 3
        shifted = {p: (i if i < nspecial else i + 256) for p, i in vocab.items()}
        for b in range(256):
            shifted[f"<0x{b:02X}>"] = nspecial + b
        j["model"]["vocab"] = shifted
        for a in j["added_tokens"]:
            if a["id"] >= nspecial:
                a["id"] += 256
        return Tokenizer.from_str(json.dumps(j))
    if kind == "metaspace":
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
        trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
        tok.train_from_iterator(CORPUS, trainer)
        return tok
    raise ValueError(kind)


def tokenizer_fixture(kind: str, out: str) -> None:
    tok = train_tokenizer(kind)
    d = os.path.join(out, "tokenizers", kind)
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    cases = []
    for t in TEXTS:
        e = tok.encode(t, add_special_tokens=False)
        cases.append({"text": t, "ids": e.ids, "tokens": e.tokens, "decoded": tok.decode(e.ids, skip_special_tokens=True)})
    ref = {"kind": kind, "vocab_size": tok.get_vocab_size(with_added_tokens=True), "tokenizers_version": tokenizers.__version__, "cases": cases}
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")
    log(f"  tokenizer {kind}: vocab {ref['vocab_size']}, {sum(len(c['ids']) for c in cases)} ids")


def dump_sources(info: str) -> None:
    import importlib

    os.makedirs(info, exist_ok=True)
    mods = ["transformers.modeling_rope_utils", "transformers.masking_utils", "transformers.configuration_utils", "transformers.activations", "transformers.pytorch_utils"]
    for mt in CONFIG_CLASSES:
        mods += [f"transformers.models.{mt}.configuration_{mt}", f"transformers.models.{mt}.modeling_{mt}"]
    for m in mods:
        try:
            src = inspect.getsource(importlib.import_module(m))
            with open(os.path.join(info, m + ".py"), "w") as f:
                f.write(src)
        except Exception as e:
            log(f"  source {m}: {e!r}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-sources", action="store_true")
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.use_deterministic_algorithms(True)
    fx = os.path.join(a.out, "fixtures")
    shutil.rmtree(fx, ignore_errors=True)
    os.makedirs(fx)
    log(f"transformers {transformers.__version__}, torch {torch.__version__}, tokenizers {tokenizers.__version__}")
    failed = []
    try:
        config_fields(fx)
    except Exception:
        traceback.print_exc()
        failed.append("config-fields")
    for name in SPECS:
        try:
            build(name, fx, os.path.join(a.out, "info"))
        except Exception:
            traceback.print_exc()
            failed.append(name)
    for kind in ("bytelevel", "bytelevel-split", "spm-bytefallback", "metaspace"):
        try:
            tokenizer_fixture(kind, fx)
        except Exception:
            traceback.print_exc()
            failed.append(kind)
    if not a.no_sources:
        dump_sources(os.path.join(a.out, "info"))
    log("FAILED: " + ", ".join(failed) if failed else "all fixtures written")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
