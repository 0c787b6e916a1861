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
 * Also reports the published approximations' errors on [-16, 16] (MPCache SiLU, PUMA GeLU).
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

// published approximations (MPCACHE.md section 4; PUMA, Dong et al. 2023)
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
// reciprocal on [1, 4]: y0 = a - 3x/16, minimise max |1 - x y0|;
// rsqrt on [1, 4]: y0 = a - (39/256) x, minimise max |1 - x y0^2| (Goldschmidt's error).
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
const [sa, se] = bestOffset((a, x) => 1 - x * (a - (39 / 256) * x) ** 2, 1, 4, 0.8, 1.3);
console.log(`rsqrt init a = ${sa.toPrecision(17)} (y0 = a - 39x/256), max |1 - x y0^2| = ${se.toExponential(3)}`);
