/**
 * Role rotation: spread the work and traffic that a protocol puts on "P0" evenly over the
 * three parties, either within one call (`rotated`: three chunks of the elements, the roles
 * rotated per chunk) or from call to call (`rolled`). `balanced` picks between them by size
 * (ROTATE_MIN); every role-asymmetric protocol goes through it.
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
 * Rounds (`rotated`): the three chunks are lanes of the round multiplexer (parallel.ts) with
 * the party ids renamed by r; they run the same program, so every round carries all three:
 * ONE physical exchange per round, per peer the chunks' payloads behind a 3-word header.
 * Costs 24 bytes per message, no rounds. `rolled` costs nothing: no extra message, no
 * framing. Both reveal nothing beyond what the wrapped protocol reveals: the messages are
 * the wrapped protocol's messages (grouped, for `rotated`).
 */
import {
  type Channel,
  type ChannelStats,
  type ExchangeRequest,
  type PartyId,
  type Payload,
} from './channel.js';
import type { Context } from './context.js';
import { physOf, runLanes, virtOf } from './parallel.js';
import { ArithShare, type Shape } from './types.js';
import { concatWords } from './wire.js';

/**
 * From this many elements on, `balanced` rotates the roles over three chunks; below it, from
 * call to call. Chunk rotation balances BYTES within a call, but every rotated round makes
 * each party send to both peers (more messages) and builds three chunk contexts; for small
 * tensors (decoding) messages and per-call work cost more than the imbalance: on the 2-core
 * machine a default-model decode step went from ~1170 to ~670 ms when this moved from 192
 * to 2^14 elements.
 */
export const ROTATE_MIN = 1 << 14;

/**
 * The element ranges [lo, hi) of the three chunks of `rotated` for n elements: word-aligned
 * (multiples of 64 elements except the end of the last non-empty chunk), the words dealt as
 * evenly as possible, the first chunks larger.
 */
export function rotationChunks(n: number): [[number, number], [number, number], [number, number]] {
  const W = Math.ceil(n / 64);
  const bounds: [number, number][] = [];
  let w = 0;
  for (let r = 0; r < 3; r++) {
    const wr = Math.floor(W / 3) + (r < W % 3 ? 1 : 0);
    bounds.push([Math.min(n, 64 * w), Math.min(n, 64 * (w + wr))]);
    w += wr;
  }
  return bounds as [[number, number], [number, number], [number, number]];
}

/**
 * Split n elements into the three chunks of rotationChunks and run `fn` on each with rotated
 * roles; returns the three results in chunk order. `fn` receives the chunk's Context and its
 * element range [lo, hi).
 */
export async function rotated<T>(ctx: Context, n: number, fn: (v: Context, lo: number, hi: number) => Promise<T>): Promise<[T, T, T]> {
  const bounds = rotationChunks(n);
  return (await runLanes(ctx, [0, 1, 2], (v, r) => fn(v, bounds[r][0], bounds[r][1]))) as [T, T, T];
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

/**
 * Role rotation across CALLS (for tensors below ROTATE_MIN, where splitting into chunks costs
 * more than it saves): successive calls on a context run with the roles rotated by 0, 1, 2,
 * 0, ... so the role that sends most (P0 of trunc and of the fused product-truncation) moves
 * from party to party, with no extra message and no framing. Sound for the same reason as
 * `rotated` (a replicated share is role-symmetric; the rotated contexts get their own
 * seeds, drawn once, at the same point of the program on every party, from the physical
 * streams of the pair they belong to). All parties make the same calls in the same order,
 * so they agree on each call's rotation. The state lives on the context (ctx.state.roll).
 */
export function rolled<T>(ctx: Context, fn: (v: Context) => Promise<T>): Promise<T> {
  const st = (ctx.state.roll ??= { next: 0, ctxs: undefined });
  const r = st.next;
  st.next = (r + 1) % 3;
  if (r === 0) return fn(ctx);
  if (st.ctxs === undefined) {
    // both rotated contexts at once (on the first rotated call), so every party draws their
    // seeds at the same point
    const mk = (rr: number): Context => {
      const v = virtOf(ctx.party, rr);
      return ctx.derive(v, new RenamedChannel(v, rr, ctx.ch), ctx.drawSeeds());
    };
    const c1 = mk(1);
    st.ctxs = [c1, mk(2)];
  }
  return fn(st.ctxs[r - 1]);
}

/** How `balanced` runs a role-asymmetric protocol on n elements. */
export interface BalancedRun<T, C> {
  /** the protocol on all n elements, with the roles of the context it is given */
  readonly whole: (v: Context) => Promise<T>;
  /** the protocol on elements [lo, hi) (one of the three chunks of `rotated`) */
  readonly chunk: (v: Context, lo: number, hi: number) => Promise<C>;
  /** the three chunks' results, in chunk order, joined into the result for all n elements */
  readonly join: (parts: [C, C, C]) => T;
  /** below ROTATE_MIN, rotate the roles from call to call (`rolled`, the default) or run `whole` as is (false) */
  readonly roll?: boolean;
}

/**
 * A role-asymmetric protocol with its traffic spread over the parties: from ROTATE_MIN
 * elements on, `rotated` over three chunks (same rounds, +24 bytes per message, every party
 * sends the mean of the roles' bytes); below, `rolled` from call to call (or, with
 * roll: false, the plain protocol).
 */
export async function balanced<T, C = T>(ctx: Context, n: number, run: BalancedRun<T, C>): Promise<T> {
  if (n < ROTATE_MIN) return run.roll === false ? run.whole(ctx) : rolled(ctx, run.whole);
  return run.join(await rotated(ctx, n, run.chunk));
}

/**
 * The cost function of `balanced`: payload bytes `party` sends for one call on n elements of
 * a protocol whose roles P0, P1, P2 send perRole[role] bytes per element in `messages`
 * messages per party. From ROTATE_MIN elements on (rotated chunks) party p plays role
 * (p - r) mod 3 in chunk r and every message carries the 24-byte lane header; below it the
 * call runs whole with the roles rolled by `roll` (the rotation this call gets: ctx.state
 * counts calls, a fresh session starts at 0, so party p plays role (p - roll) mod 3).
 */
export function balancedBytes(n: number, perRole: readonly [number, number, number], party: number, messages: number, roll = 0): number {
  const role = (p: number, r: number): number => (((p - r) % 3) + 3) % 3;
  if (n < ROTATE_MIN) return n * perRole[role(party, roll)];
  const chunks = rotationChunks(n);
  return chunks.reduce((acc, [lo, hi], r) => acc + (hi - lo) * perRole[role(party, r)], 0) + 24 * messages;
}

/** Elements [lo, hi) of a share, flattened (views, no copy). */
export function chunkShare(x: ArithShare, lo: number, hi: number): ArithShare {
  return new ArithShare([hi - lo], x.s0.subarray(lo, hi), x.s1.subarray(lo, hi), x.scale);
}

/** Concatenate flat shares into one of the given shape and scale. */
export function joinShares(parts: readonly ArithShare[], shape: Shape, scale: number): ArithShare {
  return new ArithShare(shape, concatWords(parts.map((p) => p.s0)), concatWords(parts.map((p) => p.s1)), scale);
}

/** Concatenate component pairs (the chunks' results of a protocol returning [s0, s1]). */
export function joinPairs<P extends readonly [BigUint64Array, BigUint64Array]>(parts: readonly P[]): [BigUint64Array, BigUint64Array] {
  return [concatWords(parts.map((p) => p[0])), concatWords(parts.map((p) => p[1]))];
}
