/**
 * Offline fits of the polynomial constants in protocols/exp.ts and protocols/activations.ts.
 * Run: npx tsx protocols/fit/fit-nonlinear.ts   (prints the constants and their errors)
 *
 * - exp: e^t on [-14/16, 0] by 1 + c1 t + c2 t^2 + c3 t^3 + c4 t^4 (constant pinned to 1 so
 *   exp(0) = 1 exactly), minimax in RELATIVE error; exp(x) = P(x/16)^16.
 * - silu ("fit" variant): silu(x) = relu(x) + g(|x|) with g(t) = -t / (1 + e^t); g by a
 *   degree-5 polynomial on [0, 8] (minimax absolute), g = 0 beyond 8.
 * - gelu ("fit" variant): gelu(x) = relu(x) + h(|x|) with h(t) = -t * Phi(-t); h by a
 *   degree-4 polynomial on [0, 3.5], h = 0 beyond.
 * Also reports the published approximations' errors on [-16, 16] (MPCache SiLU, PUMA GeLU),
 * the reciprocal's initial guess, and rsqrt's one-step Goldschmidt constants.
 */
import { minimaxFit } from './minimax.js';
import { geluRef, normalCdf, siluRef } from './special.js';

function show(name: string, coeffs: readonly number[], err: number): void {
  console.log(`${name}: [${coeffs.map((c) => c.toPrecision(17)).join(', ')}]  max error ${err.toExponential(3)}`);
}

const expFit = minimaxFit((t) => Math.exp(t) - 1, -14 / 16, 0, [1, 2, 3, 4], (t) => Math.exp(-t));
show('exp P(t) - 1, t in [-14/16, 0], relative', expFit.coeffs, expFit.maxError);

const siluFit = minimaxFit((t) => -t / (1 + Math.exp(t)), 0, 8, [0, 1, 2, 3, 4, 5]);
show('silu g(t) on [0, 8]', siluFit.coeffs, siluFit.maxError);

const geluFit = minimaxFit((t) => -t * normalCdf(-t), 0, 3.5, [0, 1, 2, 3, 4]);
show('gelu h(t) on [0, 3.5]', geluFit.coeffs, geluFit.maxError);

function maxErr(f: (x: number) => number, ref: (x: number) => number): number {
  let e = 0;
  for (let i = 0; i <= 320000; i++) {
    const x = -16 + i / 10000;
    e = Math.max(e, Math.abs(f(x) - ref(x)));
  }
  return e;
}
const poly = (c: readonly number[], t: number): number => c.reduce((s, ck, k) => s + ck * t ** k, 0);
const siluFitFn = (x: number): number => Math.max(x, 0) + (Math.abs(x) <= 8 ? poly(siluFit.coeffs, Math.abs(x)) : 0);
const geluFitFn = (x: number): number => Math.max(x, 0) + (Math.abs(x) <= 3.5 ? poly(geluFit.coeffs, Math.abs(x)) : 0);
console.log(`silu fit, max abs error on [-16, 16]: ${maxErr(siluFitFn, siluRef).toExponential(3)}`);
console.log(`gelu fit, max abs error on [-16, 16]: ${maxErr(geluFitFn, geluRef).toExponential(3)}`);

// published approximations (docs/MPCACHE.md section 4; PUMA, Dong et al. 2023)
const siluMpcache = (x: number): number =>
  x < -8 ? 0
  : x < -4 ? poly([-0.3067541139982155, -0.0819767021525476, -0.0055465625580307], x)
  : x <= 4 ? poly([0.0085064025895951, 0.5, 0.228143084172827, 0, -0.011113046708173, 0, 0.0002743776353465], x)
  : x;
const geluPuma = (x: number): number =>
  x < -4 ? 0
  : x < -1.95 ? poly([-0.5054031199708174, -0.42226581151983866, -0.11807612951181953, -0.011034134030615728], x)
  : x <= 3 ? poly([0.008526321541038084, 0.5, 0.3603292692789629, 0, -0.037688200365904236, 0, 0.0018067462606141187], x)
  : x;
console.log(`silu mpcache (published), max abs error on [-16, 16]: ${maxErr(siluMpcache, siluRef).toExponential(3)}`);
console.log(`gelu puma (published), max abs error on [-16, 16]: ${maxErr(geluPuma, geluRef).toExponential(3)}`);

// Linear initial guesses with a power-of-two-fraction slope (free to evaluate on shares):
// reciprocal on [1, 4]: y0 = a - 3x/16, minimise max |1 - x y0|.
function bestOffset(err: (a: number, x: number) => number, lo: number, hi: number, aLo: number, aHi: number): [number, number] {
  const worst = (a: number): number => {
    let e = 0;
    for (let i = 0; i <= 20000; i++) e = Math.max(e, Math.abs(err(a, lo + ((hi - lo) * i) / 20000)));
    return e;
  };
  for (let it = 0; it < 100; it++) {
    const m1 = aLo + (aHi - aLo) / 3;
    const m2 = aHi - (aHi - aLo) / 3;
    if (worst(m1) < worst(m2)) aHi = m2;
    else aLo = m1;
  }
  const a = (aLo + aHi) / 2;
  return [a, worst(a)];
}
const [ra, re] = bestOffset((a, x) => 1 - x * (a - (3 / 16) * x), 1, 4, 0.5, 1.5);
console.log(`reciprocal init a = ${ra.toPrecision(17)} (y0 = a - 3x/16 on [1, 4]), max |1 - x y0| = ${re.toExponential(3)}`);

// rsqrt (protocols/rsqrt.ts) on [1, 2]: y0 = A - B x, g = x y0, h = y0 / 2, then ONE step
// h' = h (C - g h); minimise max |2 h' sqrt(x) - 1| over (A, B, C) by Nelder-Mead from a few
// starts (the result: A = 1.26417, B = 0.28639, C = 1.50037, error 3.7e-4).
function rsqrtStepErr([A, B, C]: readonly number[]): number {
  let e = 0;
  for (let i = 0; i <= 8000; i++) {
    const x = 1 + i / 8000;
    const y = A - B * x;
    const h = y / 2;
    e = Math.max(e, Math.abs(2 * h * (C - x * y * h) * Math.sqrt(x) - 1));
  }
  return e;
}
function nelderMead(f: (p: readonly number[]) => number, start: readonly number[], step: number, iters: number): [number[], number] {
  const n = start.length;
  let pts = [start.slice(), ...start.map((_, i) => start.map((v, j) => (i === j ? v + step : v)))].map((p) => ({ p, v: f(p) }));
  for (let it = 0; it < iters; it++) {
    pts.sort((a, b) => a.v - b.v);
    const c = Array.from({ length: n }, (_, j) => pts.slice(0, n).reduce((s, q) => s + q.p[j], 0) / n);
    const at = (t: number) => c.map((cj, j) => cj + t * (pts[n].p[j] - cj));
    const r = at(-1);
    const fr = f(r);
    if (fr < pts[0].v) {
      const e = at(-2);
      const fe = f(e);
      pts[n] = fe < fr ? { p: e, v: fe } : { p: r, v: fr };
    } else if (fr < pts[n - 1].v) pts[n] = { p: r, v: fr };
    else {
      const k = at(0.5);
      const fk = f(k);
      if (fk < pts[n].v) pts[n] = { p: k, v: fk };
      else pts = pts.map((q, i) => (i === 0 ? q : { p: q.p.map((v, j) => (v + pts[0].p[j]) / 2), v: f(q.p.map((v, j) => (v + pts[0].p[j]) / 2)) }));
    }
  }
  pts.sort((a, b) => a.v - b.v);
  return [pts[0].p, pts[0].v];
}
let best: [number[], number] = [[], Infinity];
for (const a0 of [1.2, 1.265, 1.3]) for (const c0 of [1.4, 1.5, 1.6]) {
  const r = nelderMead(rsqrtStepErr, [a0, 0.287, c0], 0.02, 3000);
  if (r[1] < best[1]) best = r;
}
console.log(`rsqrt one-step constants A, B, C = ${best[0].map((v) => v.toPrecision(17)).join(', ')}, max relative error ${best[1].toExponential(3)}`);
