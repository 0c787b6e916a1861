/**
 * The float reference model's KV cache: per layer, per KV head, an ordered list of
 * (original position, key, value) entries, exposed to policies as a LayerCacheView
 * (attention-hooks.ts). Keys are stored after RoPE at their original position.
 */
import type { LayerCacheView } from './attention-hooks.js';

class HeadCache {
  len = 0;
  keys: Float32Array;
  values: Float32Array;
  pos: Int32Array;
  /** per-entry log multiplicity (attention-hooks.ts logMass) */
  lm: Float32Array;

  constructor(
    private readonly headDim: number,
    capacity: number,
  ) {
    this.keys = new Float32Array(capacity * headDim);
    this.values = new Float32Array(capacity * headDim);
    this.pos = new Int32Array(capacity);
    this.lm = new Float32Array(capacity);
  }

  private grow(): void {
    const cap = Math.max(16, this.pos.length * 2);
    const k = new Float32Array(cap * this.headDim);
    const v = new Float32Array(cap * this.headDim);
    const p = new Int32Array(cap);
    const lm = new Float32Array(cap);
    lm.set(this.lm.subarray(0, this.len));
    this.lm = lm;
    k.set(this.keys.subarray(0, this.len * this.headDim));
    v.set(this.values.subarray(0, this.len * this.headDim));
    p.set(this.pos.subarray(0, this.len));
    this.keys = k;
    this.values = v;
    this.pos = p;
  }

  append(position: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number): void {
    if (this.len === this.pos.length) this.grow();
    const d = this.headDim;
    this.keys.set(k.subarray(kOff, kOff + d), this.len * d);
    this.values.set(v.subarray(vOff, vOff + d), this.len * d);
    this.pos[this.len] = position;
    this.lm[this.len] = 0;
    this.len++;
  }

  keep(idx: Int32Array): void {
    const d = this.headDim;
    let prev = -1;
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j];
      if (!Number.isInteger(i) || i <= prev || i >= this.len) {
        throw new RangeError(`cacheIndices must be strictly increasing integers in [0, ${this.len}); entry ${j} is ${i}`);
      }
      prev = i;
    }
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j];
      if (i === j) continue;
      this.keys.copyWithin(j * d, i * d, (i + 1) * d);
      this.values.copyWithin(j * d, i * d, (i + 1) * d);
      this.pos[j] = this.pos[i];
      this.lm[j] = this.lm[i];
    }
    this.len = idx.length;
  }
}

/** One layer's cache; implements the policy-facing LayerCacheView. */
export class LayerKvCache implements LayerCacheView {
  private readonly heads: HeadCache[];

  constructor(
    readonly layer: number,
    readonly nHeads: number,
    readonly nKvHeads: number,
    readonly headDim: number,
    initialCapacity = 64,
  ) {
    this.heads = Array.from({ length: nKvHeads }, () => new HeadCache(headDim, initialCapacity));
  }

  private head(kvHead: number): HeadCache {
    if (!Number.isInteger(kvHead) || kvHead < 0 || kvHead >= this.nKvHeads) throw new RangeError(`kvHead must be an integer in [0, ${this.nKvHeads}), got ${kvHead}`);
    return this.heads[kvHead];
  }

  length(kvHead: number): number {
    return this.head(kvHead).len;
  }

  positions(kvHead: number): Int32Array {
    const h = this.head(kvHead);
    return h.pos.slice(0, h.len);
  }

  /** Live view (valid until the next append or keep on this head). */
  keys(kvHead: number): Float32Array {
    const h = this.head(kvHead);
    return h.keys.subarray(0, h.len * this.headDim);
  }

  /** Live view (valid until the next append or keep on this head). */
  values(kvHead: number): Float32Array {
    const h = this.head(kvHead);
    return h.values.subarray(0, h.len * this.headDim);
  }

  /** Live view of the entries' log multiplicities (valid until the next append or keep on this head). */
  logMass(kvHead: number): Float32Array {
    const h = this.head(kvHead);
    return h.lm.subarray(0, h.len);
  }

  keep(kvHead: number, cacheIndices: Int32Array): void {
    if (!(cacheIndices instanceof Int32Array)) throw new TypeError('cacheIndices must be an Int32Array');
    this.head(kvHead).keep(cacheIndices);
  }

  /** Appends one token's key and value (headDim floats at the given offsets) to a KV head. */
  append(kvHead: number, position: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number): void {
    this.head(kvHead).append(position, k, kOff, v, vOff);
  }

  /** Total cached entries over the KV heads. */
  totalEntries(): number {
    return this.heads.reduce((a, h) => a + h.len, 0);
  }
}

/** The whole model's cache: one LayerKvCache per layer. */
export class KvCache {
  readonly layers: readonly LayerKvCache[];

  constructor(nLayers: number, nHeads: number, nKvHeads: number, headDim: number, initialCapacity = 64) {
    this.layers = Array.from({ length: nLayers }, (_, l) => new LayerKvCache(l, nHeads, nKvHeads, headDim, initialCapacity));
  }

  layer(l: number): LayerKvCache {
    if (!Number.isInteger(l) || l < 0 || l >= this.layers.length) throw new RangeError(`layer must be an integer in [0, ${this.layers.length}), got ${l}`);
    return this.layers[l];
  }

  /** Total cached entries over all layers and KV heads. */
  totalEntries(): number {
    return this.layers.reduce((a, l) => a + l.totalEntries(), 0);
  }
}
