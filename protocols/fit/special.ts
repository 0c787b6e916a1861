/**
 * Float64 special functions used as references by the non-linear protocols' fits and tests.
 * erf: Maclaurin series for |x| < 3 (terms alternate; double precision loses < 1e-12
 * there), a Lentz continued fraction for erfc beyond. Accurate to ~1e-13 absolute.
 */

/** erfc(x) for x >= 3 by its continued fraction (modified Lentz). */
function erfcLarge(x: number): number {
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = x;
  let C = x;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    D = x + an * D;
    if (D === 0) D = tiny;
    C = x + an / C;
    if (C === 0) C = tiny;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The error function. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 3) {
    const r = 1 - erfcLarge(ax);
    return x < 0 ? -r : r;
  }
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Standard normal CDF Phi(x) (erfc directly far in the left tail: no cancellation). */
export function normalCdf(x: number): number {
  const z = x / Math.SQRT2;
  return z < -3 ? 0.5 * erfcLarge(-z) : 0.5 * (1 + erf(z));
}

/** GeLU(x) = x * Phi(x) (the exact, erf form). */
export function geluRef(x: number): number {
  return x * normalCdf(x);
}

/** SiLU(x) = x * sigmoid(x). */
export function siluRef(x: number): number {
  return x >= 0 ? x / (1 + Math.exp(-x)) : (x * Math.exp(x)) / (1 + Math.exp(x));
}
