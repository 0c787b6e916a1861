/**
 * Role rotation: run a protocol on three chunks of the elements at once, with the party
 * roles rotated per chunk (in chunk r, physical party i plays role i - r), so that work and
 * traffic that a protocol puts on "P0" are spread evenly over the three parties.
 *
 * Why it is sound. A replicated share is role-symmetric: physical party i holds
 * (x_i, x_{i+1}); renaming x'_j = x_{j+r} makes it hold (x'_{i-r}, x'_{i-r+1}), exactly what
 * role i - r holds. So chunk r of a share IS the share for the rotated roles, and the
 * results come back the same way. Each role pair (rho, rho+1) of chunk r is the physical
 * pair (i, i+1), so its PRG streams are derived from that pair's streams: every chunk gets
 * fresh 16-byte seeds drawn, in chunk order, from the physical next/prev/common/own streams
 * (both holders draw them at the same point of the program), so the chunks never share
 * keystream and the holders of a stream stay in step.
 *
 * Rounds: the three chunks run the same program, so their exchanges line up; a multiplexer
 * merges the three chunks' round into ONE physical exchange (per peer: the chunks' payloads
 * concatenated behind a 3-word header of lengths). Costs 24 bytes per message, no rounds.
 * Reveals nothing beyond what the wrapped protocol reveals: the messages are the wrapped
 * protocol's messages, grouped.
 */
import type { U64 } from '../kernels/api.js';
import {
  type Channel,
  type ChannelStats,
  type ExchangeRequest,
  type PartyId,
  type Payload,
  emptyChannelStats,
} from './channel.js';
import { Context } from './context.js';
import { MpcError } from './errors.js';
import { shareScratch } from './scratch.js';

interface Pending {
  readonly req: ExchangeRequest;
  readonly resolve: (m: Map<PartyId, Payload>) => void;
  readonly reject: (e: unknown) => void;
}

const physOf = (virt: PartyId, r: number): PartyId => ((virt + r) % 3) as PartyId;
const virtOf = (phys: PartyId, r: number): PartyId => ((phys - r + 3) % 3) as PartyId;

/** Merges the rounds of the three rotated chunks into one exchange on the real channel. */
class RoundMux {
  private pending: (Pending | undefined)[] = [undefined, undefined, undefined];

  constructor(private readonly ctx: Context) {}

  submit(r: number, req: ExchangeRequest): Promise<Map<PartyId, Payload>> {
    return new Promise((resolve, reject) => {
      if (this.pending[r] !== undefined) {
        reject(new MpcError('MPC_ERR_PROTOCOL', 'rotated chunk started two exchanges in one round', { party: this.ctx.party, step: req.step }));
        return;
      }
      this.pending[r] = { req, resolve, reject };
      if (this.pending.every((p) => p !== undefined)) void this.fire();
    });
  }

  private async fire(): Promise<void> {
    const all = this.pending as Pending[];
    this.pending = [undefined, undefined, undefined];
    const ctx = this.ctx;
    try {
      const step = all[0].req.step;
      if (all.some((p) => p.req.step !== step)) {
        throw new MpcError('MPC_ERR_PROTOCOL', `rotated chunks disagree on the step (${all.map((p) => p.req.step).join(', ')})`, { party: ctx.party, step });
      }
      const send: Partial<Record<PartyId, Payload>> = {};
      const recv = new Set<PartyId>();
      for (const peer of [ctx.next, ctx.prev]) {
        const parts = all.map((p, r) => p.req.send?.[virtOf(peer, r)]);
        if (parts.some((x) => x !== undefined)) send[peer] = pack(parts, ctx, step);
        all.forEach((p, r) => {
          if (p.req.recv?.includes(virtOf(peer, r))) recv.add(peer);
        });
      }
      const got = await ctx.ch.exchange({ step, send, recv: [...recv] });
      const split = new Map<PartyId, (U64 | undefined)[]>();
      for (const peer of recv) split.set(peer, unpack(got.get(peer), ctx, peer, step));
      all.forEach((p, r) => {
        const m = new Map<PartyId, Payload>();
        for (const v of p.req.recv ?? []) {
          const part = split.get(physOf(v, r))?.[r];
          if (part === undefined) throw new MpcError('MPC_ERR_PROTOCOL', `no payload for rotated chunk ${r} from party ${physOf(v, r)}`, { party: ctx.party, peer: physOf(v, r), step });
          m.set(v, part);
        }
        p.resolve(m);
      });
    } catch (e) {
      for (const p of all) p.reject(e);
    }
  }
}

/** Header [len0+1 | 0, len1+1 | 0, len2+1 | 0] (0 = nothing from that chunk), then the parts. */
function pack(parts: (Payload | undefined)[], ctx: Context, step: string): U64 {
  let n = 3;
  for (const p of parts) {
    if (p !== undefined && !(p instanceof BigUint64Array)) throw new MpcError('MPC_ERR_PROTOCOL', 'rotated protocols send 64-bit words only', { party: ctx.party, step });
    n += p?.length ?? 0;
  }
  const out = new BigUint64Array(n);
  let off = 3;
  parts.forEach((p, r) => {
    if (p === undefined) return;
    out[r] = BigInt(p.length + 1);
    out.set(p as U64, off);
    off += p.length;
  });
  return out;
}

function unpack(p: Payload | undefined, ctx: Context, peer: PartyId, step: string): (U64 | undefined)[] {
  const bad = (why: string) => new MpcError('MPC_ERR_PROTOCOL', `bad rotated payload from party ${peer}: ${why}`, { party: ctx.party, peer, step });
  if (!(p instanceof BigUint64Array) || p.length < 3) throw bad('missing header');
  const out: (U64 | undefined)[] = [];
  let off = 3;
  for (let r = 0; r < 3; r++) {
    const h = p[r];
    if (h === 0n) {
      out.push(undefined);
      continue;
    }
    const len = Number(h - 1n);
    if (!Number.isSafeInteger(len) || off + len > p.length) throw bad('lengths exceed the payload');
    out.push(p.subarray(off, off + len));
    off += len;
  }
  if (off !== p.length) throw bad('trailing words');
  return out;
}

/** The channel a rotated chunk sees: virtual party ids, rounds merged by the multiplexer. */
class ChunkChannel implements Channel {
  readonly stats: ChannelStats = emptyChannelStats();
  constructor(
    readonly self: PartyId,
    private readonly r: number,
    private readonly mux: RoundMux,
    private readonly real: Channel,
  ) {}
  exchange(req: ExchangeRequest): Promise<Map<PartyId, Payload>> {
    return this.mux.submit(this.r, req);
  }
  abort(error: Error): Promise<void> {
    return this.real.abort(error);
  }
  async close(): Promise<void> {
    // the real channel outlives the chunk
  }
}

function seed16(stream: Context['prgNext']): Uint8Array {
  return stream.fill(new Uint8Array(16));
}

/**
 * Split n elements into three word-aligned chunks (multiples of 64 elements except the last
 * non-empty one) and run `fn` on each with rotated roles; returns the three results in chunk
 * order. `fn` receives the chunk's Context and its element range [lo, hi).
 */
export async function rotated<T>(ctx: Context, n: number, fn: (v: Context, lo: number, hi: number) => Promise<T>): Promise<[T, T, T]> {
  const W = Math.ceil(n / 64);
  const bounds: [number, number][] = [];
  let w = 0;
  for (let r = 0; r < 3; r++) {
    const wr = Math.floor(W / 3) + (r < W % 3 ? 1 : 0);
    bounds.push([Math.min(n, 64 * w), Math.min(n, 64 * (w + wr))]);
    w += wr;
  }
  const mux = new RoundMux(ctx);
  const chunks = bounds.map(([lo, hi], r) => {
    const v = virtOf(ctx.party, r);
    const seeds = { next: seed16(ctx.prgNext), prev: seed16(ctx.prgPrev), common: seed16(ctx.prgCommon), own: seed16(ctx.prgOwn) };
    const vctx = new Context(v, new ChunkChannel(v, r, mux, ctx.ch), ctx.k, seeds, { fracBits: ctx.f });
    shareScratch(vctx, ctx);
    return { vctx, lo, hi };
  });
  const results = await Promise.all(chunks.map((c) => fn(c.vctx, c.lo, c.hi)));
  return results as [T, T, T];
}

/** The physical channel seen with the party ids renamed by a rotation r (virtual v = physical p - r). */
class RenamedChannel implements Channel {
  constructor(
    readonly self: PartyId,
    private readonly r: number,
    private readonly real: Channel,
  ) {}
  get stats(): ChannelStats {
    return this.real.stats;
  }
  async exchange(req: ExchangeRequest): Promise<Map<PartyId, Payload>> {
    const send: Partial<Record<PartyId, Payload>> = {};
    for (const v of [0, 1, 2] as const) {
      const p = req.send?.[v];
      if (p !== undefined) send[physOf(v, this.r)] = p;
    }
    const got = await this.real.exchange({ step: req.step, send, recv: req.recv?.map((v) => physOf(v, this.r)) });
    const out = new Map<PartyId, Payload>();
    for (const [p, payload] of got) out.set(virtOf(p, this.r), payload);
    return out;
  }
  abort(error: Error): Promise<void> {
    return this.real.abort(error);
  }
  async close(): Promise<void> {
    // the real channel outlives the renaming
  }
}

interface Rolling {
  next: number;
  readonly ctxs: (Context | undefined)[];
}
const rolling = new WeakMap<Context, Rolling>();

/**
 * Role rotation across CALLS (for tensors below ROTATE_MIN, where splitting into chunks costs
 * more than it saves): successive calls on a context run with the roles rotated by 0, 1, 2,
 * 0, ... so the role that sends most (P0 of trunc and of the fused product-truncation) moves
 * from party to party, with no extra message and no framing. Sound for the same reason as
 * `rotated` (a replicated share is role-symmetric; the rotated contexts get their own
 * seeds, drawn once, at the same point of the program on every party, from the physical
 * streams of the pair they belong to). All parties make the same calls in the same order,
 * so they agree on each call's rotation.
 */
export function rolled<T>(ctx: Context, fn: (v: Context) => Promise<T>): Promise<T> {
  let st = rolling.get(ctx);
  if (st === undefined) {
    st = { next: 0, ctxs: [ctx, undefined, undefined] };
    rolling.set(ctx, st);
  }
  const r = st.next;
  st.next = (r + 1) % 3;
  if (st.ctxs[r] === undefined) {
    // both rotated contexts at once, so every party draws their seeds at the same point
    for (const rr of [1, 2]) {
      const v = virtOf(ctx.party, rr);
      const seeds = { next: seed16(ctx.prgNext), prev: seed16(ctx.prgPrev), common: seed16(ctx.prgCommon), own: seed16(ctx.prgOwn) };
      const vctx = new Context(v, new RenamedChannel(v, rr, ctx.ch), ctx.k, seeds, { fracBits: ctx.f });
      shareScratch(vctx, ctx);
      st.ctxs[rr] = vctx;
    }
  }
  return fn(st.ctxs[r]!);
}
