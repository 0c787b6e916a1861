/**
 * Causal-only prefill attention, in chunks of query rows (issue #14): no masked (future, or
 * outside the sliding window) entry goes through the score truncation, the max, exp, the
 * reciprocal's sum or the probability product; the PV product's messages are per OUTPUT
 * element, so the masked entries there are only local zeros (no bytes).
 * Design note: docs/PROTOCOLS.md "Causal chunked prefill".
 *
 * Layout. Query rows are cut into chunks [a, b) (chunkPlan: greedy, every chunk holds at most
 * `maxEntries` visible entries over all heads, so the memory of one chunk is bounded whatever
 * T). Row t sees keys [lo_t, t] with lo_t = 0 (or t - W + 1 with a sliding window W): a public
 * ragged shape. All heads and rows of a chunk are packed into ONE flat tensor of
 * sum_t (t - lo_t + 1) entries per head, so each protocol round of the chunk is one message
 * per peer.
 *
 * Per chunk, for all query heads at once (G query heads of a KV group stacked as rows):
 *   z = Q[a:b] K[lo_a:b]^T (local 3-of-3 term, dense)   ragged entries picked (local)
 *   s = trunc(z)                                         fused truncation (truncTerms)
 *   m = max_j s_tj                                       ragged binary tournament: per level,
 *                                                        entry i against entry i + n/2 of each
 *                                                        row (one msb + one select for all rows);
 *                                                        an odd tail passes; masked entries never enter
 *   e = exp(s - m)                                       protocols/exp.ts on the flat entries
 *   r = 1 / sum_j e_tj                                   local ragged sums, ONE reciprocal per row
 *   p = e * r                                            mulFixed on the flat entries
 *   o = P V[lo_a:b]                                      p scattered into a dense zero-padded
 *                                                        [rows, span] (local), matmulFixed
 * Same approximations and bounds as protocols/softmax.ts (|logit| <= maxAbsLogit, exp within
 * 3e-4, reciprocal ~1e-5 relative); only the masked positions are gone (they gave exactly 0 there).
 *
 * Cost of one chunk with N visible entries over R = nHeads (b - a) rows of lengths n_t:
 *   rounds = trunc(N) + sum over tournament levels (msb(w) + 1) + exp (ltz(w) + 7)
 *            + reciprocal(maxLog2 = ceil(log2(max n + 1))) + mulFixed(N) + matmulFixed(R hd),
 *   levels = ceil(log2(max n_t)); w = softmaxBitWidth(maxAbsLogit, f);
 *   bytes = as those calls on N entries (N - R comparisons in all for the max) instead of the
 *   square method's nHeads T^2 (causalBytesRatio gives the entry ratio; the test checks the bytes).
 *
 * Reveals nothing: a fixed composition of truncTerms, msb, bitTimes, exp, reciprocal,
 * mulFixed and matmulFixed (their headers); every shape is public (T, the chunk plan).
 */
import type { Context } from '../protocols/context.js';
import { bitTimesSlicedBalanced, msbSlicedBalanced } from '../protocols/balanced.js';
import { exp } from '../protocols/exp.js';
import { add, sub } from '../protocols/linear.js';
import { matmulFixed, mulFixed, truncTerms } from '../protocols/mul.js';
import { reciprocal } from '../protocols/reciprocal.js';
import { defaultMaxAbsLogit, softmaxBitWidth } from '../protocols/softmax.js';
import { ArithShare } from '../protocols/types.js';

/** Visible keys of query row t: [lo, t]. */
export function rowStart(t: number, window: number | null): number {
  return window === null ? 0 : Math.max(0, t - window + 1);
}

/** Visible (causal) entries of rows [a, b) for one head. */
export function visibleEntries(a: number, b: number, window: number | null): number {
  let n = 0;
  for (let t = a; t < b; t++) n += t - rowStart(t, window) + 1;
  return n;
}

/** Causal entries over the full square T^2 (per head): (T + 1) / (2T) without a window. */
export function causalEntryRatio(T: number, window: number | null = null): number {
  return visibleEntries(0, T, window) / (T * T);
}

/**
 * Chunks [a, b) of the T query rows, greedy: each holds as many rows as fit in `maxEntries`
 * visible entries over `heads` heads (at least one row).
 */
export function chunkPlan(T: number, heads: number, maxEntries: number, window: number | null = null): [number, number][] {
  if (!Number.isSafeInteger(T) || T < 1) throw new RangeError(`chunkPlan: T must be a positive integer, got ${T}`);
  if (!(maxEntries > 0)) throw new RangeError(`chunkPlan: maxEntries must be positive, got ${maxEntries}`);
  const out: [number, number][] = [];
  let a = 0;
  while (a < T) {
    let b = a + 1;
    let n = heads * (a - rowStart(a, window) + 1);
    while (b < T) {
      const add = heads * (b - rowStart(b, window) + 1);
      if (n + add > maxEntries) break;
      n += add;
      b++;
    }
    out.push([a, b]);
    a = b;
  }
  return out;
}

/**
 * Working memory per visible entry of a chunk, bytes (one party): the dense product term and
 * the zero-padded P (8 + 16 bytes of the padded span), the flat shares live at once inside
 * exp (about a dozen tensors of 16 bytes) and the channel's copies of the messages.
 */
export const CHUNK_BYTES_PER_ENTRY = 400;

/** The entry bound of one chunk for a memory budget in MB (at least one row of T keys). */
export function entriesForBudget(budgetMb: number, heads: number, T: number): number {
  if (!(budgetMb > 0)) throw new RangeError(`prefill memory budget must be positive, got ${budgetMb} MB`);
  return Math.max(heads * T, Math.floor((budgetMb * 2 ** 20) / CHUNK_BYTES_PER_ENTRY));
}

/** Per op family: wall ms, bytes sent and rounds on this party (a prefill profile). */
export type PrefillProfile = Map<string, { ms: number; bytes: number; rounds: number }>;

/** Run fn and add its time and traffic on this party to profile[family] (no-op without a profile). */
export async function track<T>(ctx: Context, profile: PrefillProfile | undefined, family: string, fn: () => Promise<T>): Promise<T> {
  if (profile === undefined) return fn();
  const b = ctx.ch.stats.bytesSent;
  const r = ctx.ch.stats.rounds;
  const t = performance.now();
  const out = await fn();
  const e = profile.get(family) ?? { ms: 0, bytes: 0, rounds: 0 };
  e.ms += performance.now() - t;
  e.bytes += ctx.ch.stats.bytesSent - b;
  e.rounds += ctx.ch.stats.rounds - r;
  profile.set(family, e);
  return out;
}

/** The ragged rows of one chunk: for row i, its first key (relative to the chunk's key span) and length. */
interface Ragged {
  readonly rows: number;
  readonly span: number;
  readonly start: Int32Array;
  readonly len: Int32Array;
  /** offset of row i in the flat entries; off[rows] = N */
  readonly off: Int32Array;
  readonly maxLen: number;
}

function raggedOf(a: number, b: number, heads: number, window: number | null): Ragged {
  const c = b - a;
  const base = rowStart(a, window);
  const rows = heads * c;
  const start = new Int32Array(rows);
  const len = new Int32Array(rows);
  const off = new Int32Array(rows + 1);
  let maxLen = 0;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < c; i++) {
      const t = a + i;
      const r = h * c + i;
      const lo = rowStart(t, window);
      start[r] = lo - base;
      len[r] = t - lo + 1;
      off[r + 1] = off[r] + len[r];
      maxLen = Math.max(maxLen, len[r]);
    }
  }
  return { rows, span: b - base, start, len, off, maxLen };
}

/** dense [rows, span] words -> the flat ragged entries */
function pick(src: BigUint64Array, g: Ragged): BigUint64Array {
  const out = new BigUint64Array(g.off[g.rows]);
  for (let r = 0; r < g.rows; r++) {
    const s = r * g.span + g.start[r];
    out.set(src.subarray(s, s + g.len[r]), g.off[r]);
  }
  return out;
}

/** flat ragged entries -> dense zero-padded [rows, span] words */
function place(src: BigUint64Array, g: Ragged): BigUint64Array {
  const out = new BigUint64Array(g.rows * g.span);
  for (let r = 0; r < g.rows; r++) out.set(src.subarray(g.off[r], g.off[r + 1]), r * g.span + g.start[r]);
  return out;
}

const placeShare = (x: ArithShare, g: Ragged, lead: readonly number[]): ArithShare =>
  new ArithShare([...lead, g.span], place(x.s0, g), place(x.s1, g), x.scale);

/** Per-row value (rows) repeated over each row's entries (flat; native fills). */
function spread(x: ArithShare, g: Ragged): ArithShare {
  const n = g.off[g.rows];
  const o0 = new BigUint64Array(n);
  const o1 = new BigUint64Array(n);
  for (let r = 0; r < g.rows; r++) {
    o0.fill(x.s0[r], g.off[r], g.off[r + 1]);
    o1.fill(x.s1[r], g.off[r], g.off[r + 1]);
  }
  return new ArithShare([n], o0, o1, x.scale);
}

/**
 * The max of each ragged row (binary tournament over the flat entries; masked entries are not
 * there). A level compares, in every row of n > 1 entries, entry i with entry i + floor(n/2)
 * (contiguous halves: plain block copies, no per-element gather); an odd last entry passes.
 * Levels: ceil(log2(max length)); each is one batched msb and one select round for all rows.
 */
export async function raggedMax(ctx: Context, x: ArithShare, len: Int32Array, bitWidth: number): Promise<ArithShare> {
  const rows = len.length;
  let cnt = Int32Array.from(len);
  let cur = x;
  for (let level = 0; ; level++) {
    let pairs = 0;
    let next = 0;
    for (let r = 0; r < rows; r++) {
      pairs += cnt[r] >> 1;
      next += (cnt[r] + 1) >> 1;
    }
    if (pairs === 0) break;
    const L0 = new BigUint64Array(pairs);
    const L1 = new BigUint64Array(pairs);
    const R0 = new BigUint64Array(pairs);
    const R1 = new BigUint64Array(pairs);
    for (let r = 0, src = 0, p = 0; r < rows; r++) {
      const n = cnt[r];
      const h = n >> 1;
      if (h > 0) {
        L0.set(cur.s0.subarray(src, src + h), p);
        L1.set(cur.s1.subarray(src, src + h), p);
        R0.set(cur.s0.subarray(src + h, src + 2 * h), p);
        R1.set(cur.s1.subarray(src + h, src + 2 * h), p);
      }
      p += h;
      src += n;
    }
    const left = new ArithShare([pairs], L0, L1, x.scale);
    const right = new ArithShare([pairs], R0, R1, x.scale);
    // e = [left < right]; winner = left + e * (right - left)
    const e = await msbSlicedBalanced(ctx, sub(ctx, left, right), `cmax.${level}.msb`, bitWidth);
    const sel = await bitTimesSlicedBalanced(ctx, e, pairs, [sub(ctx, right, left)], false, `cmax.${level}.select`);
    const win = add(ctx, left, sel.prods[0]);
    const o0 = new BigUint64Array(next);
    const o1 = new BigUint64Array(next);
    const nextCnt = new Int32Array(rows);
    for (let r = 0, src = 0, p = 0, dst = 0; r < rows; r++) {
      const n = cnt[r];
      const h = n >> 1;
      if (h > 0) {
        o0.set(win.s0.subarray(p, p + h), dst);
        o1.set(win.s1.subarray(p, p + h), dst);
      }
      if (n % 2 === 1) {
        o0[dst + h] = cur.s0[src + n - 1];
        o1[dst + h] = cur.s1[src + n - 1];
      }
      nextCnt[r] = (n + 1) >> 1;
      p += h;
      src += n;
      dst += nextCnt[r];
    }
    cur = new ArithShare([next], o0, o1, x.scale);
    cnt = nextCnt;
  }
  return cur.reshape([rows]);
}

export interface CausalAttentionOptions {
  /** the most visible entries (over all heads) per chunk (chunkPlan; default: the whole prompt in one chunk) */
  readonly maxEntries?: number;
  /** sliding window (null: none) */
  readonly window?: number | null;
  /** softmax's logit bound (default defaultMaxAbsLogit(f), 2^26 at f = 18, as protocols/softmax.ts) */
  readonly maxAbsLogit?: number;
  /** rows [T - keepLast, T): their probabilities are returned (for the look-once static scores) */
  readonly keepLast?: number;
  /** called after each chunk with the rows done */
  readonly onChunk?: (rowsDone: number) => void;
  readonly profile?: PrefillProfile;
}

export interface CausalAttentionResult {
  /** [nHeads, T, hd] */
  readonly out: ArithShare;
  /** with keepLast = w: the probabilities of the last w rows [nHeads, w, T] (0 at masked keys) */
  readonly lastProbs?: ArithShare;
}

/** Rows [a, b) of [H, T, d] -> [H, b - a, d] (local copy). */
function rowsOf(x: ArithShare, a: number, b: number): ArithShare {
  const [H, T, d] = x.shape;
  const n = (b - a) * d;
  const o0 = new BigUint64Array(H * n);
  const o1 = new BigUint64Array(H * n);
  for (let h = 0; h < H; h++) {
    o0.set(x.s0.subarray((h * T + a) * d, (h * T + b) * d), h * n);
    o1.set(x.s1.subarray((h * T + a) * d, (h * T + b) * d), h * n);
  }
  return new ArithShare([H, b - a, d], o0, o1, x.scale);
}

/**
 * Causal attention of Q [nHeads, T, hd] (pre-scaled) over K, V [nKvHeads, T, hd], chunk by
 * chunk (see the file header). Returns the attention output [nHeads, T, hd].
 */
export async function causalAttention(ctx: Context, Q: ArithShare, K: ArithShare, V: ArithShare, opts: CausalAttentionOptions = {}): Promise<CausalAttentionResult> {
  const [H, T, hd] = Q.shape;
  const nKv = K.shape[0];
  if (K.shape[1] !== T || V.shape[1] !== T || H % nKv !== 0) throw new RangeError('causalAttention: Q [H, T, hd], K and V [nKv, T, hd] with nKv dividing H');
  const G = H / nKv;
  const W = opts.window ?? null;
  const B = opts.maxAbsLogit ?? defaultMaxAbsLogit(ctx.f);
  const bw = softmaxBitWidth(B, ctx.f);
  const k = ctx.k;
  const plan = chunkPlan(T, H, opts.maxEntries ?? Number.MAX_SAFE_INTEGER, W);
  const keep = Math.min(T, Math.max(0, opts.keepLast ?? 0));
  const o0 = new BigUint64Array(H * T * hd);
  const o1 = new BigUint64Array(H * T * hd);
  const l0 = keep > 0 ? new BigUint64Array(H * keep * T) : undefined;
  const l1 = keep > 0 ? new BigUint64Array(H * keep * T) : undefined;
  const prof = opts.profile;
  for (const [a, b] of plan) {
    const c = b - a;
    const g = raggedOf(a, b, H, W);
    const base = rowStart(a, W);
    const Qc = rowsOf(Q, a, b).reshape([nKv, G * c, hd]);
    const Kc = rowsOf(K, base, b);
    const Vc = rowsOf(V, base, b);
    const s = await track(ctx, prof, 'attention.scores', async () => {
      const z = k.rssMatmul(Qc.s0, Qc.s1, Kc.s0, Kc.s1, { m: G * c, k: hd, n: g.span, batch: nKv, transA: false, transB: true });
      const zr = pick(z, g);
      return truncTerms(ctx, zr, [zr.length], Qc.scale + Kc.scale - ctx.f, ctx.f);
    });
    const m = await track(ctx, prof, 'softmax.max', () => raggedMax(ctx, s, g.len, bw));
    const e = await track(ctx, prof, 'softmax.exp', () => exp(ctx, sub(ctx, s, spread(m, g)), { bitWidth: bw }));
    const p = await track(ctx, prof, 'softmax.normalize', async () => {
      const dense = placeShare(e, g, [g.rows]);
      const ones = new BigUint64Array(g.span).fill(1n);
      const sh = { m: g.rows, k: g.span, n: 1, batch: 1, transA: false, transB: false };
      const sum = new ArithShare([g.rows], k.matmul(dense.s0, ones, sh), k.matmul(dense.s1, ones, sh), e.scale);
      const r = await reciprocal(ctx, sum, { maxLog2: Math.max(1, Math.ceil(Math.log2(g.maxLen + 1))) });
      return mulFixed(ctx, e, spread(r, g));
    });
    const P = placeShare(p, g, [nKv, G * c]);
    if (l0 !== undefined && b > T - keep) {
      // rows t >= T - keep of this chunk: their dense probability rows (keys [base, b), zero elsewhere)
      for (let h = 0; h < H; h++) {
        for (let t = Math.max(a, T - keep); t < b; t++) {
          const src = (h * c + (t - a)) * g.span;
          const dst = (h * keep + (t - (T - keep))) * T + base;
          l0.set(P.s0.subarray(src, src + g.span), dst);
          l1!.set(P.s1.subarray(src, src + g.span), dst);
        }
      }
    }
    const o = await track(ctx, prof, 'attention.pv', () => matmulFixed(ctx, P, Vc)); // [nKv, G*c, hd] = [H, c, hd]
    for (let h = 0; h < H; h++) {
      o0.set(o.s0.subarray(h * c * hd, (h + 1) * c * hd), (h * T + a) * hd);
      o1.set(o.s1.subarray(h * c * hd, (h + 1) * c * hd), (h * T + a) * hd);
    }
    opts.onChunk?.(b);
  }
  const out = new ArithShare([H, T, hd], o0, o1, ctx.f);
  return l0 === undefined ? { out } : { out, lastProbs: new ArithShare([H, keep, T], l0, l1!, ctx.f) };
}
