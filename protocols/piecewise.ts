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
 *  1. c_j = [x < b_j] for every breakpoint: ONE ltz on the stacked differences. Segment
 *     indicators are integer combinations of the c_j (local): s_0 = c_0,
 *     s_i = c_i - c_{i-1}, s_B = 1 - c_{B-1}; a piece's selector sigma = sum sign * s_i.
 *  2. Level 0, ONE mul + ONE truncation: for a piece of degree d >= 2,
 *     y = mu * sigma * x with mu = |c_d|^(1/d) (so the top coefficient becomes +-1 and
 *     |y| <= about 1 on the piece's range: every product stays small, which keeps the
 *     truncations' failure probability ~2^-28); when the top split below leaves a term
 *     c_{a+1} t^(a+1) with a + 1 < d, also a helper z = c'_{a+1} y that the top product
 *     absorbs; for a linear piece (d = 1), sigma * x (not truncated).
 *     Outside the piece's segments sigma = 0, so y = 0 and nothing can be large whatever x.
 *  3. Powers y^k by levels (level of k = ceil(log2 k)), one batched product per level;
 *     the top y^d = y^a * (y^b [+ z]) with a = 2^(level(d) - 1), b = d - a is NOT truncated.
 *  4. sum_pieces [c_0 sigma_abs + sum_{k<d} c'_k y^k + sign * top] at scale 2f, ONE
 *     truncation, plus the linear pieces (c_0 + c_1 sigma x) at scale f.
 * Rounds: ltz + 2 (level 0) + per level 1 .. L-1 two (product + truncation) + 1 (top
 * products) + 1 (final truncation), L = max level(d) => ltz + 2 L + 2 (fewer without
 * polynomials). pieceCost() gives the exact counts for a spec.
 * Error: the polynomial's own approximation error, plus ~(d + 2) units of 2^-f, plus the
 * top coefficient's rounding (|c_d| / mu_eff^d - 1 <= d 2^-(f+1) / mu relative).
 *
 * Reveals nothing: a fixed composition of ltz, mul, mulFixed and trunc (messages masked as
 * argued in boolean.ts / mul.ts); which values are multiplied depends only on the public spec.
 */
import type { Context } from './context.js';
import { ltz } from './compare.js';
import { add, subPublic, withScale } from './linear.js';
import { mul, mulFixed, trunc } from './mul.js';
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
  /** rounds after the comparison */
  readonly rounds: number;
  /** products per element sent in plain mul rounds (8 bytes each, every party) */
  readonly mulProducts: number;
  /** products per element in mulFixed rounds (8 bytes each, every party) */
  readonly fixedProducts: number;
  /** values per element truncated by stand-alone truncations (8 bytes each from one party; mul.ts rotates the role) */
  readonly truncated: number;
  /** comparisons per element */
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
  let mulProducts = 0;
  let fixedProducts = 0;
  let truncated = 0;
  if (polyRows + linear.length > 0) {
    rounds += polyRows > 0 ? 2 : 1;
    mulProducts += polyRows + linear.length;
    truncated += polyRows;
  }
  for (let l = 1; l <= L; l++) {
    const pw = plans.reduce((s, p) => s + [...p.powers.keys()].filter((k) => level(k) === l).length, 0);
    const tops = plans.filter((p) => level(p.d) === l).length;
    if (pw > 0 && tops > 0) {
      rounds += 2;
      mulProducts += pw + tops;
      truncated += pw;
    } else if (pw > 0) {
      rounds += 2;
      fixedProducts += pw;
    } else if (tops > 0) {
      rounds += 1;
      mulProducts += tops;
    }
  }
  if (plans.length > 0 || linear.some((i) => !Number.isInteger(spec.pieces[i].coeffs[1]))) {
    rounds += 1;
    truncated += 1;
  }
  return { rounds, mulProducts, fixedProducts, truncated, comparisons: spec.breakpoints.length };
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
  // 1. comparisons
  let cs: ArithShare[] = [];
  if (B > 0) {
    const lt = await ltz(ctx, stack(spec.breakpoints.map((b) => subPublic(ctx, x, b)), f), { bitWidth: opts.bitWidth ?? 64 });
    cs = unstack(lt, spec.breakpoints.map(() => shape), 0);
  }
  // segment s as integer terms (plus a constant)
  const segTerms = (s: number): { terms: IntTerm[]; c0: bigint } => {
    if (B === 0) return { terms: [], c0: 1n };
    if (s === 0) return { terms: [{ x: cs[0], c: 1n }], c0: 0n };
    if (s === B) return { terms: [{ x: cs[B - 1], c: -1n }], c0: 1n };
    return { terms: [{ x: cs[s], c: 1n }, { x: cs[s - 1], c: -1n }], c0: 0n };
  };
  const selector = (piece: number, mult: bigint, signed: boolean, scale = 0): ArithShare => {
    const terms: IntTerm[] = [];
    let c0 = 0n;
    for (const o of spec.pieces[piece].on) {
      const st = segTerms(o.segment);
      const m = signed ? mult * BigInt(o.sign) : mult;
      for (const t of st.terms) terms.push({ x: t.x, c: t.c * m });
      c0 += st.c0 * m;
    }
    return intCombination(ctx, shape, scale, terms, c0);
  };
  // 2. level 0
  const truncRows: ArithShare[] = [];
  for (const p of plans) {
    truncRows.push(selector(p.piece, p.E, true));
    if (p.helper) truncRows.push(selector(p.piece, p.helper.E, true));
  }
  const linRows = linear.map((i) => selector(i, 1n, true));
  const ys = new Map<PolyPlan, Map<number, ArithShare>>();
  const helpers = new Map<PolyPlan, ArithShare>();
  const linParts = new Map<number, ArithShare>();
  let out: ArithShare | undefined;
  const addTo = (acc: ArithShare | undefined, v: ArithShare): ArithShare => (acc === undefined ? v : add(ctx, acc, v));
  if (truncRows.length + linRows.length > 0) {
    const rows = [...truncRows, ...linRows];
    const prod = await mul(ctx, stack(rows, 0), stack(rows.map(() => x), f)); // scale f nominal
    const parts = unstack(prod, rows.map(() => shape), f);
    let tr: ArithShare[] = [];
    if (truncRows.length > 0) {
      const t = await trunc(ctx, withScale(stack(parts.slice(0, truncRows.length), 2 * f), 2 * f), f);
      tr = unstack(t, truncRows.map(() => shape), f);
    }
    let j = 0;
    for (const p of plans) {
      ys.set(p, new Map([[1, tr[j++]]]));
      if (p.helper) helpers.set(p, tr[j++]);
    }
    linear.forEach((pi, i) => {
      const c1 = spec.pieces[pi].coeffs[1];
      const sx = parts[truncRows.length + i];
      // c1 * sigma x: exact for an integer c1, else folded into the final 2f sum below
      if (Number.isInteger(c1)) out = addTo(out, intCombination(ctx, shape, f, [{ x: sx, c: BigInt(c1) }]));
      else linParts.set(pi, sx);
    });
  }
  // 3. powers and tops by level
  const tops = new Map<PolyPlan, ArithShare>();
  for (let l = 1; l <= L; l++) {
    const jobs: { p: PolyPlan; k: number; l: ArithShare; r: ArithShare }[] = [];
    for (const p of plans) {
      const y = ys.get(p)!;
      for (const [k, [u, v]] of p.powers) if (level(k) === l) jobs.push({ p, k, l: y.get(u)!, r: y.get(v)! });
    }
    const topJobs: { p: PolyPlan; l: ArithShare; r: ArithShare }[] = [];
    for (const p of plans) {
      if (level(p.d) !== l) continue;
      const y = ys.get(p)!;
      const h = helpers.get(p);
      topJobs.push({ p, l: y.get(p.a)!, r: h ? add(ctx, y.get(p.b)!, h) : y.get(p.b)! });
    }
    if (jobs.length === 0 && topJobs.length === 0) continue;
    let powVals: ArithShare[] = [];
    if (topJobs.length === 0) {
      const pr = await mulFixed(ctx, stack(jobs.map((j) => j.l), f), stack(jobs.map((j) => j.r), f));
      powVals = unstack(pr, jobs.map(() => shape), f);
    } else {
      const all = [...jobs, ...topJobs];
      const pr = await mul(ctx, stack(all.map((j) => j.l), f), stack(all.map((j) => j.r), f));
      const parts = unstack(pr, all.map(() => shape), 2 * f);
      topJobs.forEach((t, i) => tops.set(t.p, parts[jobs.length + i]));
      if (jobs.length > 0) powVals = unstack(await trunc(ctx, stack(parts.slice(0, jobs.length), 2 * f), f), jobs.map(() => shape), f);
    }
    jobs.forEach((j, i) => ys.get(j.p)!.set(j.k, powVals[i]));
  }
  // 4. final sum at scale 2f, one truncation
  if (plans.length > 0 || linParts.size > 0) {
    const terms: IntTerm[] = [];
    const sum: ArithShare[] = [];
    for (const p of plans) {
      const y = ys.get(p)!;
      sum.push(intCombination(ctx, shape, 2 * f, [{ x: tops.get(p)!, c: p.topSign }]));
      for (const [k, ck] of p.terms) terms.push({ x: y.get(k)!, c: encodeConst(ck, f) });
      const c = spec.pieces[p.piece].coeffs[0];
      if (c !== 0) sum.push(selector(p.piece, encodeConst(c, 2 * f), false, 2 * f));
    }
    for (const [pi, sx] of linParts) terms.push({ x: sx, c: encodeConst(spec.pieces[pi].coeffs[1], f) });
    let acc = intCombination(ctx, shape, 2 * f, terms);
    for (const v of sum) acc = add(ctx, acc, v);
    out = addTo(out, await trunc(ctx, acc, f));
  }
  for (const i of linear) {
    const c = spec.pieces[i].coeffs[0];
    if (c !== 0) out = addTo(out, selector(i, encodeConst(c, f), false, f));
  }
  for (const i of constant) out = addTo(out, selector(i, encodeConst(spec.pieces[i].coeffs[0], f), false, f));
  return withScale(out ?? intCombination(ctx, shape, f, []), f);
}
