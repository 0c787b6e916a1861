/**
 * The core protocol blocks in three real party processes over sealed WebSockets on
 * loopback (parties/launcher.ts), checked against float64: the same code paths as the
 * in-memory tests, but through the real transport (framing, sealing, ordering).
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runLocalParties } from '../parties/launcher.js';
import type { CheckResult, ParallelCheckResult } from '../testing/protocol-jobs.js';

const JOBS = fileURLToPath(new URL('../testing/protocol-jobs.ts', import.meta.url));
const F = 18;

/** Run a job of testing/protocol-jobs.ts on three sealed WebSocket parties. */
async function onParties<T>(job: string, jobArgs: unknown): Promise<T[]> {
  const { results } = await runLocalParties({
    jobModule: `${JOBS}#${job}`,
    jobArgs,
    onLine: () => undefined,
    recvTimeoutMs: 30_000,
    sessionOptions: { handshakeTimeoutMs: 20_000 },
    timeoutMs: 120_000,
  });
  return results as T[];
}

/** n fixed-point test values x, and y equal to x at every `tieEvery`-th position. */
function testValues(n: number, fx: number, fy: number, amp: number, tieEvery: number): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = Math.round(Math.sin(i * fx) * amp * 2 ** F) / 2 ** F;
    x.push(v);
    y.push(i % tieEvery === 0 ? v : Math.round(Math.cos(i * fy) * amp * 2 ** F) / 2 ** F);
  }
  return { x, y };
}

describe('core protocols over WebSockets in three processes', () => {
  it('lt, eq, mulFixed, trunc, argmax, matmulFixed agree with float64 on every party', async () => {
    const rowLen = 10;
    const n = 300; // above the rotation threshold: the role-rotated paths run too
    const { x, y } = testValues(n, 1.7, 0.9, 40, 7);
    const rs = await onParties<CheckResult>('protocolCheck', { x, y, rowLen });
    for (const r of rs) {
      expect(r).toEqual(rs[0]);
    }
    const r = rs[0];
    const ulp = 2 ** -F;
    for (let i = 0; i < n; i++) {
      expect(r.lt[i]).toBe(x[i] < y[i] ? 1 : 0);
      expect(r.eq[i]).toBe(x[i] === y[i] ? 1 : 0);
      expect(Math.abs(r.mulFixed[i] - x[i] * y[i])).toBeLessThanOrEqual(2 * ulp);
      expect(Math.abs(r.trunc[i] - x[i])).toBeLessThanOrEqual(2 ** -(F - 4));
    }
    for (let row = 0; row < n / rowLen; row++) {
      let best = 0;
      for (let j = 1; j < rowLen; j++) if (x[row * rowLen + j] > x[row * rowLen + best]) best = j;
      for (let j = 0; j < rowLen; j++) expect(r.argmax[row * rowLen + j]).toBe(j === best ? 1 : 0);
      // matmul [rows, rowLen] x [rows, rowLen]^T: entry (row, row) is the row's dot product
      let dot = 0;
      for (let j = 0; j < rowLen; j++) dot += x[row * rowLen + j] * y[row * rowLen + j];
      expect(Math.abs(r.matmul[row * (n / rowLen) + row] - dot)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('the round multiplexer: mulFixed, lt and a nested parallel of eq and trunc share rounds (7 = the longest lane)', async () => {
    const n = 100;
    const { x, y } = testValues(n, 1.3, 0.7, 30, 5);
    const rs = await onParties<ParallelCheckResult>('parallelCheck', { x, y, rowLen: 1 });
    for (const r of rs) {
      expect(r.rounds).toBe(7);
      expect({ ...r, bytesSent: 0 }).toEqual({ ...rs[0], bytesSent: 0 });
    }
    const r = rs[0];
    for (let i = 0; i < n; i++) {
      expect(r.lt[i]).toBe(x[i] < y[i] ? 1 : 0);
      expect(r.eq[i]).toBe(x[i] === y[i] ? 1 : 0);
      expect(Math.abs(r.mulFixed[i] - x[i] * y[i])).toBeLessThanOrEqual(2 * 2 ** -F);
      expect(Math.abs(r.trunc[i] - x[i])).toBeLessThanOrEqual(2 ** -(F - 4));
    }
  });
});
