/**
 * topKAscending (select.ts) without a comparator sort: the k-th largest score is found by a
 * native numeric sort of the values, then the candidates are taken in index order (ties to the
 * lower index, as topKAscending). Same result for finite scores (NaN counts as -Infinity); used
 * by the per-step selections of the issue-17 policies, which run it thousands of times.
 */
export function fastTopK(scores: ArrayLike<number>, k: number, candidates?: ArrayLike<number>): Int32Array {
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
  const cand = candidates ? Int32Array.from(candidates).sort() : Int32Array.from({ length: scores.length }, (_, i) => i);
  const n = cand.length;
  if (k >= n) return cand;
  if (k === 0) return new Int32Array(0);
  const vals = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = scores[cand[i]];
    vals[i] = Number.isNaN(v) ? -Infinity : v;
  }
  const sorted = vals.slice().sort();
  const thr = sorted[n - k];
  let ties = k;
  for (let i = 0; i < n; i++) if (vals[i] > thr) ties--;
  const out = new Int32Array(k);
  let j = 0;
  for (let i = 0; i < n && j < k; i++) {
    if (vals[i] > thr) out[j++] = cand[i];
    else if (vals[i] === thr && ties > 0) {
      out[j++] = cand[i];
      ties--;
    }
  }
  return out;
}
