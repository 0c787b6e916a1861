/**
 * `mpcache serve` (P0, P2) and `mpcache ask` (P1) as separate processes: three user sessions
 * at once against one server pair, each equal to the plaintext reference; a user killed in
 * the middle of its session leaves both servers serving the next one; the weights go from P0
 * to P2 once per server start (the servers' logs give the bytes per session with and without).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childExecArgv } from '../../parties/launcher.js';
import { freePorts } from '../../parties/local-session.js';
import { byteTokenizer, randomModelWeights, repoRoot } from '../../models/model-source.js';
import { ReferenceModel } from '../../models/reference.js';
import { sharedParameterCount } from '../../models/secure-weights.js';

const entry = join(repoRoot(), 'cli', 'main.ts');
const start = (args: readonly string[]) => spawn(process.execPath, [...childExecArgv(entry), entry, ...args], { cwd: repoRoot(), stdio: ['pipe', 'pipe', 'pipe'] });

interface Server {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** resolves once a line matching re appeared */
  waitFor(re: RegExp, count?: number): Promise<void>;
}

function server(args: readonly string[]): Server {
  const child = start(args);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  for (const s of [child.stdout!, child.stderr!]) {
    createInterface({ input: s }).on('line', (l) => {
      lines.push(l);
      for (const w of [...waiters]) w();
    });
  }
  return {
    child,
    lines,
    waitFor: (re, count = 1) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (lines.filter((l) => re.test(l)).length >= count) resolve();
        };
        waiters.push(check);
        child.once('exit', () => reject(new Error(`server exited: ${lines.join('\n')}`)));
        check();
      }),
  };
}

function askRun(ports: number[], prompt: string, tokens: number, onToken?: (c: ChildProcess) => void) {
  const c = start(['ask', '--p0', `127.0.0.1:${ports[0]}`, '--p2', `127.0.0.1:${ports[1]}`, '--prompt-file', '-', '--tokenizer', 'random', '--tokens', String(tokens), '--json']);
  c.stdin!.end(prompt);
  let out = '';
  let err = '';
  c.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  c.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    if (onToken && out.includes('"event":"token"')) onToken(c);
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; tokens?: number[]; stderr: string }>((done) =>
    c.on('close', (code, signal) => {
      const res = out
        .split('\n')
        .filter((l) => l.startsWith('{"event":"result"'))
        .map((l) => (JSON.parse(l) as { result: { tokens: number[] } }).result.tokens)[0];
      done({ code, signal, tokens: res, stderr: err });
    }),
  );
}

const want = (prompt: string, n: number) => new ReferenceModel(randomModelWeights()).generate(byteTokenizer().encode(prompt, { bos: true }), n);

let dir: string;
let p0: Server;
let p2: Server;
let ports: number[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mpcache-serve-'));
  ports = await freePorts(2);
  const keygen = (k: string) => new Promise<void>((r) => start(['keygen', '--out', join(dir, k)]).on('close', () => r()));
  await Promise.all([keygen('s0.key'), keygen('s2.key')]);
  p0 = server(['serve', '--id', '0', '--key', join(dir, 's0.key'), '--control', `127.0.0.1:${ports[0]}`, '--model', 'random', '--quiet', '--recv-timeout', '20']);
  p2 = server(['serve', '--id', '2', '--key', join(dir, 's2.key'), '--control', `127.0.0.1:${ports[1]}`, '--quiet', '--recv-timeout', '20']);
  await Promise.all([p0.waitFor(/^serving as party 0/), p2.waitFor(/^serving as party 2/)]);
}, 60_000);

afterAll(async () => {
  for (const s of [p0, p2]) {
    if (s && s.child.exitCode === null) {
      const gone = new Promise((r) => s.child.once('exit', r));
      s.child.kill('SIGTERM');
      await gone;
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('mpcache serve and ask', () => {
  it('three user sessions at once against one P0/P2 pair, each equal to the plaintext reference; the weights go to P2 once', { timeout: 240_000 }, async () => {
    const prompts = ['Once upon a time', 'The cat sat', 'A list is a'];
    const r = await Promise.all(prompts.map((p) => askRun(ports, p, 3)));
    for (let i = 0; i < 3; i++) {
      expect(r[i].code, r[i].stderr).toBe(0);
      expect(r[i].tokens).toEqual(want(prompts[i], 3));
    }
    await p0.waitFor(/: done; party 0 sent/, 3);
    const done = p0.lines.filter((l) => /: done; party 0 sent/.test(l));
    const weightBytes = done.map((l) => Number(/of which weights (\d+) bytes/.exec(l)![1]));
    const words = sharedParameterCount(randomModelWeights().config);
    // exactly one session carried x0 (a model's worth of words), the others seeds and a tag
    expect(weightBytes.filter((b) => b >= 8 * words)).toHaveLength(1);
    expect(weightBytes.filter((b) => b < 100)).toHaveLength(2);
    expect(p0.lines.some((l) => /^weights shared once per server start: \d+ bytes/.test(l))).toBe(true);
    // every session had its own user key and session id
    const keys = p0.lines.filter((l) => /\(#\d+\): user key/.test(l)).map((l) => /user key ([0-9a-f]+)/.exec(l)![1]);
    expect(new Set(keys).size).toBe(3);
  });

  it('a user killed mid-session fails that session only: one running beside it and the next one are served', { timeout: 240_000 }, async () => {
    const [killed, beside] = await Promise.all([askRun(ports, 'Once upon a time', 12, (c) => c.kill('SIGKILL')), askRun(ports, 'A list is a', 4)]);
    expect(killed.signal).toBe('SIGKILL');
    expect(beside.code, beside.stderr).toBe(0);
    expect(beside.tokens).toEqual(want('A list is a', 4));
    await Promise.all([p0.waitFor(/: failed: .*\(the server goes on\)/), p2.waitFor(/: failed: .*\(the server goes on\)/)]);
    expect(p0.child.exitCode).toBeNull();
    expect(p2.child.exitCode).toBeNull();
    const next = await askRun(ports, 'The cat sat', 3);
    expect(next.code, next.stderr).toBe(0);
    expect(next.tokens).toEqual(want('The cat sat', 3));
  });

  it('refuses what it cannot serve with one line: a wrong pinned key, an unreachable server', { timeout: 60_000 }, async () => {
    const c = start(['ask', '--p0', `127.0.0.1:${ports[0]}`, '--p2', `127.0.0.1:${ports[1]}`, '--p0-key', '00'.repeat(32), '--prompt-file', '-', '--tokenizer', 'random']);
    c.stdin!.end('Hi');
    let err = '';
    c.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise((r) => c.on('close', r));
    expect(code).toBe(2);
    expect(err.trim()).toMatch(/^mpcache ask: the server's public key [0-9a-f]{16}\.\.\. is not the one --p0-key pins$/);
    const [dead] = await freePorts(1);
    const d = start(['ask', '--p0', `127.0.0.1:${ports[0]}`, '--p2', `127.0.0.1:${dead}`, '--prompt-file', '-', '--tokenizer', 'random']);
    d.stdin!.end('Hi');
    let derr = '';
    d.stderr!.on('data', (b: Buffer) => (derr += b.toString()));
    expect(await new Promise((r) => d.on('close', r))).toBe(2);
    expect(derr.trim()).toMatch(new RegExp(`^mpcache ask: cannot reach the server at 127\\.0\\.0\\.1:${dead} \\(ECONNREFUSED\\)$`));
  });
});
