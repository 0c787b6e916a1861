/**
 * Rotary position embedding, the project's single convention: ADJACENT pairs.
 * Within each head of width d, the pair (x[2i], x[2i+1]), i = 0 .. d/2-1, is rotated by
 * the angle pos * theta^(-2i/d):
 *   x'[2i]   = x[2i] cos - x[2i+1] sin
 *   x'[2i+1] = x[2i] sin + x[2i+1] cos
 * This is llama2.c's (and Meta's) form. Hugging Face Llama checkpoints use "rotate half"
 * (pairs (i, i + d/2)) with q/k projection rows permuted so the two forms agree;
 * `hfRowsToAdjacent` / `adjacentRowsToHf` convert those rows.
 */
import type { ModelConfig, RopeScaling } from './config.js';

/**
 * Per-pair inverse frequencies theta^(-2i/d), i = 0 .. d/2-1, with the optional frequency
 * scaling of transformers' modeling_rope_utils:
 *   linear: every frequency divided by `factor`;
 *   llama3: wavelength w = 2 pi / f; w > L / lowFreqFactor: f / factor; w < L / highFreqFactor:
 *     f unchanged; in between f ((1 - s) / factor + s) with s = (L / w - lowFreqFactor) /
 *     (highFreqFactor - lowFreqFactor), L = originalMaxPositions.
 */
export function ropeFrequencies(headDim: number, theta: number, scaling: RopeScaling | null = null): Float64Array {
  if (!Number.isSafeInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) throw new RangeError(`headDim must be a positive even integer, got ${headDim}`);
  if (!(theta > 0)) throw new RangeError(`theta must be positive, got ${theta}`);
  const f = new Float64Array(headDim / 2);
  for (let i = 0; i < f.length; i++) f[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  if (scaling === null) return f;
  if (scaling.type === 'linear') {
    for (let i = 0; i < f.length; i++) f[i] /= scaling.factor;
    return f;
  }
  const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: L } = scaling;
  for (let i = 0; i < f.length; i++) {
    const wavelen = (2 * Math.PI) / f[i];
    if (wavelen > L / lo) f[i] /= factor;
    else if (!(wavelen < L / hi)) {
      const s = (L / wavelen - lo) / (hi - lo);
      f[i] = (1 - s) * (f[i] / factor) + s * f[i];
    }
  }
  return f;
}

/** cos and sin of the rotation angles at a position, headDim/2 each (public values). */
export interface RopeAngles {
  readonly cos: Float64Array;
  readonly sin: Float64Array;
}

/** RoPE angles per position, computed once per position and cached. */
export class RopeTable {
  readonly headDim: number;
  readonly theta: number;
  private readonly freqs: Float64Array;
  private readonly cache = new Map<number, RopeAngles>();

  constructor(headDim: number, theta: number, scaling: RopeScaling | null = null) {
    this.freqs = ropeFrequencies(headDim, theta, scaling);
    this.headDim = headDim;
    this.theta = theta;
  }

  /** The table of a config's RoPE (head width, base and scaling). */
  static forConfig(c: ModelConfig): RopeTable {
    return new RopeTable(c.headDim, c.ropeTheta, c.ropeScaling);
  }

  angles(pos: number): RopeAngles {
    if (!Number.isSafeInteger(pos) || pos < 0) throw new RangeError(`pos must be a non-negative integer, got ${pos}`);
    let a = this.cache.get(pos);
    if (a === undefined) {
      const n = this.freqs.length;
      const cos = new Float64Array(n);
      const sin = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = pos * this.freqs[i];
        cos[i] = Math.cos(v);
        sin[i] = Math.sin(v);
      }
      a = { cos, sin };
      if (this.cache.size < 65536) this.cache.set(pos, a);
    }
    return a;
  }

  /** Rotates, in place, `nHeads` consecutive heads of x starting at `offset`, for position `pos`. */
  apply(x: Float32Array, offset: number, nHeads: number, pos: number): void {
    const { cos, sin } = this.angles(pos);
    const d = this.headDim;
    for (let h = 0; h < nHeads; h++) {
      const base = offset + h * d;
      for (let i = 0; i < d / 2; i++) {
        const j = base + 2 * i;
        const a = x[j];
        const b = x[j + 1];
        x[j] = a * cos[i] - b * sin[i];
        x[j + 1] = a * sin[i] + b * cos[i];
      }
    }
  }
}

function permuteRows(w: Float32Array, nHeads: number, headDim: number, cols: number, toAdjacent: boolean): Float32Array {
  if (w.length !== nHeads * headDim * cols) throw new RangeError(`matrix has ${w.length} values, expected ${nHeads * headDim * cols}`);
  const out = new Float32Array(w.length);
  const half = headDim / 2;
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let s = 0; s < 2; s++) {
        const adj = h * headDim + 2 * i + s; // adjacent-pair row
        const hf = h * headDim + s * half + i; // rotate-half row
        const [src, dst] = toAdjacent ? [hf, adj] : [adj, hf];
        out.set(w.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return out;
}

/** HF (rotate-half) q/k projection rows -> adjacent-pair order. Matrix [nHeads*headDim][cols]. */
export function hfRowsToAdjacent(w: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  return permuteRows(w, nHeads, headDim, cols, true);
}

/** Adjacent-pair q/k projection rows -> HF (rotate-half) order; inverse of hfRowsToAdjacent. */
export function adjacentRowsToHf(w: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  return permuteRows(w, nHeads, headDim, cols, false);
}
