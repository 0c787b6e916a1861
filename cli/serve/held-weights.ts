/**
 * Weights shared ONCE per server start (`mpcache serve`): P0 and P2 keep their replicated
 * shares of the model between user sessions, and a new user (P1) gets its two shares from
 * two 16-byte seeds instead of P0 sending a model's worth of words to P2 every session.
 *
 * Sharing (party i holds (x_i, x_{i+1}), x0 + x1 + x2 = the encoded weights v):
 *  - x1 = PRG(s1): s1 is P0's seed, drawn at P0's start, never sent to P2;
 *  - x2 = PRG(s2): s2 is P2's seed, drawn at P2's start;
 *  - x0 = v - x1 - x2, computed by P0 and sent to P2 once per (s1, s2) pair: the first
 *    session after either server started (P0 keeps it per s2 it has seen; P2 keeps the last).
 * Per session (steps 'weights.seeds' and 'weights.x0', two rounds): P2 sends s2 to P0 and
 * P1 together with the tag of the x0 it holds; P0 sends s1 to P1, then to P2 the tag of the
 * x0 for this (s1, s2) and, only if P2's tag differs, x0 itself.
 *
 * What each party sees is what shareModel's input sharing shows it (protocols/sharing.ts
 * inputMany, where P0 knows all three shares of its own input, P1 two PRG streams, P2 the
 * common stream and x0): P1 learns s1 and s2, i.e. (x1, x2), two uniformly random words per
 * weight, independent of v; every user is given the same (x1, x2), which tells a second user
 * nothing the first did not already see; P2 learns x2 and x0 (v - x1 - x2 with x1 unknown to
 * it: uniform); P0 learns s2 (it owns v). The tag is SHA-256 of (s1, s2, the model's
 * fingerprint, fracBits), one-way: it does not reveal s1 to P2.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { PartyId } from '../../protocols/channel.js';
import { PrgStream, type Context } from '../../protocols/context.js';
import { MpcError } from '../../protocols/errors.js';
import { encodeValues } from '../../protocols/sharing.js';
import { ArithShare } from '../../protocols/types.js';
import { concatWords, splitWords } from '../../protocols/wire.js';
import type { ModelConfig } from '../../models/config.js';
import { type SecureModel, assembleSecureModel, securePlan } from '../../models/secure-weights.js';
import type { ModelWeights } from '../../models/weights.js';

const SEED = 16;
const TAG = 32;

/** Per-process state of a serving party (one model per process). */
interface HeldState {
  /** P0: s1; P2: s2 */
  readonly seed: Uint8Array;
  /** P0: x0 per s2 (hex) — the latest few; P2: the x0 it holds with its tag */
  readonly x0ByS2: Map<string, { tag: Uint8Array; x0: BigUint64Array }>;
  held?: { tag: Uint8Array; x0: BigUint64Array };
  /** P2: a session that reported holding nothing is receiving x0; later ones wait for it (so x0 travels once) */
  pending?: Promise<void>;
}

/** by party (a test may run P0 and P2 in one process) */
const states = new Map<PartyId, HeldState>();
function held(party: PartyId): HeldState {
  let st = states.get(party);
  if (st === undefined) {
    st = { seed: new Uint8Array(randomBytes(SEED)), x0ByS2: new Map() };
    states.set(party, st);
  }
  return st;
}

/** Forget the held shares (tests: a server restart). */
export function forgetHeldWeights(party: PartyId): void {
  states.delete(party);
}


function fingerprint(c: ModelConfig, f: number, s1: Uint8Array, s2: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('mpcache/held-weights v1').update(s1).update(s2).update(JSON.stringify(c)).update(String(f)).digest());
}

function bytesOf(p: unknown, n: number, from: PartyId, self: PartyId, step: string): Uint8Array {
  if (!(p instanceof Uint8Array) || p.byteLength < n) throw new MpcError('MPC_ERR_PROTOCOL', `party ${from} sent no valid ${step} message`, { party: self, peer: from, step });
  return p;
}

/** Share the model for this session from the held shares (drop-in for shareModel with owner 0). */
export async function heldShareModel(ctx: Context, config: ModelConfig, weights?: ModelWeights): Promise<SecureModel> {
  const me = ctx.party;
  if ((me === 0) !== (weights !== undefined)) throw new TypeError('heldShareModel: party 0, and only party 0, passes the weights');
  const plan = securePlan(config, weights);
  const sizes = plan.map((t) => t.shape.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  const st = me === 1 ? undefined : held(me);

  // P2: while another session is receiving x0, wait for it (it ends, delivered or failed,
  // within that session's receive timeout), then report what is held
  let delivered: (() => void) | undefined;
  if (me === 2) {
    while (st!.held === undefined && st!.pending !== undefined) await st!.pending;
    if (st!.held === undefined) st!.pending = new Promise<void>((r) => (delivered = r));
  }
  try {
    return await share(ctx, config, plan, sizes, total, st);
  } finally {
    if (delivered !== undefined) {
      st!.pending = undefined;
      delivered();
    }
  }
}

async function share(ctx: Context, config: ModelConfig, plan: ReturnType<typeof securePlan>, sizes: number[], total: number, st: HeldState | undefined): Promise<SecureModel> {
  const me = ctx.party;
  // round 1: the seeds, and the tag of the x0 P2 holds
  const s1Step = 'weights.seeds';
  const out: Partial<Record<PartyId, Uint8Array>> = {};
  if (me === 0) out[1] = st!.seed;
  if (me === 2) {
    const m = new Uint8Array(SEED + TAG);
    m.set(st!.seed, 0);
    if (st!.held) m.set(st!.held.tag, SEED);
    out[0] = m;
    out[1] = st!.seed;
  }
  const recv1: PartyId[] = me === 0 ? [2] : me === 1 ? [0, 2] : [];
  const got1 = await ctx.ch.exchange({ step: s1Step, send: out, recv: recv1 });
  const s1 = me === 0 ? st!.seed : me === 1 ? bytesOf(got1.get(0), SEED, 0, me, s1Step).slice(0, SEED) : undefined;
  const s2 = me === 2 ? st!.seed : bytesOf(got1.get(2), SEED, 2, me, s1Step).slice(0, SEED);

  // round 2: P0 tells P2 the tag and, when P2 does not hold it, x0
  const x0Step = 'weights.x0';
  let x0: BigUint64Array | undefined;
  if (me === 0) {
    const theirTag = bytesOf(got1.get(2), SEED + TAG, 2, me, s1Step).slice(SEED, SEED + TAG);
    const key = Buffer.from(s2).toString('hex');
    let entry = st!.x0ByS2.get(key);
    if (entry === undefined) {
      const v = concatWords(plan.map((t, i) => encodeValues(ctx, t.values(), ctx.f, sizes[i], `weights ${t.name}`)));
      const x1 = new PrgStream(ctx.k, s1!).words(total);
      const x2 = new PrgStream(ctx.k, s2).words(total);
      const w = ctx.k.sub(v, x1);
      ctx.k.sub(w, x2, w);
      entry = { tag: fingerprint(config, ctx.f, s1!, s2), x0: w };
      if (st!.x0ByS2.size >= 4) st!.x0ByS2.delete(st!.x0ByS2.keys().next().value!);
      st!.x0ByS2.set(key, entry);
    }
    x0 = entry.x0;
    const send = Buffer.compare(Buffer.from(theirTag), Buffer.from(entry.tag)) === 0 ? entry.tag : concatBytes(entry.tag, new Uint8Array(entry.x0.buffer, entry.x0.byteOffset, entry.x0.byteLength));
    await ctx.ch.exchange({ step: x0Step, send: { 2: send } });
  } else if (me === 2) {
    const got = await ctx.ch.exchange({ step: x0Step, recv: [0] });
    const m = bytesOf(got.get(0), TAG, 0, me, x0Step);
    const tag = m.slice(0, TAG);
    if (m.byteLength === TAG) {
      if (st!.held === undefined || Buffer.compare(Buffer.from(st!.held.tag), Buffer.from(tag)) !== 0) throw new MpcError('MPC_ERR_PROTOCOL', 'party 0 named held weights this party does not hold', { party: me, peer: 0, step: x0Step });
    } else {
      if (m.byteLength !== TAG + 8 * total) throw new MpcError('MPC_ERR_PROTOCOL', `party 0 sent ${m.byteLength - TAG} bytes of weight shares, expected ${8 * total}`, { party: me, peer: 0, step: x0Step });
      const words = new BigUint64Array(total);
      new Uint8Array(words.buffer).set(m.subarray(TAG));
      st!.held = { tag, x0: words };
    }
    x0 = st!.held!.x0;
  } else await ctx.ch.exchange({ step: x0Step });

  // this party's two components
  const stream = (seed: Uint8Array) => new PrgStream(ctx.k, seed).words(total);
  // (a copy of the held x0: a session never writes into what the next one uses)
  const [a, b] = me === 0 ? [x0!.slice(), stream(s1!)] : me === 1 ? [stream(s1!), stream(s2)] : [stream(s2), x0!.slice()];
  const pa = splitWords(a, sizes);
  const pb = splitWords(b, sizes);
  return assembleSecureModel(config, plan.map((t, i) => new ArithShare(t.shape, pa[i], pb[i], ctx.f)));
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.byteLength + b.byteLength);
  o.set(a, 0);
  o.set(b, a.byteLength);
  return o;
}
