import { describe, expect, it } from 'vitest';
import { PreciseTimer, nowNs } from './precise-timer.js';

describe('PreciseTimer', () => {
  it('fires once per deadline and never before it, spun or not; a new deadline replaces the old one', async () => {
    let fired: (() => void) | undefined;
    const timer = new PreciseTimer(() => fired?.());
    try {
      for (const [aheadMs, precise] of [[0.05, true], [0.3, true], [2, true], [5, true], [2, false], [0, true]] as const) {
        const due = nowNs() + aheadMs * 1e6;
        const at = await new Promise<number>((resolve) => {
          fired = () => resolve(nowNs());
          timer.at(due, precise);
        });
        expect(at).toBeGreaterThanOrEqual(due);
      }
      // replaced: only the later deadline fires
      let count = 0;
      fired = () => count++;
      timer.at(nowNs() + 1e6);
      const due = nowNs() + 3e6;
      timer.at(due);
      await new Promise((r) => setTimeout(r, 20));
      expect(count).toBe(1);
      timer.at(nowNs() + 1e6);
      timer.cancel();
      await new Promise((r) => setTimeout(r, 10));
      expect(count).toBe(1);
      expect(timer.stats.fired).toBe(7);
    } finally {
      await timer.close();
    }
    expect(() => timer.at(nowNs())).toThrow(/closed/);
  });
});
