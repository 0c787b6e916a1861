"""Trains the project's default model (models/default) on one GPU.

  python3 train/train.py --data train/out/data --out OUTDIR [--budget-s 420] [--compile]

A Llama-architecture decoder in the Hugging Face LlamaForCausalLM form (tensor names,
rotate-half RoPE, RMSNorm eps 1e-5, SwiGLU, tied embeddings), so the exported
model.safetensors + config.json load through models/hf-checkpoint.ts (which converts the q/k
rows to the project's adjacent-pair RoPE order). Data: corpus text (prepare.py) mixed with
synthetic long-context episodes (synthetic.py); every sequence is BOS + seq_len tokens.
The learning-rate schedule runs on wall time (cosine over --budget-s), so the run ends on
time whatever the throughput. The model is exported to OUTDIR at every evaluation, so a
run cut short still leaves a model. Final evaluation uses the fp16-rounded weights in
float32, as the TypeScript reference computes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import synthetic  # noqa: E402
from data import MIX, BatchMaker, passkey_prompts, val_rows  # noqa: E402

MODEL = dict(dim=192, hidden=512, n_layers=6, n_heads=6, n_kv_heads=3, vocab=4096, seq_len=2048, eps=1e-5, theta=10000.0)


class Batches(torch.utils.data.IterableDataset):
    """One BatchMaker per DataLoader worker (seeded by the worker id)."""

    def __init__(self, data: str, B: int, T: int, seed: int, mix: dict[str, float]):
        self.data, self.B, self.T, self.seed, self.mix = data, B, T, seed, mix

    def __iter__(self):
        wi = torch.utils.data.get_worker_info()
        bm = BatchMaker(self.data, self.B, self.T, self.seed * 100 + (wi.id if wi is not None else 0), self.mix)
        while True:
            yield torch.from_numpy(bm.batch())


# --- model ------------------------------------------------------------------------------------

class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


def rope_cos_sin(T: int, hd: int, theta: float, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64, device=device).float() / hd))
    f = torch.outer(torch.arange(T, device=device).float(), inv)
    emb = torch.cat([f, f], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, H, KV = c["dim"], c["n_heads"], c["n_kv_heads"]
        self.H, self.KV, self.hd = H, KV, d // H
        self.q_proj = nn.Linear(d, H * self.hd, bias=False)
        self.k_proj = nn.Linear(d, KV * self.hd, bias=False)
        self.v_proj = nn.Linear(d, KV * self.hd, bias=False)
        self.o_proj = nn.Linear(H * self.hd, d, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, want_probs: bool = False):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.KV, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.KV, self.hd).transpose(1, 2)
        dt = q.dtype
        q = (q.float() * cos + rotate_half(q.float()) * sin).to(dt)
        k = (k.float() * cos + rotate_half(k.float()) * sin).to(dt)
        G = self.H // self.KV
        k = k.repeat_interleave(G, dim=1)
        v = v.repeat_interleave(G, dim=1)
        probs = None
        if want_probs:
            s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(self.hd)
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1), float("-inf"))
            probs = s.softmax(-1)
            y = (probs @ v.float()).to(dt)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).reshape(B, T, self.H * self.hd)
        return self.o_proj(y), probs


class MLP(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.gate_proj = nn.Linear(c["dim"], c["hidden"], bias=False)
        self.up_proj = nn.Linear(c["dim"], c["hidden"], bias=False)
        self.down_proj = nn.Linear(c["hidden"], c["dim"], bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.input_layernorm = RMSNorm(c["dim"], c["eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["dim"], c["eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, want_probs=False):
        a, p = self.self_attn(self.input_layernorm(x), cos, sin, want_probs)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, p


class Llama(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab"], c["dim"])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["n_layers"])])
        self.norm = RMSNorm(c["dim"], c["eps"])
        self.hd = c["dim"] // c["n_heads"]
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c["n_layers"]) if n.endswith(("o_proj.weight", "down_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx: torch.Tensor, want_probs: bool = False):
        B, T = idx.shape
        cos, sin = rope_cos_sin(T, self.hd, self.c["theta"], idx.device)
        x = self.embed_tokens(idx)
        probs = []
        for layer in self.layers:
            x, p = layer(x, cos, sin, want_probs)
            probs.append(p)
        x = self.norm(x)
        logits = x @ self.embed_tokens.weight.to(x.dtype).t()  # tied output head
        return (logits, probs) if want_probs else logits


def hf_state_dict(model: Llama) -> dict[str, torch.Tensor]:
    out = {}
    for n, p in model.state_dict().items():
        out["model." + n] = p.detach().to(torch.float16).contiguous().cpu()
    return out


def hf_config(c: dict) -> dict:
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
        "hidden_size": c["dim"], "intermediate_size": c["hidden"], "num_hidden_layers": c["n_layers"],
        "num_attention_heads": c["n_heads"], "num_key_value_heads": c["n_kv_heads"], "head_dim": c["dim"] // c["n_heads"],
        "vocab_size": c["vocab"], "max_position_embeddings": c["seq_len"], "rms_norm_eps": c["eps"],
        "rope_theta": c["theta"], "rope_scaling": None, "attention_bias": False, "mlp_bias": False,
        "tie_word_embeddings": True, "torch_dtype": "float16", "bos_token_id": bpe.BOS, "eos_token_id": bpe.EOS,
    }


def export(model: Llama, out: str, data: str) -> None:
    from safetensors.torch import save_file

    save_file(hf_state_dict(model), os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(hf_config(model.c), f, indent=2)
        f.write("\n")
    with open(os.path.join(data, "tokenizer.bin"), "rb") as f, open(os.path.join(out, "tokenizer.bin"), "wb") as g:
        g.write(f.read())


# --- evaluation -----------------------------------------------------------------------------

@torch.no_grad()
def passkey_accuracy(model: Llama, prompts, answers, device, autocast: bool) -> float:
    ok = 0
    for p, a in zip(prompts, answers):
        x = torch.tensor([p + a[:-1]], device=device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            logits = model(x)
        pred = logits[0, len(p) - 1:].argmax(-1).tolist()
        ok += int(pred == a)
    return ok / len(prompts)


@torch.no_grad()
def val_loss(model: Llama, vb: torch.Tensor, device, autocast: bool, bs: int = 16) -> float:
    tot, n = 0.0, 0
    for i in range(0, len(vb), bs):
        x = vb[i:i + bs].to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum")
        tot += loss.item()
        n += x[:, 1:].numel()
    return tot / n


# --- main -------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-s", type=float, default=420.0, help="training wall time (the cosine schedule's length)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--eval-every-s", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=14)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--bench", action="store_true", help="time eager vs compiled steps first")
    ap.add_argument("--hf-check", action="store_true", help="compare logits with transformers' LlamaForCausalLM")
    ap.add_argument("--final-n", type=int, default=200, help="passkey prompts per final evaluation setting")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", type=json.loads, default=MIX, help='JSON shares, e.g. {"text":0.5,"passkey":0.22,"kv":0.15,"copy":0.13}')
    args = ap.parse_args()
    t_start = time.time()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    c = dict(MODEL)
    T = c["seq_len"]
    log_f = open(os.path.join(args.out, "log.jsonl"), "w")

    def log(d: dict) -> None:
        d["wall_s"] = round(time.time() - t_start, 2)
        print(json.dumps(d), flush=True)
        log_f.write(json.dumps(d) + "\n")
        log_f.flush()

    tok = bpe.Tokenizer.load(os.path.join(args.data, "tokenizer.bin"))
    assert tok.vocab_size == c["vocab"]
    enc = bpe.Encoder(tok)
    model = Llama(c).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    log({"event": "start", "params": n_params, "config": c, "mix": args.mix, "args": vars(args), "torch": torch.__version__,
         "gpu": torch.cuda.get_device_name(0)})

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)
    loader = torch.utils.data.DataLoader(Batches(args.data, args.batch, T, args.seed, args.mix), batch_size=None,
                                         num_workers=args.workers, prefetch_factor=4, pin_memory=True, persistent_workers=True)
    it = iter(loader)
    vb = torch.from_numpy(val_rows(args.data, T, 64))
    stream_val = np.fromfile(os.path.join(args.data, "text_val.bin"), dtype=np.uint16)
    words = open(os.path.join(args.data, "words.txt")).read().split()
    syn_eval = synthetic.Synth(enc, stream_val, words, T, 999)
    pk_quick = passkey_prompts(enc, 32, 1024, 7)

    def step_fn(m, x):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = m(x[:, :-1])
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))

    fwd = torch.compile(model) if args.compile else model

    if args.bench:
        x = next(it).to(dev, non_blocking=True)
        for name, m in (("eager", model), ("compiled", torch.compile(model))):
            t0 = time.time()
            loss = step_fn(m, x)
            loss.backward()
            torch.cuda.synchronize()
            first = time.time() - t0
            t0 = time.time()
            for _ in range(8):
                loss = step_fn(m, x)
                loss.backward()
            torch.cuda.synchronize()
            log({"event": "bench", "mode": name, "first_step_s": round(first, 2), "step_ms": round((time.time() - t0) / 8 * 1000, 1),
                 "mem_gb": round(torch.cuda.max_memory_allocated() / 1e9, 1)})
        opt.zero_grad(set_to_none=True)
        t0 = time.time()
        for _ in range(20):
            next(it)
        log({"event": "bench", "mode": "data", "batch_ms": round((time.time() - t0) / 20 * 1000, 1)})

    # training
    t_train0 = time.time()
    next_eval = args.eval_every_s
    step, tokens, data_wait = 0, 0, 0.0
    losses: list[torch.Tensor] = []
    curve = []
    val_curve = []
    while True:
        el = time.time() - t_train0
        if el >= args.budget_s:
            break
        frac = el / args.budget_s
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        t0 = time.time()
        x = next(it).to(dev, non_blocking=True)
        data_wait += time.time() - t0
        loss = step_fn(fwd, x)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.detach())
        step += 1
        tokens += x.shape[0] * (x.shape[1] - 1)
        if step % 50 == 0:
            l = torch.stack(losses).mean().item()
            losses.clear()
            el = time.time() - t_train0
            curve.append([step, round(el, 1), round(l, 4)])
            log({"event": "train", "step": step, "loss": round(l, 4), "lr": round(lr, 6), "gnorm": round(gn.item(), 3),
                 "tok_per_s": round(tokens / el), "data_wait_s": round(data_wait, 1), "train_s": round(el, 1)})
        if time.time() - t_train0 >= next_eval:
            next_eval += args.eval_every_s
            model.eval()
            vl = val_loss(model, vb, dev, True)
            pk = passkey_accuracy(model, *pk_quick, dev, True)
            model.train()
            val_curve.append([step, round(time.time() - t_train0, 1), round(vl, 4), pk])
            log({"event": "eval", "step": step, "val_loss": round(vl, 4), "passkey_1024_quick": pk, "tokens": tokens})
            export(model, args.out, args.data)
    train_s = time.time() - t_train0
    log({"event": "train_end", "steps": step, "tokens": tokens, "train_s": round(train_s, 1), "data_wait_s": round(data_wait, 1)})
    export(model, args.out, args.data)

    # final evaluation on the fp16-rounded weights, in float32 (as the TypeScript reference)
    from safetensors.torch import load_file

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    ev = Llama(c).to(dev)
    sd = load_file(os.path.join(args.out, "model.safetensors"))
    ev.load_state_dict({k[len("model."):]: v.float() for k, v in sd.items()})
    ev.eval()
    q: dict = {"params": n_params, "steps": step, "tokens": tokens, "train_s": round(train_s, 1), "batch": args.batch, "seq_len": T,
               "lr": args.lr, "mix": args.mix, "train_curve": curve, "val_curve": val_curve}
    q["val_loss"] = val_loss(ev, vb, dev, False, bs=8)
    # held-out sample: the CI gate recomputes this with the TypeScript reference
    docs = [d for d in open(os.path.join(args.data, "heldout-sample.txt")).read().split("\n\n") if d.strip()]
    tot, n = 0.0, 0
    per_doc = []
    with torch.no_grad():
        for d in docs:
            ids = enc.encode(d.strip("\n"), bos=True)
            x = torch.tensor([ids], device=dev)
            lp = F.log_softmax(ev(x[:, :-1]).float(), -1)
            nll = -lp[0].gather(-1, x[0, 1:, None]).sum().item()
            per_doc.append({"tokens": len(ids) - 1, "nll_mean": nll / (len(ids) - 1)})
            tot += nll
            n += len(ids) - 1
    q["heldout_sample_nll"] = tot / n
    q["heldout_sample_docs"] = per_doc
    for L in (256, 1024, 2048):
        nn_ = args.final_n if L != 2048 else max(20, args.final_n // 2)
        q[f"passkey_{L}"] = passkey_accuracy(ev, *passkey_prompts(enc, nn_, L, 100 + L), dev, False)
        q[f"passkey_{L}_n"] = nn_
        q[f"passkey_text_filler_{L}"] = passkey_accuracy(ev, *passkey_prompts(enc, nn_ // 2, L, 200 + L, syn_eval), dev, False)
    # attention sink: mean attention probability on position 0, per layer (queries 1..T-1)
    q["sink"] = {}
    with torch.no_grad():
        sets = {"text": [r[:1024].tolist() for r in vb[:4]], "passkey": passkey_prompts(enc, 4, 1024, 5)[0]}
        for name, seqs in sets.items():
            acc = torch.zeros(c["n_layers"], device=dev)
            for sq in seqs:
                _, probs = ev(torch.tensor([sq], device=dev), want_probs=True)
                acc += torch.stack([p[0, :, 1:, 0].mean() for p in probs])
            q["sink"][name] = [round(v, 4) for v in (acc / len(seqs)).tolist()]
    # logits check for the TypeScript reference
    check_text = "The pass key is 71432. Remember it. In the beginning God created the heavens and the earth."
    ids = enc.encode(check_text, bos=True)
    with torch.no_grad():
        lg = ev(torch.tensor([ids], device=dev))[0].float().cpu()
    q["check"] = {"text": check_text, "tokens": ids, "positions": [0, len(ids) // 2, len(ids) - 1],
                  "logits": [[round(v, 5) for v in lg[i, :16].tolist()] for i in (0, len(ids) // 2, len(ids) - 1)],
                  "argmax": [int(lg[i].argmax()) for i in range(len(ids))]}
    # greedy samples
    samples = []
    for prompt in ("In the beginning", "The function returns", "The country is", "A hacker is", "PostgreSQL is"):
        ids = enc.encode(prompt, bos=True)
        with torch.no_grad():
            for _ in range(40):
                nxt = int(ev(torch.tensor([ids], device=dev))[0, -1].argmax())
                if nxt == bpe.EOS:
                    break
                ids.append(nxt)
        samples.append(tok.decode(ids[1:])[1:])
    q["samples"] = samples
    if args.hf_check:
        try:
            from transformers import LlamaForCausalLM

            hf = LlamaForCausalLM.from_pretrained(args.out, torch_dtype=torch.float32).to(dev).eval()
            x = vb[:2, :512].to(dev)
            with torch.no_grad():
                a = hf(x).logits.float()
                b = ev(x).float()
            q["hf_check_max_abs_diff"] = (a - b).abs().max().item()
        except Exception as e:  # report, do not hide: the value shows up in quality.json
            q["hf_check_error"] = repr(e)
    q["wall_s"] = round(time.time() - t_start, 1)
    with open(os.path.join(args.out, "quality.json"), "w") as f:
        json.dump(q, f, indent=1)
    log({"event": "final", **{k: v for k, v in q.items() if k not in ("train_curve", "val_curve", "check")}})


if __name__ == "__main__":
    main()
