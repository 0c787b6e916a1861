/**
 * The per-party session context every protocol receives: party index, channel, kernels,
 * fixed-point precision and the correlated-randomness streams. No globals: a process may
 * hold several contexts (the in-memory tests hold three).
 *
 * Randomness (docs/PROTOCOLS.md "Randomness"): each adjacent pair (i, i+1) shares a 128-bit seed agreed by
 * the authenticated key exchange; all three share a `common` seed; each party has a
 * private `own` seed. A stream is AES-128-CTR keyed by its seed; its counter only moves
 * forward, so no keystream block is ever used twice. The two holders of a pairwise stream
 * stay in step because they run the same program and draw the same amounts in the same
 * order: a protocol that draws from a pairwise stream on one holder MUST draw the same
 * number of words on the other holder at the same point of the program.
 *
 * Per-context memory (scratch buffers, the role rotation from call to call) lives on the
 * Context (`state`), never in module-level maps. Contexts derived for role rotation or
 * parallel lanes (`derive`) share their parent's kernels, precision and scratch pool.
 */
import type { RingKernels, U64 } from '../kernels/api.js';
import { type Channel, type PartyId, nextParty, prevParty } from './channel.js';
import type { TruncRecorder } from './trunc-record.js';

/**
 * How truncations run when the call does not say: 'faithful' (trunc-faithful.ts: floor or
 * floor + 1 for |x| < 2^62, never garbage, 2 rounds) or 'prob' (mul.ts: ABY3 / SecureML,
 * garbage with probability ~|x|/2^64 per element, 1 round).
 */
export type TruncMode = 'faithful' | 'prob';

/** Truncation settings shared by a context and every context derived from it. */
export interface TruncState {
  /** the mode of calls that pass none (ContextOptions.truncMode, default 'prob') */
  mode: TruncMode;
  /** measurement mode only (trunc-record.ts): undefined in production */
  recorder: TruncRecorder | undefined;
}

export interface SessionSeeds {
  /** seed shared with party self+1 */
  readonly next: Uint8Array;
  /** seed shared with party self-1 */
  readonly prev: Uint8Array;
  /** seed shared by all three parties */
  readonly common: Uint8Array;
  /** this party's private seed */
  readonly own: Uint8Array;
}

/** A forward-only AES-128-CTR stream. */
export class PrgStream {
  private counter = 0n;
  constructor(
    private readonly k: RingKernels,
    private readonly seed: Uint8Array,
  ) {
    if (!(seed instanceof Uint8Array) || seed.length !== 16) throw new RangeError('PrgStream: seed must be 16 bytes');
  }
  /** n uniformly random 64-bit words */
  words(n: number): U64 {
    const out = new BigUint64Array(n);
    this.fill(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    return out;
  }
  /** fill bytes (consumes whole 16-byte blocks) */
  fill(bytes: Uint8Array): Uint8Array {
    this.k.prgFill(this.seed, this.counter, bytes);
    this.counter += BigInt(Math.ceil(bytes.byteLength / 16));
    return bytes;
  }
  /** blocks consumed so far (for tests) */
  get position(): bigint {
    return this.counter;
  }
}

export interface ContextOptions {
  /** fractional bits of fixed-point values (default 18) */
  readonly fracBits?: number;
  /** use this context's scratch pool instead of a new one (derived contexts; see derive) */
  readonly shareScratchOf?: Context;
  /** default truncation mode (default 'prob'; the secure model sets 'faithful', models/trunc-policy.ts) */
  readonly truncMode?: TruncMode;
}

/** The role rotation from call to call of one context (rotate.ts rolled). */
export interface RollState {
  /** the rotation (0, 1, 2) the next rolled call runs with */
  next: number;
  /** the contexts of rotations 1 and 2, created together on the first call with rotation 1 */
  ctxs: [Context, Context] | undefined;
}

/** What protocols keep on a context between calls (instead of module-level maps). */
export interface ContextState {
  /** scratch buffers by slot (scratch.ts); shared with the contexts derived from this one */
  readonly scratch: Map<string, BigUint64Array>;
  /** role rotation from call to call (rotate.ts rolled); undefined until the first rolled call */
  roll: RollState | undefined;
  /** truncation mode and recorder; the same object on the contexts derived from this one */
  readonly trunc: TruncState;
}

export class Context {
  readonly party: PartyId;
  readonly next: PartyId;
  readonly prev: PartyId;
  readonly ch: Channel;
  readonly k: RingKernels;
  /** fractional bits of fixed-point values */
  readonly f: number;
  /** stream shared with party next (seed_{i,i+1}) */
  readonly prgNext: PrgStream;
  /** stream shared with party prev (seed_{i-1,i}) */
  readonly prgPrev: PrgStream;
  /** stream shared by all three parties */
  readonly prgCommon: PrgStream;
  /** this party's private stream */
  readonly prgOwn: PrgStream;
  /** per-context memory of the protocols (scratch pool, role rotation state) */
  readonly state: ContextState;
  /** a name for this context, the same on every party (derived contexts: parent id + '.' + index); keys the recorder */
  readonly traceId: string;
  private derived = 0;

  constructor(party: PartyId, ch: Channel, k: RingKernels, seeds: SessionSeeds, opts: ContextOptions = {}) {
    if (party !== 0 && party !== 1 && party !== 2) throw new RangeError(`Context: party must be 0, 1 or 2, got ${String(party)}`);
    if (ch.self !== party) throw new RangeError(`Context: channel belongs to party ${ch.self}, not ${party}`);
    const f = opts.fracBits ?? 18;
    if (!Number.isInteger(f) || f < 0 || f > 40) throw new RangeError(`Context: fracBits must be an integer in [0, 40], got ${f}`);
    this.party = party;
    this.next = nextParty(party);
    this.prev = prevParty(party);
    this.ch = ch;
    this.k = k;
    this.f = f;
    this.prgNext = new PrgStream(k, seeds.next);
    this.prgPrev = new PrgStream(k, seeds.prev);
    this.prgCommon = new PrgStream(k, seeds.common);
    this.prgOwn = new PrgStream(k, seeds.own);
    const tm = opts.truncMode ?? 'prob';
    if (tm !== 'faithful' && tm !== 'prob') throw new RangeError(`Context: truncMode must be 'faithful' or 'prob', got ${String(tm)}`);
    const parent = opts.shareScratchOf;
    this.state = {
      scratch: parent?.state.scratch ?? new Map(),
      roll: undefined,
      trunc: parent?.state.trunc ?? { mode: tm, recorder: undefined },
    };
    this.traceId = parent === undefined ? 'c' : `${parent.traceId}.${parent.derived++}`;
  }

  /**
   * A context for a sub-computation of this one (a rotated chunk, a parallel lane): playing
   * `party` on channel `ch` with its own streams `seeds`, the same kernels and precision, and
   * this context's scratch pool (safe: scratch contents never live across an await, and
   * synchronous stretches never interleave). Its role-rotation state is its own.
   */
  derive(party: PartyId, ch: Channel, seeds: SessionSeeds): Context {
    return new Context(party, ch, this.k, seeds, { fracBits: this.f, shareScratchOf: this });
  }

  /**
   * Four fresh 16-byte seeds drawn from this context's streams, in the order next, prev,
   * common, own (every holder of a stream draws the same bytes at the same point of the
   * program): the streams of one derived context.
   */
  drawSeeds(): SessionSeeds {
    const d = (s: PrgStream) => s.fill(new Uint8Array(16));
    return { next: d(this.prgNext), prev: d(this.prgPrev), common: d(this.prgCommon), own: d(this.prgOwn) };
  }

  /**
   * A fresh arithmetic zero sharing: alpha_i = PRG(seed_{i,i+1}) - PRG(seed_{i-1,i}).
   * The three parties' alphas sum to 0 mod 2^64; each is uniformly random to its holder's peers.
   * All three parties must call it together with the same n.
   */
  zeroShare(n: number): U64 {
    const a = this.prgNext.words(n);
    const b = this.prgPrev.words(n);
    return this.k.sub(a, b, a);
  }

  /** A fresh boolean zero sharing (XOR of the two pairwise streams). Same rules as zeroShare. */
  zeroShareBool(n: number): U64 {
    const a = this.prgNext.words(n);
    const b = this.prgPrev.words(n);
    return this.k.xor(a, b, a);
  }
}
