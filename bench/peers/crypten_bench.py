#!/usr/bin/env python3
"""CrypTen counterpart of the peers suite's blocks (bench/peers-ops.ts defines sizes, inputs and
the output layout; this file mirrors them). Run by bench/peers-crypten.ts:
  crypten_bench.py OUTDIR OP VARIANT REPS WARMUP quick|full
2 parties + a trusted third party (CrypTen's TTP provider) in 3 processes, gloo over loopback.
Config: bench.yaml (CrypTen's defaults except precision_bits 18, provider TTP, verbose
communication statistics, reciprocal_all_pos True).

Per run: WARMUP + REPS executions of the op in one process (the first one is reported as the
cold latency), latency on rank 0, CPU time (process_time) of each party process. Writes OUTDIR/result-<rank>.json per process and
OUTDIR/out.f64 (rank 0: the last output decoded to float64, canonical layout of peers-ops.ts).

Bytes: every process counts the bytes it SENDS through torch.distributed during ONE execution
(counted below at the torch.distributed calls; CrypTen's own counter mixes sent and received
elements), the TTP process included, so the three processes compare with mpcache's three
parties. Rounds: CrypTen's count of communication calls on rank 1 (party to party only; rank
0's count also has the TTP requests, reported separately as ttp_requests)."""
import json, os, sys, time, uuid, multiprocessing, logging, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, 'bench.yaml')
F = 18
LN_EPS = 1e-5
FULL = dict(n=100000, rows=100, cols=1000, mm=(128, 768, 768), ln=(128, 768), tk=(32, 1024, 64))
QUICK = dict(n=10000, rows=10, cols=1000, mm=(16, 768, 768), ln=(16, 768), tk=(4, 1024, 64))


def values(n, lo, hi, seed):
    # identical to values() in bench/peers-ops.ts (public benchmark inputs)
    import numpy as np
    s = (seed * 2654435761) % 2**32
    out = np.empty(n)
    for i in range(n):
        s = (s * 1664525 + 1013904223) % 2**32
        out[i] = lo + (hi - lo) * s / 2**32
    return out


class SentCounter:
    """Bytes this process sends through torch.distributed (logical algorithm volume)."""

    def __init__(self):
        import torch.distributed as dist
        self.dist = dist
        self.sent = 0
        for name in ('send', 'isend', 'broadcast', 'all_reduce', 'all_gather', 'scatter', 'gather', 'reduce'):
            orig = getattr(dist, name)
            setattr(dist, name, self._wrap(name, orig))

    def _wrap(self, name, orig):
        def counted(*args, **kwargs):
            self.sent += self._bytes(name, args, kwargs)
            return orig(*args, **kwargs)
        return counted

    def _bytes(self, name, args, kw):
        dist = self.dist
        group = kw.get('group')
        ws = dist.get_world_size(group) if group is not None else dist.get_world_size()
        me = dist.get_rank()
        nb = lambda t: t.nelement() * t.element_size()
        if name in ('send', 'isend'):
            return nb(args[0] if args else kw['tensor'])
        if name == 'broadcast':
            t = args[0] if args else kw['tensor']
            src = args[1] if len(args) > 1 else kw['src']
            return nb(t) * (ws - 1) if src == me else 0
        if name == 'all_reduce':
            t = args[0] if args else kw['tensor']
            return nb(t) * 2 * (ws - 1) // ws      # ring all-reduce: reduce-scatter + all-gather
        if name == 'all_gather':
            return nb(args[1]) * (ws - 1)
        if name == 'scatter':
            lst = args[1] if len(args) > 1 else kw.get('scatter_list')
            src = args[2] if len(args) > 2 else kw.get('src')
            return sum(nb(t) for i, t in enumerate(lst) if i != me) if (src == me and lst) else 0
        if name in ('gather', 'reduce'):
            dst = args[1] if len(args) > 1 else kw.get('dst')
            t = args[0] if args else kw['tensor']
            return 0 if dst == me else nb(t)
        return 0


def nr_iters(fn, variant):
    """variant 'nr<K>': fn with K Newton iterations in inv_sqrt instead of CrypTen's default 3
    (its initial guess is poor for small inputs: 4 reach ~3e-5 on [0.1, 100], 8 reach ~1e-3
    on [0.01, 25], the variances of the LayerNorm rows)"""
    if not variant.startswith('nr'):
        return fn
    import crypten
    def run():
        with crypten.cfg.temp_override({'functions.sqrt_nr_iters': int(variant[2:])}):
            return fn()
    return run


def build(op, variant, S):
    """(fn, decode): fn() runs the op once; decode(z) -> float64 numpy array, canonical layout."""
    import torch, crypten, numpy as np
    n = S['n']
    dec = lambda z, scale=None: (z._tensor.reveal().double() / (scale or z._tensor.encoder.scale)).numpy().reshape(-1)
    if op in ('mul', 'fxmul', 'lt'):
        xv, yv = values(n, -10, 10, 1), values(n, -10, 10, 2)
        if op == 'mul':   # ring product of the fixed-point encodings, no truncation (as mpcache mul)
            xi = torch.tensor(np.round(xv * 2**F).astype(np.int64)); yi = torch.tensor(np.round(yv * 2**F).astype(np.int64))
            x = crypten.cryptensor(xi, src=0, precision=0); y = crypten.cryptensor(yi, src=1, precision=0)
            return (lambda: x * y), (lambda z: dec(z, 2.0 ** (2 * F)))
        x = crypten.cryptensor(torch.tensor(xv), src=0); y = crypten.cryptensor(torch.tensor(yv), src=1)
        return ((lambda: x * y) if op == 'fxmul' else (lambda: x < y)), dec
    if op in ('exp', 'reciprocal', 'gelu', 'silu', 'rsqrt'):
        lo, hi, seed = {'exp': (-14, 0, 6), 'reciprocal': (1, 1000, 6), 'gelu': (-8, 8, 7), 'silu': (-8, 8, 7), 'rsqrt': (0.1, 100, 8)}[op]
        x = crypten.cryptensor(torch.tensor(values(n, lo, hi, seed)), src=1)
        if op == 'gelu':
            # CrypTen has no GeLU: its erf (Taylor series) or the sigmoid form x * sigmoid(1.702 x)
            if variant == 'erf':
                return (lambda: x * (0.5 * ((x * (2 ** -0.5)).erf() + 1))), dec
            return (lambda: x * (x * 1.702).sigmoid()), dec
        fn = {'exp': lambda: x.exp(), 'reciprocal': lambda: x.reciprocal(), 'silu': lambda: x * x.sigmoid(),
              'rsqrt': lambda: x.inv_sqrt()}[op]
        return nr_iters(fn, variant), dec
    if op in ('softmax', 'argmax'):
        R, C = S['rows'], S['cols']
        x = crypten.cryptensor(torch.tensor(values(R * C, -8, 8, 6 if op == 'softmax' else 3).reshape(R, C)), src=1)
        if op == 'softmax':
            return (lambda: x.softmax(1)), dec
        return (lambda: x.argmax(dim=1, one_hot=True)), (lambda z: dec(z).reshape(R, C).argmax(1).astype(np.float64))
    if op == 'matmul':
        m, k, nn = S['mm']
        x = crypten.cryptensor(torch.tensor(values(m * k, -1, 1, 4).reshape(m, k)), src=1)
        w = crypten.cryptensor(torch.tensor(values(k * nn, -0.1, 0.1, 5).reshape(k, nn)), src=0)
        return (lambda: x.matmul(w)), dec
    if op == 'layernorm':
        rows, d = S['ln']
        v = values(rows * d, -1, 1, 9).reshape(rows, d) * values(rows, 0.2, 8, 10).reshape(rows, 1)
        x = crypten.cryptensor(torch.tensor(v), src=1)
        def layernorm():
            xc = x - x.mean(1, keepdim=True)
            var = (xc * xc).mean(1, keepdim=True)
            return xc * (var + LN_EPS).inv_sqrt()
        return nr_iters(layernorm, variant), dec
    if op == 'topk':
        # CrypTen has no top-k or sort: k successive one-hot argmaxes, each winner pushed below
        # every other value (the values lie in [-8, 8))
        rows, nn, k = S['tk']
        x0 = crypten.cryptensor(torch.tensor(values(rows * nn, -8, 8, 11).reshape(rows, nn)), src=1)
        def topk():
            x = x0
            vals = []
            for _ in range(k):
                oh = x.argmax(dim=1, one_hot=True)
                vals.append((x * oh).sum(1, keepdim=True))
                x = x - oh * 64
            return crypten.cat(vals, dim=1)
        return topk, dec
    raise ValueError('unknown op ' + op)


def job(outdir, op, variant, reps, warmup, quick):
    import torch, crypten, numpy as np
    import crypten.communicator as comm
    from crypten.mpc.provider.ttp_provider import TTPClient
    torch.set_num_threads(1)
    rank = comm.get().get_rank()
    counter = SentCounter()
    ttp = {'bytes': 0, 'requests': 0}
    if rank == 0:
        client = TTPClient.get()
        orig = client.ttp_request
        def counted(*a, **kw):
            r = orig(*a, **kw)
            ttp['bytes'] += r.nelement() * r.element_size()
            ttp['requests'] += 1
            return r
        client.ttp_request = counted
    fn, decode = build(op, variant, QUICK if quick else FULL)
    ms, cpu_ms, cold_ms, stats, sent, ttp_one = [], [], None, None, None, None
    z = None
    for r in range(warmup + reps):
        comm.get().barrier()
        comm.get().reset_communication_stats()
        s0, t0 = counter.sent, dict(ttp)
        c = time.process_time()
        t = time.perf_counter()
        z = fn()
        wall = time.perf_counter() - t
        cpu = time.process_time() - c
        if r == 0:
            stats = dict(comm.get().get_communication_stats())
            sent = counter.sent - s0
            ttp_one = {k: ttp[k] - t0[k] for k in ttp}
            cold_ms = wall * 1000
        if r >= warmup:
            ms.append(wall * 1000)
            cpu_ms.append(cpu * 1000)
    comm.get().barrier()
    rec = {'op': op, 'variant': variant, 'rank': rank, 'ms': ms, 'cpu_ms': cpu_ms, 'cold_ms': cold_ms, 'bytes_sent': sent,
           'crypten_rounds': stats['rounds'], 'crypten_bytes_logged': stats['bytes']}
    if rank == 0:
        rec['ttp_bytes_sent'] = ttp_one['bytes']
        rec['ttp_requests'] = ttp_one['requests']
        # decode the revealed ring elements directly: CrypTen's FixedPointEncoder.decode goes through
        # float32 and a floor-division that is off by up to 1.0 for negatives
        out = np.ascontiguousarray(decode(z), dtype='<f8')
        out.tofile(os.path.join(outdir, 'out.f64'))
    else:
        decode(z)   # the reveal is a collective
    with open(os.path.join(outdir, f'result-{rank}.json'), 'w') as f:
        json.dump(rec, f)


def run_process(rank, env, args):
    os.environ.update(env)
    os.environ['RANK'] = str(rank)
    import crypten
    logging.getLogger().setLevel(logging.WARNING)
    crypten.init(config_file=CONFIG)
    if args is None:
        crypten.mpc.provider.TTPServer()
    else:
        job(*args)


if __name__ == '__main__':
    outdir, op, variant, reps, warmup, size = sys.argv[1:7]
    multiprocessing.set_start_method('spawn')
    env = {'WORLD_SIZE': '2', 'RENDEZVOUS': 'file://' + os.path.join(tempfile.gettempdir(), f'crypten-rendezvous-{uuid.uuid1()}'),
           'GLOO_SOCKET_IFNAME': 'lo', 'MASTER_ADDR': '127.0.0.1', 'OMP_NUM_THREADS': '1'}
    args = (outdir, op, variant, int(reps), int(warmup), size == 'quick')
    procs = [multiprocessing.Process(target=run_process, args=(r, env, args)) for r in range(2)]
    procs.append(multiprocessing.Process(target=run_process, args=(2, env, None)))
    for p in procs: p.start()
    for p in procs[:2]: p.join()
    procs[2].join(timeout=30)
    if procs[2].is_alive(): procs[2].terminate()
    codes = [p.exitcode for p in procs[:2]]
    if any(codes): sys.exit(f'crypten parties failed: {codes}')
