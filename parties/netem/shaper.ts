/**
 * The schedule of one direction of an emulated link, as pure arithmetic on times (ns, any
 * monotonic origin): when does a piece of `bytes` that reached the relay at `arrival` leave it?
 *
 *   1. token bucket (rate r bytes/ns, depth B bytes): the bucket refills at r up to B; a piece
 *      of s bytes leaves the bucket once s tokens are there (a piece larger than B waits for the
 *      whole s, i.e. it is serialised at r); pieces leave the bucket in arrival order. With
 *      r = Infinity the bucket never delays.
 *   2. one-way delay d, plus with jitter j a uniform draw in [-j, +j] per piece (never below 0);
 *   3. order: a piece is never released before the piece ahead of it (one TCP stream), so with
 *      jitter the delay of a piece is max(own draw, the previous piece's release).
 * release = max(bucketExit + d + jitter, previousRelease).
 *
 * A back-to-back stream therefore arrives at r after the first B bytes; a small message on an
 * idle link arrives d after it was sent. (A real link serialises every byte: with B = 0 this
 * is exact; the default B of 16 KiB lets up to one relay piece pass without its serialisation
 * time, B / r = 0.13 ms at 1 Gbit/s, 0.33 ms at 400 Mbit/s.)
 */
import type { LinkShape } from './settings.js';

/** A seeded uniform [0, 1) generator (xorshift32; jitter only, never for secrets). */
export function jitterRng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export class DirectionShaper {
  private readonly rate: number;
  private readonly burst: number;
  private readonly delayNs: number;
  private readonly jitterNs: number;
  private tokens: number;
  /** time the bucket state refers to */
  private last = -Infinity;
  private lastRelease = -Infinity;
  /** whether the last scheduled piece waited for tokens (the link was busy: it is part of a stream) */
  lastPaced = false;

  constructor(
    shape: LinkShape,
    private readonly random: () => number = jitterRng(1),
  ) {
    this.rate = shape.rateBps / 8 / 1e9;
    this.burst = shape.burstBytes;
    this.tokens = shape.burstBytes;
    this.delayNs = shape.delayMs * 1e6;
    this.jitterNs = shape.jitterMs * 1e6;
  }

  /** Release time (ns) of a piece of `bytes` that arrived at `arrivalNs`; call in arrival order. */
  schedule(arrivalNs: number, bytes: number): number {
    let exit = arrivalNs;
    this.lastPaced = false;
    if (Number.isFinite(this.rate)) {
      const t0 = Math.max(arrivalNs, this.last);
      let tok = this.last === -Infinity ? this.burst : Math.min(this.burst, this.tokens + this.rate * (t0 - this.last));
      exit = t0;
      if (tok < bytes) {
        exit = t0 + (bytes - tok) / this.rate;
        tok = bytes;
        this.lastPaced = true;
      }
      this.tokens = tok - bytes;
      this.last = exit;
    }
    let d = this.delayNs;
    if (this.jitterNs > 0) d = Math.max(0, d + this.jitterNs * (2 * this.random() - 1));
    const release = Math.max(exit + d, this.lastRelease);
    this.lastRelease = release;
    return release;
  }
}
