/**
 * Which path runs on each side of the size thresholds, with the expected rounds, messages
 * and bytes written out by hand from the protocol descriptions (mul.ts, rotate.ts), NOT
 * computed with the constants or chunking code under test:
 *   ROTATE_MIN = 2^14 (rotate.ts balanced): below it the role of P0 rolls from call to call
 *     (a fresh session's first call: party 0 plays P0); from it on the elements split into
 *     three word-aligned chunks (16384 elements = 256 words = 86 + 85 + 85 words = 5504 +
 *     5440 + 5440 elements), party p plays role (p - r) mod 3 in chunk r, and every message
 *     carries a 24-byte (3-word) lane header.
 *   ONE_ROUND_MAX = 2^15 (mul.ts mulTrunc): up to it the fused product-truncation takes one
 *     round (P0 role 24 bytes/element, P1 and P2 roles 8), above it two rounds (8 bytes per
 *     element from every party, no rotation).
 * If a threshold moves, the first test fails and the hand-written figures below must be redone.
 */
import { describe, expect, it } from 'vitest';
import { costOf, runTrio } from '../testing/trio.js';
import { ONE_ROUND_MAX, mulFixed, trunc } from './mul.js';
import { ROTATE_MIN, balancedBytes } from './rotate.js';
import { constant, reveal } from './sharing.js';
import type { StepStats } from './channel.js';

const F = 18;

async function costs(n: number, op: 'trunc' | 'mulFixed'): Promise<{ cost: StepStats[]; ok: boolean }> {
  const res = await runTrio(async (ctx) => {
    // values i/8 (on the grid) so the result is checkable: trunc of x*2^f is x (+1 ulp at most)
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = ((i % 97) - 48) / 8;
    const x = constant(ctx, [n], v, op === 'trunc' ? 2 * F : F);
    const c = costOf(ctx);
    const y = op === 'trunc' ? await trunc(ctx, x) : await mulFixed(ctx, x, constant(ctx, [n], 1));
    const cost = c();
    const out = await reveal(ctx, y);
    let ok = out.scale === F;
    for (let i = 0; i < n && ok; i++) {
      const d = BigInt.asIntN(64, out.data[i]) - BigInt(v[i] * 2 ** F);
      ok = d === 0n || d === 1n;
    }
    return { cost, ok };
  });
  return { cost: res.map((r) => r.cost), ok: res.every((r) => r.ok) };
}

/**
 * Bytes each party sends in the rotated one-round mulFixed over chunks of c0, c1, c2 elements:
 * in chunk r party p plays role (p - r) mod 3, so party 0 is P0 in chunk 0, P2 in chunk 1 and
 * P1 in chunk 2 (party 1: P1, P0, P2; party 2: P2, P1, P0); P0 sends 24 bytes per element, P1
 * and P2 8; two messages of 24 header bytes each.
 */
function rotatedMulFixed(c0: number, c1: number, c2: number): number[] {
  return [24 * c0 + 8 * c1 + 8 * c2 + 48, 8 * c0 + 24 * c1 + 8 * c2 + 48, 8 * c0 + 8 * c1 + 24 * c2 + 48];
}

const rounds = (c: StepStats[]): number[] => c.map((s) => s.rounds);
const msgs = (c: StepStats[]): number[] => c.map((s) => s.messagesSent);
const bytes = (c: StepStats[]): number[] => c.map((s) => s.bytesSent);

describe('size thresholds', () => {
  it('the thresholds are where the figures below assume', () => {
    expect(ROTATE_MIN).toBe(16384);
    expect(ONE_ROUND_MAX).toBe(32768);
  });

  // [what, n, op, rounds, messages, bytes] per party, written out from the protocol descriptions
  const CASES: [string, number, 'trunc' | 'mulFixed', number[], number[], number[]][] = [
    ['trunc at ROTATE_MIN - 1 rolls: party 0 sends 8 bytes/element in one message', 16383, 'trunc', [1, 1, 1], [1, 0, 0], [8 * 16383, 0, 0]],
    ['trunc at ROTATE_MIN rotates: each party sends its P0 chunk plus a header', 16384, 'trunc', [1, 1, 1], [1, 1, 1], [8 * 5504 + 24, 8 * 5440 + 24, 8 * 5440 + 24]],
    ['mulFixed at ROTATE_MIN - 1: one round, unrotated, P0 24 bytes/element, P1 and P2 8', 16383, 'mulFixed', [1, 1, 1], [2, 1, 1], [24 * 16383, 8 * 16383, 8 * 16383]],
    ['mulFixed at ROTATE_MIN: one round, rotated, two headed messages per party', 16384, 'mulFixed', [1, 1, 1], [2, 2, 2], rotatedMulFixed(5504, 5440, 5440)],
    // 32768 elements = 512 words = 171 + 171 + 170 words
    ['mulFixed at ONE_ROUND_MAX: still one round (rotated)', 32768, 'mulFixed', [1, 1, 1], [2, 2, 2], rotatedMulFixed(10944, 10944, 10880)],
    ['mulFixed at ONE_ROUND_MAX + 1: two rounds, 8 bytes/element from every party', 32769, 'mulFixed', [2, 2, 2], [1, 1, 1], [8 * 32769, 8 * 32769, 8 * 32769]],
  ];

  it.each(CASES)('%s', async (_what, n, op, wantRounds, wantMsgs, wantBytes) => {
    const { cost, ok } = await costs(n, op);
    expect(ok).toBe(true);
    expect(rounds(cost)).toEqual(wantRounds);
    expect(msgs(cost)).toEqual(wantMsgs);
    expect(bytes(cost)).toEqual(wantBytes);
    // the module's cost function (rotate.ts balancedBytes) gives the same figures
    if (wantRounds[0] === 1) {
      const perRole: [number, number, number] = op === 'trunc' ? [8, 0, 0] : [24, 8, 8];
      expect([0, 1, 2].map((p) => balancedBytes(n, perRole, p, wantMsgs[p]))).toEqual(wantBytes);
    }
  });
});
