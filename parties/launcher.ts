/**
 * The local launcher: run one job on three party PROCESSES over real WebSockets on loopback.
 *
 * ```ts
 * import { runLocalParties } from '../parties/launcher.js';
 * const { results, stats, wallMs } = await runLocalParties({
 *   jobModule: 'bench/my-jobs.ts#mulBench',  // or job: 'selftest' (party-main.ts PARTY_JOBS)
 *   jobArgs: { n: 1000 },                    // PUBLIC: JSON, the same on every party (compared)
 *   privateInputs: [{ model: 'm.bin' }, { prompt: 'Hi' }, undefined],  // each party's own, on its stdin
 *   recvTimeoutMs: 5000,
 *   onLine: (party, line) => console.log(`[P${party}] ${line}`),
 * });
 * ```
 * What it does:
 *  1. writes a fresh loopback session (random session id, fresh Ed25519 keys, free ports on
 *     127.0.0.1) into a temp dir (deleted afterwards);
 *  2. forks three children running the party entry point (parties/party-main.ts under tsx
 *     when this file is TypeScript — i.e. from vitest or `npx tsx` — or
 *     `dist/parties/party-main.js` when compiled); the parent's execArgv is carried, plus
 *     tsx's loader when the parent lacks it; the public job arguments go on every child's
 *     command line (`--job-args`); a child's private inputs go to it alone, as JSON on its
 *     standard input (`--private-inputs -`), so they never show in any process's arguments
 *     or environment;
 *  3. streams every stdout/stderr line of each child to `onLine` (default: `[P<i>] line` on
 *     this process's stdout);
 *  4. collects each party's job result and channel statistics over IPC (structured clone:
 *     typed arrays, bigint and Map survive);
 *  5. if any party fails (error report, non-zero exit, or exit without a result), waits a
 *     short grace for the others to exit on their own (they get the abort frames), kills the
 *     remaining children and rejects with a `PartiesFailedError` (an MpcError carrying the
 *     FIRST party error's code, plus every party's outcome);
 *  6. after `timeoutMs` (default 10 min) kills every child and rejects with MPC_ERR_TIMEOUT.
 * No child outlives the call: children also exit when the IPC channel to this process
 * closes (e.g. this process dies).
 * With `net` (a NetSetting: lan, wan4, wan40, custom) a relay process sits between every
 * pair of parties and emulates that link (parties/netem/): it listens on parties 1 and 2's
 * session addresses, and they listen behind it on 127.0.0.2 (same ports, same session file).
 *
 * Job modules are imported by the children: the path is resolved against the parent's
 * working directory, and the children run in that same directory.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import type { PartyId } from '../protocols/channel.js';
import { MpcError, MPC_ERROR_CODES, type MpcErrorCode } from '../protocols/errors.js';
import { type PrivateInputs, parseJobModuleSpec } from './job.js';
import { makeLocalSession, writeLocalSession, type LocalSessionFiles } from './local-session.js';
import type { PartyIpcMessage } from './party-main.js';
import type { ErrorReport, PartyStats } from './run-party.js';
import { DEFAULT_SESSION_OPTIONS, readSessionFile, type SessionOptions } from './session-config.js';
import type { RelayStats } from './netem/relay.js';
import { BEHIND_RELAY_HOST, relayEntry, sessionRoutes, startRelayProcess, type RelayHandle } from './netem/relay-launch.js';
import type { NetSetting } from './netem/settings.js';

/**
 * glibc allocator settings every party process gets by default (a variable already set in the
 * environment wins). A party allocates and frees many large typed arrays per round; with
 * glibc's defaults each one is a fresh mmap whose pages fault in on first touch, which on
 * virtual machines costs more than the arithmetic (measured here: AES-GCM over a fresh 16 MiB
 * buffer 0.23 GB/s, 2.8 GB/s with these settings). Keeping such blocks in the heap avoids it.
 * When you start `mpcache party` yourself, export the same variables.
 */
export const PARTY_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(4 * 1024 * 1024 * 1024),
  MALLOC_TOP_PAD_: String(256 * 1024 * 1024),
};

export interface LocalPartiesOptions {
  /** name of a job of the party entry point (party-main.ts PARTY_JOBS: 'selftest'); exactly one of job / jobModule */
  readonly job?: string;
  /** 'path/to/module.ts#exportName' (relative to the working directory) */
  readonly jobModule?: string;
  /** PUBLIC job arguments: JSON-encoded onto every party's command line, compared by the parties before the job runs */
  readonly jobArgs?: unknown;
  /** each party's PRIVATE inputs (parties/job.ts), written as JSON to that child's standard input only */
  readonly privateInputs?: readonly (PrivateInputs | undefined)[];
  /** run without sealing (benchmarks only; the children say so on stderr) */
  readonly insecurePlaintext?: boolean;
  readonly fracBits?: number;
  /** per-receive timeout of every party (default 30000) */
  readonly recvTimeoutMs?: number;
  /** further session options (handshake timeout, limits, heartbeats) */
  readonly sessionOptions?: Partial<SessionOptions>;
  /** extra environment for the children (on top of this process's and PARTY_ALLOCATOR_ENV) */
  readonly env?: Record<string, string>;
  /** every output line of every child (default: `[P<i>] line` on stdout) */
  readonly onLine?: (party: number, line: string) => void;
  /** kill everything and reject after this long (default 600000) */
  readonly timeoutMs?: number;
  /**
   * emulate this link on every pair of parties (parties/netem/): a relay process between
   * them shapes each direction (default: plain loopback; see parseNetSetting)
   */
  readonly net?: NetSetting;
}

/** Test hooks: the same run with per-party changes (wrong keys, extra flags, killing a child). */
export interface LocalPartiesTestOptions extends LocalPartiesOptions {
  /** per party: extra CLI arguments, or a replacement key file path */
  readonly perParty?: readonly ({ readonly extraArgs?: readonly string[]; readonly keyPath?: string } | undefined)[];
  /** called once per child right after it is forked */
  readonly onSpawn?: (party: PartyId, child: ChildProcess) => void;
  /** called with the session files before the children start (may rewrite them) */
  readonly onSession?: (files: LocalSessionFiles) => void;
  /** how long survivors may take to exit after a first failure before being killed
   * (default: the largest of the receive, handshake and heartbeat timeouts, plus 2 s) */
  readonly graceMs?: number;
}

/** How one party process ended. */
export interface PartyOutcome {
  readonly party: PartyId;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly stats?: PartyStats;
  readonly error?: ErrorReport;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** the launcher killed this child (after another party failed, or on timeout) */
  readonly killed: boolean;
  /** ms from the launch until this child exited */
  readonly exitMs: number;
}

export interface LocalPartiesResult {
  readonly results: [unknown, unknown, unknown];
  readonly stats: [PartyStats, PartyStats, PartyStats];
  /** from forking the children until the last one exited */
  readonly wallMs: number;
  /** the link-emulation relay's counters (with `net` set) */
  readonly relay?: RelayStats;
}

export type { PartyIpcMessage } from './party-main.js';

/** Rejection of runLocalParties: the first failing party's code, with every outcome. */
export class PartiesFailedError extends MpcError {
  readonly outcomes: readonly PartyOutcome[];
  constructor(code: MpcErrorCode, message: string, outcomes: readonly PartyOutcome[], first: ErrorReport | undefined) {
    super(code, message, { party: first?.party, peer: first?.peer, step: first?.step, round: first?.round });
    this.name = 'PartiesFailedError';
    this.outcomes = outcomes;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const isTs = import.meta.url.endsWith('.ts');

/** The party entry point the children run: party-main.ts beside this file (party-main.js when compiled). */
export function partyEntry(): string {
  const p = join(here, isTs ? 'party-main.ts' : 'party-main.js');
  if (!existsSync(p)) throw new Error(`launcher: party entry ${p} not found`);
  return p;
}

/**
 * V8 flags for party processes: a 256 MB initial heap (a party allocates many short-lived
 * typed arrays per round; with the default small young generation it collects every few
 * rounds) and, on hosts with at most 4 cores, a single-threaded collector (three parties and
 * their GC helper threads otherwise compete for the cores). Measured on the 2-core machine,
 * default model decode at context 256: ~1170 -> ~920 ms per token. Users running
 * `mpcache party` by hand can pass the same flags to node.
 */
export function partyNodeFlags(cores = availableParallelism()): string[] {
  return ['--initial-heap-size=256', ...(cores <= 4 ? ['--single-threaded-gc'] : [])];
}

/** Node flags for the children: ours, the party flags (partyNodeFlags, unless ours set them), plus tsx's loader when the entry is TypeScript. */
export function childExecArgv(entry: string): string[] {
  const argv = [...process.execArgv];
  for (const f of partyNodeFlags()) {
    const name = f.split('=')[0];
    if (!argv.some((a) => a.split('=')[0] === name)) argv.push(f);
  }
  const hasTsx = argv.some((a) => a.includes('tsx'));
  if (entry.endsWith('.ts') && !hasTsx) {
    const loader = createRequire(import.meta.url).resolve('tsx');
    argv.push('--import', pathToFileURL(loader).href);
  }
  return argv;
}

function defaultOnLine(party: number, line: string): void {
  process.stdout.write(`[P${party}] ${line}\n`);
}

function isIpcMessage(m: unknown): m is PartyIpcMessage {
  return typeof m === 'object' && m !== null && ((m as { type?: unknown }).type === 'result' || (m as { type?: unknown }).type === 'error');
}

/**
 * Launch the three parties and report every outcome (never rejects because a party failed;
 * rejects only on bad options). Most callers want runLocalParties.
 */
export async function runLocalPartiesSettled(opts: LocalPartiesTestOptions): Promise<{ outcomes: PartyOutcome[]; wallMs: number; relay?: RelayStats }> {
  if ((opts.job === undefined) === (opts.jobModule === undefined)) throw new TypeError('runLocalParties: give exactly one of job, jobModule');
  if (opts.jobModule !== undefined) parseJobModuleSpec(opts.jobModule);
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const so = { ...DEFAULT_SESSION_OPTIONS, ...(opts.sessionOptions ?? {}), ...(opts.recvTimeoutMs !== undefined ? { recvTimeoutMs: opts.recvTimeoutMs } : {}) };
  // survivors end on their own within their timeouts; the grace is only a safety net
  const graceMs = opts.graceMs ?? Math.max(so.recvTimeoutMs, so.handshakeTimeoutMs, so.heartbeatTimeoutMs) + 2000;
  const onLine = opts.onLine ?? defaultOnLine;
  const options: Partial<SessionOptions> = { ...(opts.sessionOptions ?? {}) };
  if (opts.fracBits !== undefined) (options as { fracBits?: number }).fracBits = opts.fracBits;
  if (opts.recvTimeoutMs !== undefined) (options as { recvTimeoutMs?: number }).recvTimeoutMs = opts.recvTimeoutMs;
  const files = writeLocalSession(await makeLocalSession(options));
  let relay: RelayHandle | undefined;
  try {
    opts.onSession?.(files);
    if (opts.net?.link !== undefined) {
      // the relay takes the listeners' session addresses; they listen behind it (parties/netem/relay-launch.ts)
      relay = await startRelayProcess(opts.net.link, sessionRoutes(readSessionFile(files.sessionPath)), { execArgv: childExecArgv(relayEntry()) });
    }
    const entry = partyEntry();
    const execArgv = childExecArgv(entry);
    const jobArgs: string[] = [];
    if (opts.job !== undefined) jobArgs.push('--job', opts.job);
    else {
      const { path, exportName } = parseJobModuleSpec(opts.jobModule!);
      jobArgs.push('--job-module', `${isAbsolute(path) ? path : resolve(process.cwd(), path)}#${exportName}`);
    }
    if (opts.jobArgs !== undefined) jobArgs.push('--job-args', JSON.stringify(opts.jobArgs));
    if (opts.insecurePlaintext) jobArgs.push('--insecure-plaintext');
    jobArgs.push('--json'); // events as JSON lines (parties/job-output.ts parseEventLine)

    const t0 = performance.now();
    const children: ChildProcess[] = [];
    const outcomes: (PartyOutcome | undefined)[] = [undefined, undefined, undefined];
    const reports: (PartyIpcMessage | undefined)[] = [undefined, undefined, undefined];
    const killed = [false, false, false];
    let settle!: () => void;
    const allDone = new Promise<void>((r) => (settle = r));
    let killTimer: NodeJS.Timeout | undefined;

    const killAll = () => {
      children.forEach((c, i) => {
        if (outcomes[i] === undefined && c.exitCode === null && c.signalCode === null) {
          killed[i] = true;
          c.kill('SIGKILL');
        }
      });
    };
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      killAll();
    }, timeoutMs);

    for (const i of [0, 1, 2] as PartyId[]) {
      const pp = opts.perParty?.[i];
      const own = opts.privateInputs?.[i];
      const behindRelay = relay !== undefined && i > 0 ? ['--listen-host', BEHIND_RELAY_HOST] : [];
      const args = ['--session', files.sessionPath, '--id', String(i), '--key', pp?.keyPath ?? files.keyPaths[i], ...jobArgs, ...(own ? ['--private-inputs', '-'] : []), ...behindRelay, ...(pp?.extraArgs ?? [])];
      const child = fork(entry, args, {
        execArgv,
        env: { ...PARTY_ALLOCATOR_ENV, ...process.env, ...(opts.env ?? {}) },
        stdio: [own ? 'pipe' : 'ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      children.push(child);
      if (own && child.stdin) {
        child.stdin.on('error', () => undefined); // a child that dies first: its exit is reported below
        child.stdin.end(JSON.stringify(own));
      }
      for (const stream of [child.stdout, child.stderr]) {
        if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => onLine(i, line));
      }
      child.on('message', (m: unknown) => {
        if (isIpcMessage(m) && reports[i] === undefined) reports[i] = m;
      });
      let ended = false;
      const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
        if (ended) return;
        ended = true;
        const rep = reports[i];
        const ok = rep?.type === 'result' && code === 0;
        const error: ErrorReport | undefined =
          rep?.type === 'error'
            ? rep.error
            : ok
              ? undefined
              : {
                  code: killed[i] ? 'MPC_ERR_TIMEOUT' : 'MPC_ERR_PEER_CLOSED',
                  message: killed[i]
                    ? timedOut
                      ? `party ${i} was killed by the launcher after the run timeout of ${timeoutMs} ms`
                      : `party ${i} was killed by the launcher ${graceMs} ms after another party failed`
                    : `party ${i} exited with ${signal ?? `code ${code}`} without reporting a result`,
                  party: i,
                };
        outcomes[i] = {
          party: i,
          ok,
          ...(rep?.type === 'result' ? { result: rep.result, stats: rep.stats } : {}),
          ...(error ? { error } : {}),
          exitCode: code,
          signal,
          killed: killed[i],
          exitMs: performance.now() - t0,
        };
        if (!ok && killTimer === undefined) killTimer = setTimeout(killAll, graceMs);
        if (outcomes.every((o) => o !== undefined)) settle();
      };
      // 'close' waits for stdio to drain, so every line reaches onLine before we resolve
      child.on('close', onEnd);
      child.on('error', () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      opts.onSpawn?.(i, child);
    }
    await allDone;
    clearTimeout(timeout);
    if (killTimer) clearTimeout(killTimer);
    const wallMs = performance.now() - t0;
    const relayStats = await relay?.stop();
    return { outcomes: outcomes as PartyOutcome[], wallMs, ...(relayStats ? { relay: relayStats } : {}) };
  } finally {
    relay?.kill();
    files.remove();
  }
}

/** Run a job on three local party processes; see the file comment. (Test hooks are optional.) */
export async function runLocalParties(opts: LocalPartiesOptions | LocalPartiesTestOptions): Promise<LocalPartiesResult> {
  const { outcomes, wallMs, relay } = await runLocalPartiesSettled(opts);
  const failed = outcomes.filter((o) => !o.ok).sort((a, b) => a.exitMs - b.exitMs);
  if (failed.length > 0) {
    // the first party to fail on its own (not killed by us) carries the root cause
    const first = failed.find((o) => !o.killed && o.error?.code !== 'MPC_ERR_ABORTED') ?? failed.find((o) => !o.killed) ?? failed[0];
    const e = first.error;
    const code: MpcErrorCode = e && (MPC_ERROR_CODES as readonly string[]).includes(e.code) ? (e.code as MpcErrorCode) : 'MPC_ERR_ABORTED';
    const all = failed.map((o) => `P${o.party}: ${o.error?.message.split('\n')[0] ?? 'failed'}`).join(' | ');
    throw new PartiesFailedError(code, `party ${first.party} failed: ${e?.message.split('\n')[0] ?? 'unknown error'} [${all}]`, outcomes, e);
  }
  return {
    results: outcomes.map((o) => o.result) as [unknown, unknown, unknown],
    stats: outcomes.map((o) => o.stats!) as [PartyStats, PartyStats, PartyStats],
    wallMs,
    ...(relay ? { relay } : {}),
  };
}
