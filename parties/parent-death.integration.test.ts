/**
 * A party process launched by a parent dies with it: the parent (a small Node script running
 * the launcher) is SIGKILLed while its three parties sit in a long pause between rounds, with
 * every timeout that could end them on their own (receive, handshake, heartbeat, launcher)
 * far beyond the test's window. Only the children's reaction to the closed IPC channel
 * (cli/commands/party.ts: `process.on('disconnect', ...)`) can make them exit in time; the job
 * logs nothing after the kill, so no EPIPE on a dead stdout ends them either.
 */
import { describe, it, expect } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childExecArgv, partyEntry } from './launcher.js';

const here = dirname(fileURLToPath(import.meta.url));
/** a child must be gone this long after its parent died (every timeout of its own is >= 60 s) */
const EXIT_WITHIN_MS = 5000;
const LONG_MS = 120_000;

/** Is `pid` still running? (A zombie waiting for its new parent to reap it counts as gone.) */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync('/proc/self/stat')) {
    if (!existsSync(stat)) return false;
    try {
      // the state follows the command name in parentheses: "pid (comm) S ..."
      const text = readFileSync(stat, 'utf8');
      return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false; // gone between the two calls
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parentScript(): string {
  const launcher = pathToFileURL(resolve(here, 'launcher.ts')).href;
  const jobModule = `${resolve(here, '..', 'testing', 'party-jobs.ts')}#ticker`;
  const slow = { recvTimeoutMs: LONG_MS, handshakeTimeoutMs: LONG_MS, heartbeatMs: 1000, heartbeatTimeoutMs: LONG_MS };
  return `
import { runLocalPartiesSettled } from ${JSON.stringify(launcher)};
await runLocalPartiesSettled({
  jobModule: ${JSON.stringify(jobModule)},
  // one round, then a pause far longer than the test: the parties sit idle, logging nothing
  jobArgs: { rounds: 2, pauseMs: ${LONG_MS} },
  recvTimeoutMs: ${LONG_MS},
  sessionOptions: ${JSON.stringify(slow)},
  timeoutMs: ${2 * LONG_MS},
  graceMs: ${LONG_MS},
  onSpawn: (party, child) => console.log('pid ' + party + ' ' + child.pid),
  onLine: (party, line) => console.log('[P' + party + '] ' + line),
});
console.log('parent done');
`;
}

describe('a party process whose parent dies', () => {
  it('exits at once (SIGKILL of the launching process)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-parent-'));
    const pids = new Map<number, number>();
    let parent: ChildProcess | undefined;
    try {
      const script = join(dir, 'parent.mjs');
      writeFileSync(script, parentScript());
      const entry = partyEntry();
      // the launcher's session files go to TMPDIR: inside `dir`, removed below
      parent = spawn(process.execPath, [...childExecArgv(entry), script], {
        cwd: resolve(here, '..'),
        env: { ...process.env, TMPDIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const p = parent;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      const lines: string[] = [];
      const ready = new Promise<void>((res, rej) => {
        const ticked = new Set<number>();
        const onLine = (line: string) => {
          lines.push(line);
          const pid = /^pid ([0-2]) (\d+)$/.exec(line);
          if (pid) pids.set(Number(pid[1]), Number(pid[2]));
          const tick = /^\[P([0-2])\] tick 0$/.exec(line);
          if (tick) ticked.add(Number(tick[1]));
          if (ticked.size === 3 && pids.size === 3) res();
        };
        createInterface({ input: p.stdout! }).on('line', onLine);
        createInterface({ input: p.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`));
        p.once('exit', (code, signal) => rej(new Error(`the parent exited early (${signal ?? code}):\n${lines.join('\n')}`)));
      });
      await ready; // all three parties connected and finished a round: each is now in its pause
      expect([...pids.values()].every(running)).toBe(true);

      p.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      while ([...pids.values()].some(running) && Date.now() - killedAt < EXIT_WITHIN_MS) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const left = [...pids].filter(([, pid]) => running(pid)).map(([party]) => party);
      expect(left, `parties still running ${EXIT_WITHIN_MS} ms after their parent died`).toEqual([]);
    } finally {
      if (parent && parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      for (const pid of pids.values()) if (running(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
