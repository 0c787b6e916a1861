/**
 * Wilson score interval for a binomial proportion (Wilson, 1927): for k successes in n
 * trials and z the normal quantile (1.96 for 95%),
 *   centre = (p + z^2 / 2n) / (1 + z^2 / n),  half = z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n),
 * with p = k / n. Unlike the normal approximation it stays inside [0, 1] and is not empty
 * at k = 0 or k = n (e.g. 60/60 gives [0.940, 1]).
 */
export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/** The 95% (z = 1.96) Wilson interval of k successes in n trials; [0, 1] when n = 0. */
export function wilsonInterval(k: number, n: number, z = 1.96): Interval {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isSafeInteger(k) || k < 0 || k > n) throw new RangeError(`k must be an integer in [0, n], got ${k}`);
  if (!(z > 0)) throw new RangeError(`z must be positive, got ${z}`);
  if (n === 0) return { lo: 0, hi: 1 };
  const p = k / n;
  const z2 = z * z;
  const den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  // exact ends at k = 0 and k = n (the formula gives them up to rounding)
  return { lo: k === 0 ? 0 : Math.max(0, centre - half), hi: k === n ? 1 : Math.min(1, centre + half) };
}
