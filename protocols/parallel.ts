/**
 * The round multiplexer: independent protocol calls on one Context share physical rounds.
 *
 * ```ts
 * const [prod, sign] = await parallel(ctx, [
 *   (c) => mulFixed(c, x, y),   // 1 round
 *   (c) => ltz(c, z),           // 7 rounds
 * ]);                           // 7 physical rounds in all, not 8
 * ```
 *
 * Each call ("lane") runs on its own Context whose channel is a lane of the parent's: a
 * lane's `exchange` does not go on the wire at once; a physical round fires once every live
 * lane has submitted its exchange or finished, and carries, per peer, ONE message holding
 * every lane's payload for that peer. A finished lane no longer holds the others back, so
 * lanes may have different numbers of rounds; round t of the physical channel carries the
 * t-th exchange of every lane that has one. Lanes nest: a lane may itself call `parallel`
 * or the role rotation (rotate.ts, whose three chunks are lanes of this multiplexer with the
 * party ids renamed).
 *
 * Randomness: every lane gets its own PRG streams, four fresh 16-byte seeds drawn in lane
 * order from the parent's next/prev/common/own streams when `parallel` is called (the same
 * point of the program on every party), so lanes never share keystream, the holders of a
 * pairwise stream stay in step, and all parties agree whatever order the lanes submit in.
 *
 * Wire format of one physical message to a peer, when two or more lanes are live:
 * a header of one 64-bit word per live lane (in lane order): 0 when the lane sends nothing
 * to that peer, else 1 + 2 * length + dtype (dtype 0: `length` 64-bit words, 1: `length`
 * bytes, padded to whole words), then the lanes' payloads in lane order. A peer gets a
 * message only when some lane sends to it. With a single live lane its exchange passes
 * through unchanged (no header). The physical step tag is the lanes' common tag when they
 * agree (the rotated chunks), else their tags joined by '|' (tags longer than
 * MAX_JOINED_STEP chars are cut and suffixed with a hash of the whole), so the channel's step
 * check still checks every lane's tag. The receiver checks each header against what its own
 * lanes expect (explicit limits: the header must fit the message, every length must fit what
 * follows, the parts must fill the message exactly, a part must come exactly for the lanes
 * that expect one); any mismatch is MPC_ERR_PROTOCOL naming the peer and the step.
 *
 * Cost: rounds = the largest number of rounds of any lane (lanes align by their exchange
 * index); bytes = the sum of the lanes' payload bytes, plus 8 bytes per live lane on every
 * physical message of a round in which two or more lanes are live (the lanes' own
 * byte payloads are also padded to whole words); messages <= one per peer per round.
 * Reveals nothing beyond the lanes' own messages: the payloads are the lanes' messages,
 * grouped; the header gives their lengths, which the (public) program fixes anyway.
 *
 * Rules for lanes: they must be independent (a lane must not wait on another lane's result;
 * that would deadlock) and every lane must make the same calls on every party (as any
 * protocol). A lane's failure rejects `parallel` at once and every pending exchange of the
 * other lanes with the same error (the caller aborts the session as for any failed protocol).
 */
import type { U64 } from '../kernels/api.js';
import {
  type Channel,
  type ChannelStats,
  type ExchangeRequest,
  type PartyId,
  type Payload,
  type StepStats,
  emptyChannelStats,
  emptyStepStats,
} from './channel.js';
import type { Context } from './context.js';
import { MpcError } from './errors.js';

/** The most lanes one multiplexer runs (a bound on the header, which the receiver sizes from its own lanes). */
export const MAX_LANES = 4096;
/** Physical step tags longer than this are cut and suffixed with a hash of the whole. */
export const MAX_JOINED_STEP = 256;
/** Header bytes per live lane on every multiplexed message. */
export const LANE_HEADER_BYTES = 8;

/** The results of the lane functions, in order. */
export type LaneResults<F extends readonly ((lane: Context) => Promise<unknown>)[]> = { -readonly [K in keyof F]: Awaited<ReturnType<F[K]>> };

/**
 * Run independent protocol calls concurrently on lanes of `ctx`, sharing physical rounds;
 * resolves with their results in order. See the file header for the rules, the wire format
 * and the cost.
 */
export function parallel<const F extends readonly ((lane: Context) => Promise<unknown>)[]>(ctx: Context, lanes: F): Promise<LaneResults<F>> {
  if (!Array.isArray(lanes)) throw new TypeError('parallel: lanes must be an array of functions');
  lanes.forEach((f, i) => {
    if (typeof f !== 'function') throw new TypeError(`parallel: lanes[${i}] must be a function`);
  });
  return runLanes(ctx, lanes.map(() => 0), (lane, i) => lanes[i](lane)) as Promise<LaneResults<F>>;
}

/**
 * The mechanism under `parallel` and the rotated chunks of rotate.ts: one lane per entry of
 * `rotations`; lane i sees the party ids renamed by rotations[i] (virtual v = physical p - r)
 * and runs `run(laneContext, i)`. Lane contexts are derived (Context.derive) with fresh seeds
 * drawn in lane order before any lane starts.
 */
export async function runLanes<T>(ctx: Context, rotations: readonly number[], run: (lane: Context, i: number) => Promise<T>): Promise<T[]> {
  if (rotations.length > MAX_LANES) throw new RangeError(`parallel: at most ${MAX_LANES} lanes, got ${rotations.length}`);
  rotations.forEach((r, i) => {
    if (r !== 0 && r !== 1 && r !== 2) throw new RangeError(`runLanes: rotations[${i}] must be 0, 1 or 2, got ${String(r)}`);
  });
  if (rotations.length === 0) return [];
  const mux = new RoundMux(ctx, rotations.length);
  const laneCtxs = rotations.map((r, i) => {
    const v = virtOf(ctx.party, r);
    return ctx.derive(v, new LaneChannel(v, r, i, mux, ctx.ch), ctx.drawSeeds());
  });
  return Promise.all(
    laneCtxs.map(async (lc, i) => {
      try {
        const out = await run(lc, i);
        mux.finish(i);
        return out;
      } catch (e) {
        mux.fail(e);
        throw e;
      }
    }),
  );
}

export const physOf = (virt: PartyId, r: number): PartyId => ((virt + r) % 3) as PartyId;
export const virtOf = (phys: PartyId, r: number): PartyId => ((phys - r + 3) % 3) as PartyId;

interface Pending {
  readonly lane: number;
  readonly rotation: number;
  readonly req: ExchangeRequest;
  readonly resolve: (m: Map<PartyId, Payload>) => void;
  readonly reject: (e: unknown) => void;
}

type LaneState = 'running' | 'submitted' | 'done';

/** Gathers the lanes' exchanges of a round and fires them as one physical exchange. */
class RoundMux {
  private readonly state: LaneState[];
  private readonly pending: (Pending | undefined)[];
  private failure: unknown;
  private failed = false;

  constructor(
    private readonly ctx: Context,
    lanes: number,
  ) {
    this.state = new Array<LaneState>(lanes).fill('running');
    this.pending = new Array<Pending | undefined>(lanes).fill(undefined);
  }

  submit(lane: number, rotation: number, req: ExchangeRequest): Promise<Map<PartyId, Payload>> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failure);
      if (this.state[lane] !== 'running') {
        return reject(new MpcError('MPC_ERR_PROTOCOL', `lane ${lane} started two exchanges in one round`, { party: this.ctx.party, step: req.step }));
      }
      this.state[lane] = 'submitted';
      this.pending[lane] = { lane, rotation, req, resolve, reject };
      this.maybeFire();
    });
  }

  /** Lane `lane` returned: it takes part in no further round. */
  finish(lane: number): void {
    this.state[lane] = 'done';
    this.maybeFire();
  }

  /** A lane failed: every pending and later exchange of the other lanes rejects with its error. */
  fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = e;
    this.pending.forEach((p, i) => {
      if (p === undefined) return;
      this.pending[i] = undefined;
      p.reject(e);
    });
  }

  private maybeFire(): void {
    if (this.failed || this.state.some((s) => s === 'running')) return;
    const live: Pending[] = [];
    this.pending.forEach((p, i) => {
      if (p === undefined) return;
      live.push(p);
      this.pending[i] = undefined;
      this.state[i] = 'running';
    });
    if (live.length > 0) void this.fire(live);
  }

  private async fire(live: Pending[]): Promise<void> {
    const ctx = this.ctx;
    const step = physicalStep(live.map((p) => p.req.step));
    try {
      if (live.length === 1) {
        const [p] = live;
        const r = p.rotation;
        const send: Partial<Record<PartyId, Payload>> = {};
        for (const v of [0, 1, 2] as const) {
          const x = p.req.send?.[v];
          if (x !== undefined) send[physOf(v, r)] = x;
        }
        const got = await ctx.ch.exchange({ step, send, recv: p.req.recv?.map((v) => physOf(v, r)) });
        const out = new Map<PartyId, Payload>();
        for (const [q, payload] of got) out.set(virtOf(q, r), payload);
        p.resolve(out);
        return;
      }
      const send: Partial<Record<PartyId, Payload>> = {};
      const recv: PartyId[] = [];
      for (const peer of [ctx.next, ctx.prev]) {
        const parts = live.map((p) => p.req.send?.[virtOf(peer, p.rotation)]);
        if (parts.some((x) => x !== undefined)) send[peer] = pack(parts);
        if (live.some((p) => p.req.recv?.includes(virtOf(peer, p.rotation)))) recv.push(peer);
      }
      const got = await ctx.ch.exchange({ step, send, recv });
      const split = new Map<PartyId, (Payload | undefined)[]>();
      for (const peer of recv) split.set(peer, unpack(got.get(peer), live, ctx, peer, step));
      const outs = live.map((p, j) => {
        const m = new Map<PartyId, Payload>();
        for (const peer of recv) {
          const v = virtOf(peer, p.rotation);
          const part = split.get(peer)![j];
          const wants = p.req.recv?.includes(v) === true;
          if (wants && part === undefined) throw protocolError(ctx, peer, step, `no payload for lane ${p.lane} (its step '${p.req.step}')`);
          if (!wants && part !== undefined) throw protocolError(ctx, peer, step, `a payload for lane ${p.lane}, which expects none (its step '${p.req.step}')`);
          if (part !== undefined) m.set(v, part);
        }
        return m;
      });
      live.forEach((p, j) => p.resolve(outs[j]));
    } catch (e) {
      for (const p of live) p.reject(e);
      this.fail(e);
    }
  }
}

function protocolError(ctx: Context, peer: PartyId, step: string, why: string): MpcError {
  return new MpcError('MPC_ERR_PROTOCOL', `bad multiplexed message from party ${peer}: ${why}`, { party: ctx.party, peer, step });
}

/** The step tag of a physical round: the lanes' common tag, or their tags joined (bounded). */
function physicalStep(steps: readonly string[]): string {
  if (steps.every((s) => s === steps[0])) return steps[0];
  const joined = steps.join('|');
  if (joined.length <= MAX_JOINED_STEP) return joined;
  return `${joined.slice(0, MAX_JOINED_STEP - 20)}…#${fnv64(joined)}`;
}

/** FNV-1a over UTF-16 code units, as two 32-bit halves (a consistency tag, not a MAC). */
function fnv64(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** Header (one word per live lane) then the parts; byte parts padded to whole words. */
function pack(parts: readonly (Payload | undefined)[]): U64 {
  let n = parts.length;
  for (const p of parts) if (p !== undefined) n += p instanceof BigUint64Array ? p.length : Math.ceil(p.length / 8);
  const out = new BigUint64Array(n);
  let off = parts.length;
  parts.forEach((p, i) => {
    if (p === undefined) return;
    if (p instanceof BigUint64Array) {
      out[i] = BigInt(1 + 2 * p.length);
      out.set(p, off);
      off += p.length;
    } else {
      out[i] = BigInt(2 + 2 * p.length);
      new Uint8Array(out.buffer, out.byteOffset + 8 * off, p.length).set(p);
      off += Math.ceil(p.length / 8);
    }
  });
  return out;
}

/** Split a multiplexed message by its header, checked against the live lanes. */
function unpack(p: Payload | undefined, live: readonly Pending[], ctx: Context, peer: PartyId, step: string): (Payload | undefined)[] {
  const bad = (why: string) => protocolError(ctx, peer, step, why);
  const h = live.length;
  if (!(p instanceof BigUint64Array)) throw bad(p === undefined ? 'no message' : 'bytes instead of 64-bit words');
  if (p.length < h) throw bad(`${p.length} words, shorter than the header of ${h} lanes`);
  const out: (Payload | undefined)[] = [];
  let off = h;
  for (let i = 0; i < h; i++) {
    const w = p[i];
    if (w === 0n) {
      out.push(undefined);
      continue;
    }
    const rest = p.length - off;
    // 1 + 2*len + dtype with len <= rest words (or 8*rest bytes): anything larger is malformed
    if (w > BigInt(2 + 16 * rest)) throw bad(`lane ${live[i].lane} declares more than the ${rest} words that follow`);
    const bytes = ((w - 1n) & 1n) === 1n;
    const len = Number((w - 1n) >> 1n);
    const words = bytes ? Math.ceil(len / 8) : len;
    if (words > rest) throw bad(`lane ${live[i].lane} declares more than the ${rest} words that follow`);
    out.push(bytes ? new Uint8Array(p.buffer, p.byteOffset + 8 * off, len) : p.subarray(off, off + len));
    off += words;
  }
  if (off !== p.length) throw bad(`${p.length - off} words after the last lane's payload`);
  return out;
}

/** The channel a lane sees: its (renamed) party ids; exchanges go to the multiplexer. */
class LaneChannel implements Channel {
  readonly stats: ChannelStats = emptyChannelStats();
  constructor(
    readonly self: PartyId,
    private readonly rotation: number,
    private readonly lane: number,
    private readonly mux: RoundMux,
    private readonly real: Channel,
  ) {}

  async exchange(req: ExchangeRequest): Promise<Map<PartyId, Payload>> {
    const got = await this.mux.submit(this.lane, this.rotation, req);
    this.count(req, got);
    return got;
  }

  /** the lane's own counters: its rounds and payload bytes (no headers) */
  private count(req: ExchangeRequest, got: Map<PartyId, Payload>): void {
    let st = this.stats.byStep.get(req.step);
    if (st === undefined) {
      st = emptyStepStats();
      this.stats.byStep.set(req.step, st);
    }
    const add = (s: StepStats) => {
      s.rounds++;
      for (const p of Object.values(req.send ?? {})) {
        if (p === undefined) continue;
        s.bytesSent += p.byteLength;
        s.messagesSent++;
      }
      for (const p of got.values()) s.bytesReceived += p.byteLength;
    };
    add(this.stats);
    add(st);
  }

  abort(error: Error): Promise<void> {
    return this.real.abort(error);
  }

  async close(): Promise<void> {
    // the real channel outlives the lane
  }
}
