/**
 * Seeded, non-cryptographic uniform random numbers for policies that need noise
 * (Keyformer's Gumbel noise). Deterministic from (seed, stream ids): the same seed gives
 * the same numbers whatever order layers and heads are visited in. Not for secrets.
 */

/** 32-bit mix of a list of integers (murmur3 finaliser chained). */
export function mixSeed(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    let k = Math.imul(x | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32 stream: next() returns a float in (0, 1). */
export class SeededRng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296);
  }
  /** standard Gumbel sample -log(-log(u)) */
  gumbel(): number {
    return -Math.log(-Math.log(this.next()));
  }
}
