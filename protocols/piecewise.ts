/**
 * Piecewise-polynomial functions of fixed-point shares (the engine behind silu and gelu).
 *
 * A spec has ascending public breakpoints b_0 < ... < b_{B-1}, which cut the line into
 * segments s_0 = (-inf, b_0), s_i = [b_{i-1}, b_i), s_B = [b_{B-1}, inf), and pieces: a
 * polynomial P(t) = sum_k c_k t^k applied on some segments with t = +x or t = -x there
 * (so one polynomial in |x| serves both sides of 0). The result is the sum of the pieces
 * (0 on segments no piece covers).
 *
 * Protocol (all pieces and all elements batched: one exchange per round):
 *  1. k_j = [x < b_j] for every breakpoint: ONE msb on the stacked differences, then ONE
 *     round that injects the bits AND multiplies them by x (conversions.ts bitTimes), giving
 *     c_j = k_j and c_j * x. Segment indicators are integer combinations of the c_j (local):
 *     s_0 = c_0, s_i = c_i - c_{i-1}, s_B = 1 - c_{B-1}; a piece's selector
 *     sigma = sum sign * s_i, and sigma * x is the same combination of the c_j * x and x
 *     (local, exact). So the comparison costs ltz's rounds (msb + 1).
 *  2. Level 0, ONE truncation: for a piece of degree d >= 2, y = mu * sigma * x with
 *     mu = |c_d|^(1/d) (so the top coefficient becomes +-1 and |y| <= about 1 on the piece's
 *     range: every product stays small, which keeps the truncations' failure probability
 *     ~2^-28); when the top split below leaves a term c_{a+1} t^(a+1) with a + 1 < d, also a
 *     helper z = c'_{a+1} y that the top product absorbs; for a linear piece (d = 1),
 *     sigma * x (not truncated, no round). Outside the piece's segments sigma = 0, so y = 0
 *     and nothing can be large whatever x.
 *  3. Powers y^k (k < d) by levels (level of k = ceil(log2 k)): one fused mulFixed per level.
 *  4. The top products y^d = y^a * (y^b [+ z]) (a = 2^(level(d) - 1), b = d - a) and
 *     sum_pieces [c_0 sigma_abs + sum_{k<d} c'_k y^k + sign * top] at scale 2f, truncated
 *     together in ONE fused round (mul.ts truncTerms), plus the linear pieces (c_0 + c_1
 *     sigma x) at scale f.
 * Rounds: ltz + 1 (level 0) + (levels with powers) + 1 (final). pieceCost() gives the exact
 * counts for a spec.
 * Error: the polynomial's own approximation error, plus ~(d + 2) units of 2^-f, plus the
 * top coefficient's rounding (|c_d| / mu_eff^d - 1 <= d 2^-(f+1) / mu relative).
 *
 * Reveals nothing: a fixed composition of msb, bitTimes, mulFixed, truncTerms and trunc
 * (messages masked as argued in msb.ts, conversions.ts / mul.ts); which values are multiplied depends only on the public spec.
 */
import type { Context } from './context.js';
import { bitTimesSlicedBalanced, msbSlicedBalanced } from './balanced.js';
import { add, subPublic, withScale } from './linear.js';
import { mulFixed, productTerm, trunc, truncTerms } from './mul.js';
import { type IntTerm, encodeConst, intCombination, stack, unstack } from './batching.js';
import { ArithShare } from './types.js';

export interface PieceSpec {
  /** c[k] multiplies t^k */
  readonly coeffs: readonly number[];
  /** the segments this piece covers, with t = sign * x there */
  readonly on: readonly { readonly segment: number; readonly sign: 1 | -1 }[];
}

export interface PiecewiseSpec {
  /** ascending public breakpoints */
  readonly breakpoints: readonly number[];
  readonly pieces: readonly PieceSpec[];
}

/** ceil(log2 k) for k >= 1 */
function level(k: number): number {
  return k <= 1 ? 0 : Math.ceil(Math.log2(k));
}

interface PolyPlan {
  readonly piece: number;
  readonly d: number;
  readonly mu: number; // effective mu = E / 2^f
  readonly E: bigint;
  /** y^a * (y^b + z): the split of the top power, and whether a helper z = c'_{a+1} y is used */
  readonly a: number;
  readonly b: number;
  readonly helper: { readonly k: number; readonly E: bigint } | undefined;
  /** truncated powers (>= 2) to compute, with their splits */
  readonly powers: ReadonlyMap<number, readonly [number, number]>;
  /** coefficients c'_k = c_k / mu^k of the truncated terms in the final sum (k < d, k not the helper's) */
  readonly terms: readonly (readonly [number, number])[];
  readonly topSign: 1n | -1n;
}

function degreeOf(c: readonly number[]): number {
  let d = c.length - 1;
  while (d >= 0 && c[d] === 0) d--;
  return d;
}

function planPoly(piece: number, coeffs: readonly number[], f: number): PolyPlan {
  const d = degreeOf(coeffs);
  const cd = coeffs[d];
  const E = encodeConst(Math.abs(cd) ** (1 / d), f);
  if (E <= 0n) throw new RangeError(`piecewise: piece ${piece}'s leading coefficient is too small for scale ${f}`);
  const mu = Number(E) / 2 ** f;
  const a = d === 2 ? 1 : 2 ** (level(d) - 1);
  const b = d - a;
  // a helper carries c_{a+1} into the top product when a + 1 < d
  const hk = a + 1 < d && coeffs[a + 1] !== 0 ? a + 1 : undefined;
  // z = sign(c_d) c'_{a+1} y, so that sign(c_d) * y^a (y^b + z) = c'_d y^d + c'_{a+1} y^(a+1)
  const sgn = cd > 0 ? 1 : -1;
  const helper = hk === undefined ? undefined : { k: hk, E: encodeConst(sgn * (coeffs[hk] / mu ** hk) * mu, f) };
  const powers = new Map<number, readonly [number, number]>();
  const need = (k: number): void => {
    if (k < 2 || powers.has(k)) return;
    const p = 2 ** (level(k) - 1);
    powers.set(k, [p, k - p]);
    need(p);
    need(k - p);
  };
  const terms: [number, number][] = [];
  for (let k = 1; k < d; k++) {
    if (coeffs[k] === 0 || k === hk) continue;
    if (k > a) throw new RangeError(`piecewise: piece ${piece}: unsupported term t^${k} (degree ${d})`);
    terms.push([k, coeffs[k] / mu ** k]);
    need(k);
  }
  need(a);
  need(b);
  return { piece, d, mu, E, a, b, helper, powers, terms, topSign: cd > 0 ? 1n : -1n };
}

export interface PiecewiseCost {
  /** rounds after the comparison (which costs ltz's rounds: msb + the bit-times round) */
  readonly rounds: number;
  /** values per element from fused product-truncations (mulFixed levels and the final sum; 40 bytes each over the parties) */
  readonly fusedOutputs: number;
  /** values per element truncated by stand-alone truncations (8 bytes each from one party; mul.ts rotates the role) */
  readonly truncated: number;
  /** comparisons per element (each with its bit times x in the injection round) */
  readonly comparisons: number;
}

interface Schedule {
  readonly plans: PolyPlan[];
  readonly linear: number[];
  readonly constant: number[];
  readonly L: number;
}

function schedule(spec: PiecewiseSpec, f: number): Schedule {
  const plans: PolyPlan[] = [];
  const linear: number[] = [];
  const constant: number[] = [];
  spec.pieces.forEach((p, i) => {
    const d = degreeOf(p.coeffs);
    if (d >= 2) plans.push(planPoly(i, p.coeffs, f));
    else if (d === 1) linear.push(i);
    else if (d === 0) constant.push(i);
  });
  const L = plans.reduce((m, p) => Math.max(m, level(p.d)), 0);
  return { plans, linear, constant, L };
}

/** Exact per-element cost of a spec (what piecewise() sends), for documentation and tests. */
export function piecewiseCost(spec: PiecewiseSpec, f = 18): PiecewiseCost {
  checkSpec(spec);
  const { plans, linear, L } = schedule(spec, f);
  const polyRows = plans.reduce((s, p) => s + 1 + (p.helper ? 1 : 0), 0);
  let rounds = 0;
  let fusedOutputs = 0;
  let truncated = 0;
  if (polyRows > 0) {
    rounds += 1;
    truncated += polyRows;
  }
  for (let l = 1; l <= L; l++) {
    const pw = plans.reduce((s, p) => s + [...p.powers.keys()].filter((k) => level(k) === l).length, 0);
    if (pw > 0) {
      rounds += 1;
      fusedOutputs += pw;
    }
  }
  if (plans.length > 0) {
    rounds += 1;
    fusedOutputs += 1;
  } else if (linear.some((i) => !Number.isInteger(spec.pieces[i].coeffs[1]))) {
    rounds += 1;
    truncated += 1;
  }
  return { rounds, fusedOutputs, truncated, comparisons: spec.breakpoints.length };
}

function checkSpec(spec: PiecewiseSpec): void {
  const bp = spec.breakpoints;
  for (let i = 0; i < bp.length; i++) {
    if (!Number.isFinite(bp[i]) || (i > 0 && bp[i] <= bp[i - 1])) throw new RangeError('piecewise: breakpoints must be finite and ascending');
  }
  spec.pieces.forEach((p, i) => {
    if (p.coeffs.some((c) => !Number.isFinite(c))) throw new RangeError(`piecewise: piece ${i} has a non-finite coefficient`);
    for (const o of p.on) {
      if (!Number.isInteger(o.segment) || o.segment < 0 || o.segment > bp.length) throw new RangeError(`piecewise: piece ${i} names segment ${o.segment}`);
      if (o.sign !== 1 && o.sign !== -1) throw new RangeError(`piecewise: piece ${i} has a bad sign`);
    }
  });
}

export interface PiecewiseOptions {
  /**
   * Promise that every x - b_j lies in [-2^(bitWidth-1), 2^(bitWidth-1)) ring units (e.g. 32
   * for |x| < 2^12 at f = 18): smaller comparison circuits. Default 64 (no promise).
   */
  readonly bitWidth?: number;
  /**
   * The comparisons, already computed by the caller: bits[j] = [x < b_j] (0/1, scale 0) and
   * timesX[j] = bits[j] * x (scale ctx.f), one per breakpoint (decode-layer.ts derives them
   * from the unnormalised input, beside the norm). Step 1 is then skipped (no rounds).
   */
  readonly comparisons?: { readonly bits: readonly ArithShare[]; readonly timesX: readonly ArithShare[] };
}

/** Evaluate a piecewise polynomial elementwise on x (scale ctx.f); result at scale ctx.f. */
export async function piecewise(ctx: Context, x: ArithShare, spec: PiecewiseSpec, opts: PiecewiseOptions = {}): Promise<ArithShare> {
  if (!(x instanceof ArithShare)) throw new TypeError('piecewise: x must be an ArithShare');
  const f = ctx.f;
  if (x.scale !== f) throw new RangeError(`piecewise: x must be at scale ctx.f = ${f}, got ${x.scale}`);
  checkSpec(spec);
  const shape = x.shape;
  const B = spec.breakpoints.length;
  const { plans, linear, constant, L } = schedule(spec, f);
  // 1. comparisons: c_j = [x < b_j] and c_j * x from one msb and one injection round
  let cs: ArithShare[] = [];
  let cxs: ArithShare[] = [];
  if (opts.comparisons !== undefined) {
    const { bits, timesX } = opts.comparisons;
    if (bits.length !== B || timesX.length !== B) throw new RangeError(`piecewise: comparisons must hold ${B} bits and ${B} products`);
    bits.forEach((b, j) => {
      if (!(b instanceof ArithShare) || b.scale !== 0 || b.size !== x.size) throw new RangeError(`piecewise: comparisons.bits[${j}] must be a 0/1 share of x's size at scale 0`);
      if (!(timesX[j] instanceof ArithShare) || timesX[j].scale !== f || timesX[j].size !== x.size) throw new RangeError(`piecewise: comparisons.timesX[${j}] must have x's size at scale ${f}`);
    });
    cs = bits.map((b) => b.reshape(shape));
    cxs = timesX.map((b) => b.reshape(shape));
  } else if (B > 0) {
    const n = x.size;
    const e = await msbSlicedBalanced(ctx, stack(spec.breakpoints.map((b) => subPublic(ctx, x, b)), f), 'piecewise.cmp', opts.bitWidth ?? 64);
    const xs = stack(spec.breakpoints.map(() => x), f);
    const { bit, prods } = await bitTimesSlicedBalanced(ctx, e, B * n, [xs], true, 'piecewise.select');
    cs = unstack(bit!, spec.breakpoints.map(() => shape), 0);
    cxs = unstack(prods[0], spec.breakpoints.map(() => shape), f);
  }
  // segment s as integer terms (plus a constant), over the bits or over the bits times x
  const segTerms = (s: number, v: readonly ArithShare[]): { terms: IntTerm[]; c0: bigint } => {
    if (B === 0) return { terms: [], c0: 1n };
    if (s === 0) return { terms: [{ x: v[0], c: 1n }], c0: 0n };
    if (s === B) return { terms: [{ x: v[B - 1], c: -1n }], c0: 1n };
    return { terms: [{ x: v[s], c: 1n }, { x: v[s - 1], c: -1n }], c0: 0n };
  };
  // mult * sigma (timesX: mult * sigma * x, exact, at scale `scale`)
  const selector = (piece: number, mult: bigint, signed: boolean, scale = 0, timesX = false): ArithShare => {
    const terms: IntTerm[] = [];
    let c0 = 0n;
    for (const o of spec.pieces[piece].on) {
      const st = segTerms(o.segment, timesX ? cxs : cs);
      const m = signed ? mult * BigInt(o.sign) : mult;
      for (const t of st.terms) terms.push({ x: t.x, c: t.c * m });
      c0 += st.c0 * m;
    }
    if (timesX) return intCombination(ctx, shape, scale, c0 === 0n ? terms : [...terms, { x, c: c0 }]);
    return intCombination(ctx, shape, scale, terms, c0);
  };
  // 2. level 0: y = E sigma x at scale 2f, truncated once; linear pieces need no round
  const truncRows: ArithShare[] = [];
  for (const p of plans) {
    truncRows.push(selector(p.piece, p.E, true, 2 * f, true));
    if (p.helper) truncRows.push(selector(p.piece, p.helper.E, true, 2 * f, true));
  }
  const ys = new Map<PolyPlan, Map<number, ArithShare>>();
  const helpers = new Map<PolyPlan, ArithShare>();
  const linParts = new Map<number, ArithShare>();
  let out: ArithShare | undefined;
  const addTo = (acc: ArithShare | undefined, v: ArithShare): ArithShare => (acc === undefined ? v : add(ctx, acc, v));
  if (truncRows.length > 0) {
    const tr = unstack(await trunc(ctx, stack(truncRows, 2 * f), f), truncRows.map(() => shape), f);
    let j = 0;
    for (const p of plans) {
      ys.set(p, new Map([[1, tr[j++]]]));
      if (p.helper) helpers.set(p, tr[j++]);
    }
  }
  for (const pi of linear) {
    const c1 = spec.pieces[pi].coeffs[1];
    const sx = selector(pi, 1n, true, f, true); // sigma x at scale f, exact
    // c1 * sigma x: exact for an integer c1, else folded into the final 2f sum below
    if (Number.isInteger(c1)) out = addTo(out, intCombination(ctx, shape, f, [{ x: sx, c: BigInt(c1) }]));
    else linParts.set(pi, sx);
  }
  // 3. powers below the top, one fused mulFixed per level
  for (let l = 1; l <= L; l++) {
    const jobs: { p: PolyPlan; k: number; l: ArithShare; r: ArithShare }[] = [];
    for (const p of plans) {
      const y = ys.get(p)!;
      for (const [k, [u, v]] of p.powers) if (level(k) === l) jobs.push({ p, k, l: y.get(u)!, r: y.get(v)! });
    }
    if (jobs.length === 0) continue;
    const pr = await mulFixed(ctx, stack(jobs.map((j) => j.l), f), stack(jobs.map((j) => j.r), f));
    const powVals = unstack(pr, jobs.map(() => shape), f);
    jobs.forEach((j, i) => ys.get(j.p)!.set(j.k, powVals[i]));
  }
  // 4. the top products and the sum at scale 2f, truncated together (one fused round)
  if (plans.length > 0 || linParts.size > 0) {
    const terms: IntTerm[] = [];
    const sum: ArithShare[] = [];
    for (const p of plans) {
      const y = ys.get(p)!;
      for (const [k, ck] of p.terms) terms.push({ x: y.get(k)!, c: encodeConst(ck, f) });
      const c = spec.pieces[p.piece].coeffs[0];
      if (c !== 0) sum.push(selector(p.piece, encodeConst(c, 2 * f), false, 2 * f));
    }
    for (const [pi, sx] of linParts) terms.push({ x: sx, c: encodeConst(spec.pieces[pi].coeffs[1], f) });
    let acc = intCombination(ctx, shape, 2 * f, terms);
    for (const v of sum) acc = add(ctx, acc, v);
    if (plans.length === 0) out = addTo(out, await trunc(ctx, acc, f));
    else {
      const k = ctx.k;
      const z = acc.s0.slice();
      for (const p of plans) {
        const y = ys.get(p)!;
        const h = helpers.get(p);
        const top = productTerm(ctx, y.get(p.a)!, h ? add(ctx, y.get(p.b)!, h) : y.get(p.b)!);
        if (p.topSign > 0n) k.add(z, top, z);
        else k.sub(z, top, z);
      }
      out = addTo(out, await truncTerms(ctx, z, shape, f, f));
    }
  }
  for (const i of linear) {
    const c = spec.pieces[i].coeffs[0];
    if (c !== 0) out = addTo(out, selector(i, encodeConst(c, f), false, f));
  }
  for (const i of constant) out = addTo(out, selector(i, encodeConst(spec.pieces[i].coeffs[0], f), false, f));
  return withScale(out ?? intCombination(ctx, shape, f, []), f);
}
