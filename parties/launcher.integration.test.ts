/**
 * Three real party processes over WebSockets on loopback, started by the launcher.
 * Fault injection: a wrong key file, a party killed or stopped mid-protocol (CLI input errors:
 * cli/main.integration.test.ts).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MpcError } from '../protocols/errors.js';
import { generateIdentity, writeKeyFile } from './identity.js';
import { runLocalParties, runLocalPartiesSettled, PartiesFailedError, type PartyOutcome } from './launcher.js';

const quiet = () => undefined;
/** the selftest job loaded as a module (the registry path is covered by the first test) */
const SELFTEST = 'parties/selftest-job.ts#selftestJob';
// child startup under tsx can take seconds on a busy machine: the handshake timeout covers it
const opts = { onLine: quiet, recvTimeoutMs: 2000, sessionOptions: { handshakeTimeoutMs: 15_000, heartbeatMs: 500, heartbeatTimeoutMs: 5000 }, timeoutMs: 60_000 };

function codes(outcomes: readonly PartyOutcome[]): (string | undefined)[] {
  return outcomes.map((o) => o.error?.code);
}

describe('launcher + WebSocket parties in three processes', () => {
  it('runs the selftest job (share, add, reveal) and every party agrees', async () => {
    const lines: string[] = [];
    const r = await runLocalParties({ ...opts, job: 'selftest', jobArgs: { x: [5, -7, 1 << 30], y: [1, 2, 3] }, onLine: (p, l) => lines.push(`[P${p}] ${l}`) });
    expect(r.results).toEqual([
      [6, -5, (1 << 30) + 3],
      [6, -5, (1 << 30) + 3],
      [6, -5, (1 << 30) + 3],
    ]);
    expect(r.stats.map((s) => s.rounds)).toEqual([3, 3, 3]);
    expect(r.stats.every((s) => s.mode === 'sealed')).toBe(true);
    // payload bytes: each owner sends 2 x 2n words; everyone sends n words in the reveal
    expect(r.stats[0].bytesSent).toBe(2 * 2 * 3 * 8 + 3 * 8);
    expect(lines.some((l) => l.startsWith('[P2] selftest: x + y = [6, -5'))).toBe(true);
  });

  it('loads a job module; pairwise and common PRG streams agree across processes', async () => {
    const r = await runLocalParties({ ...opts, jobModule: 'testing/party-jobs.ts#seedProbe', insecurePlaintext: true });
    const [a, b, c] = r.results as { next: string; prev: string; common: string }[];
    expect(a.next).toBe(b.prev);
    expect(b.next).toBe(c.prev);
    expect(c.next).toBe(a.prev);
    expect(new Set([a.common, b.common, c.common]).size).toBe(1);
    expect(r.stats.every((s) => s.mode === 'plain')).toBe(true);
  });

  it('a party with the wrong key is rejected: every party fails with MPC_ERR_AUTH or hears of it (never a timeout)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-test-'));
    try {
      const wrong = join(dir, 'wrong.key');
      writeKeyFile(wrong, generateIdentity());
      const e = await runLocalParties({ ...opts, jobModule: SELFTEST, perParty: [undefined, { keyPath: wrong }] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PartiesFailedError);
      const outcomes = (e as PartiesFailedError).outcomes;
      // no party waits for the handshake timeout (its code would be MPC_ERR_TIMEOUT): whoever
      // checks the bad signature first fails with AUTH and tells the others, who may hear that
      // first, by a handshake reject (AUTH) or an abort (MPC_ERR_ABORTED); both messages carry
      // the AUTH cause. Which one a party sees depends on scheduling, so both codes are right.
      for (const o of outcomes) {
        expect(['MPC_ERR_AUTH', 'MPC_ERR_ABORTED'], o.error?.message).toContain(o.error?.code);
        expect(o.error?.message).toContain('MPC_ERR_AUTH');
        expect(o.exitCode).toBe(1);
        expect(o.killed).toBe(false);
      }
      expect(codes(outcomes)).toContain('MPC_ERR_AUTH');
      expect((e as PartiesFailedError).code).toBe('MPC_ERR_AUTH');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a party killed mid-protocol: the survivors fail with MPC_ERR_PEER_CLOSED and exit non-zero', async () => {
    let killedAt = 0;
    const { outcomes } = await runLocalPartiesSettled({
      ...opts,
      jobModule: 'testing/party-jobs.ts#ticker',
      jobArgs: { rounds: 1000, pauseMs: 5 },
      onSpawn: (p, child) => {
        if (p !== 2) return;
        child.stdout?.on('data', (d: Buffer) => {
          if (!killedAt && d.toString().includes('tick 5')) {
            killedAt = Date.now();
            child.kill('SIGKILL');
          }
        });
      },
    });
    expect(killedAt).toBeGreaterThan(0);
    expect(outcomes[2].signal).toBe('SIGKILL');
    for (const p of [0, 1]) {
      expect(['MPC_ERR_PEER_CLOSED', 'MPC_ERR_ABORTED']).toContain(outcomes[p].error?.code);
      expect(outcomes[p].error?.step).toMatch(/^tick\./);
      expect(outcomes[p].exitCode).toBe(1);
      expect(outcomes[p].killed).toBe(false);
    }
    expect(outcomes.some((o) => o.error?.code === 'MPC_ERR_PEER_CLOSED' && o.error.peer === 2)).toBe(true);
  });

  it('a stalled party (SIGSTOP): the survivors time out within the receive timeout, nobody is left running', async () => {
    let stoppedAt = 0;
    let pid = 0;
    const { outcomes } = await runLocalPartiesSettled({
      ...opts,
      graceMs: 500,
      jobModule: 'testing/party-jobs.ts#ticker',
      jobArgs: { rounds: 1000, pauseMs: 5 },
      onSpawn: (p, child) => {
        if (p !== 1) return;
        pid = child.pid ?? 0;
        child.stdout?.on('data', (d: Buffer) => {
          if (!stoppedAt && d.toString().includes('tick 3')) {
            stoppedAt = Date.now();
            child.kill('SIGSTOP');
          }
        });
      },
    });
    expect(stoppedAt).toBeGreaterThan(0);
    for (const p of [0, 2]) {
      expect(['MPC_ERR_TIMEOUT', 'MPC_ERR_ABORTED']).toContain(outcomes[p].error?.code);
      expect(outcomes[p].exitCode).toBe(1);
    }
    expect(outcomes.some((o) => o.error?.code === 'MPC_ERR_TIMEOUT' && o.error.peer === 1)).toBe(true);
    expect(outcomes[1].killed).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow(); // the stopped child is gone
  });
});

describe('launcher timeout', () => {
  it('kills every child after timeoutMs and rejects with MPC_ERR_TIMEOUT', async () => {
    const pids: number[] = [];
    const t0 = Date.now();
    const e = await runLocalParties({
      ...opts,
      timeoutMs: 4000,
      jobModule: 'testing/party-jobs.ts#ticker',
      jobArgs: { rounds: 1_000_000, pauseMs: 5 },
      onSpawn: (_p, child) => void pids.push(child.pid ?? 0),
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PartiesFailedError);
    expect((e as PartiesFailedError).code).toBe('MPC_ERR_TIMEOUT');
    expect((e as PartiesFailedError).outcomes.every((o) => o.killed)).toBe(true);
    // killed by the launcher's timer, not run to the end (the job would take > 80 minutes):
    // the property is asserted above (code, every child killed); this bound is only a guard
    expect(Date.now() - t0).toBeLessThan(50_000);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
