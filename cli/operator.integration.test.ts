/**
 * The operator's path (#19) as a user meets it, in child processes: what the CLI refuses
 * before any party starts (one line, exit code 2, no stack trace, printed once), the setup
 * window and the waiting line, `session init`, and what each party prints when run by hand
 * (P1: the text only, or JSON lines with --json; P0/P2: progress lines unless --quiet).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childExecArgv } from '../parties/launcher.js';
import { repoRoot, byteTokenizer, randomModelWeights } from '../models/model-source.js';
import { ReferenceModel } from '../models/reference.js';
import { readSessionFile } from '../parties/session-config.js';
import { freePorts } from '../parties/local-session.js';

const entry = join(repoRoot(), 'cli', 'main.ts');
const argvOf = (args: readonly string[]) => [...childExecArgv(entry), entry, ...args];
function cli(args: readonly string[], opts: { cwd?: string; input?: string } = {}) {
  return spawnSync(process.execPath, argvOf(args), { cwd: opts.cwd ?? repoRoot(), input: opts.input ?? '', encoding: 'utf8', timeout: 120_000 });
}

/** refused before any party started: exit 2, exactly one stderr line matching `re`, no stack, nothing on stdout */
function refusedEarly(r: ReturnType<typeof cli>, re: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(re);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe(''); // no banner: no party was started
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpcache-operator-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mpcache demo: checked before any party starts', () => {
  it('token counts: -1, 0, abc, and more than the context', () => {
    for (const t of ['-1', '0', 'abc']) refusedEarly(cli(['demo', '--tokens', t]), new RegExp(`^mpcache demo: --tokens must be a whole number from 1 to 100000, got '${t}'$`));
    refusedEarly(cli(['demo', '--tokens', '100000']), /^mpcache demo: generate: the prompt \(\d+ tokens\) and 100000 new tokens need \d+ positions; the model's context has \d+ \(at most --tokens \d+ with this prompt\)$/);
  });

  it('a prompt longer than the model context, found by tokenizing in the launcher', () => {
    // the random model has 512 positions and a byte tokenizer: 600 characters are 602 tokens (BOS and a leading space)
    refusedEarly(cli(['demo', '--model', 'random', '--prompt-file', '-'], { input: 'x'.repeat(600) }), /^mpcache demo: generate: the prompt is 602 tokens, longer than the model's context of 512 positions/);
  });

  it('policy names, budgets and options', () => {
    refusedEarly(cli(['demo', '--policy', 'nope']), /^mpcache demo: generate: unknown policy "nope" \(policies: full, mpcache/);
    refusedEarly(cli(['demo', '--budget', '0.3']), /policy 'full' takes no budget or options \(--budget\)/);
    refusedEarly(cli(['demo', '--policy', 'mpcache', '--budget', '1.5']), /--budget must be a ratio in \(0, 1\] with a decimal point \(0\.3\) or a whole number of tokens/);
    refusedEarly(cli(['demo', '--policy', 'mpcache', '--policy-opt', 'ratio2=7']), /policy option: ratio2 must be a number in \[0, 1\], got 7/);
    refusedEarly(cli(['demo', '--policy', 'mpcache', '--policy-opt', 'frob=1']), /unknown policy option 'frob' \(known: static, dynamic/);
  });

  it('a missing or corrupt model: one line naming the path and the loader code, printed once', () => {
    refusedEarly(cli(['demo', '--model', join(dir, 'nonexistent')]), /^mpcache demo: generate: cannot load the model .*nonexistent: MODEL_ERR_IO: /);
    const bad = join(dir, 'corrupt');
    mkdirSync(bad);
    for (const f of ['config.json', 'tokenizer.bin']) copyFileSync(join(repoRoot(), 'models', 'default', f), join(bad, f));
    writeFileSync(join(bad, 'model.safetensors'), readFileSync(join(repoRoot(), 'models', 'default', 'model.safetensors')).subarray(0, 5000));
    refusedEarly(cli(['demo', '--model', bad]), /^mpcache demo: generate: cannot load the model .*corrupt: MODEL_ERR_TRUNCATED: /);
  });

  it('--model random says it was asked for, not that no model was found; a too-short prompt for mpcache warns', { timeout: 120_000 }, () => {
    const r = cli(['demo', '--model', 'random', '--policy', 'mpcache', '--prompt', 'Hi', '--tokens', '2', '--quiet']);
    expect(r.stdout).toContain('--model random: seeded random weights');
    expect(r.stdout + r.stderr).not.toContain('no model file found');
    expect(r.stderr).toMatch(/warning: the prompt has 4 tokens and --policy mpcache keeps 1 of them at prefill; too few to continue it sensibly \(use a prompt of at least 27 tokens, a larger --budget, or --policy full\)/);
    expect(r.stdout).not.toContain('weights shared'); // --quiet
  });
});

describe('mpcache session init and the setup window', () => {
  it('writes a session file a party accepts from host:port and keys (hex, .pub file, key file) and says what each host runs', () => {
    const pubs: string[] = [];
    for (const i of [0, 1, 2]) {
      const r = cli(['keygen', '--out', join(dir, `p${i}.key`)]);
      expect(r.status).toBe(0);
      pubs.push(r.stdout.trim());
    }
    writeFileSync(join(dir, 'p1.pub'), `${pubs[1]}\n`);
    const out = join(dir, 's.json');
    const r = cli(['session', 'init', '--hosts', '10.0.0.1:7100,10.0.0.2:7101,10.0.0.3:7102', '--keys', `${pubs[0]},${join(dir, 'p1.pub')},${join(dir, 'p2.key')}`, '--setup-timeout', '30', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const s = readSessionFile(out);
    expect(s.parties.map((p) => `${p.host}:${p.port}`)).toEqual(['10.0.0.1:7100', '10.0.0.2:7101', '10.0.0.3:7102']);
    expect(Buffer.from(s.parties[1].publicKey).toString('hex')).toBe(pubs[1]);
    expect(Buffer.from(s.parties[2].publicKey).toString('hex')).toBe(pubs[2]);
    expect(s.options.handshakeTimeoutMs).toBe(30_000);
    expect(r.stdout).toMatch(/10\.0\.0\.1 +party 0 \(model owner/);
    expect(r.stdout).toMatch(/mpcache party --session .*s\.json --id 1 --key p1\.key --job generate --job-args "\$ARGS" --prompt-file prompt\.txt/);
    expect(r.stdout).toMatch(/10\.0\.0\.3:7102 +party 2 \(helper/);
    const again = cli(['session', 'init', '--hosts', '10.0.0.1:7100,10.0.0.2:7101,10.0.0.3:7102', '--keys', pubs.join(','), '--out', out]);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toMatch(/^mpcache session: session init: --out .* already exists/);
    const bad = cli(['session', 'init', '--hosts', '10.0.0.1:7100,10.0.0.2', '--keys', pubs.join(','), '--out', join(dir, 'x.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const dup = cli(['session', 'init', '--hosts', 'a:1,b:2,c:3', '--keys', `${pubs[0]},${pubs[0]},${pubs[2]}`, '--out', join(dir, 'y.json')]);
    expect(dup.stderr).toContain('parties[1].publicKey is the same as parties[0].publicKey');
  });

  it('a party waiting alone says whom it waits for, then fails at the end of its --setup-timeout window', async () => {
    const ports = await freePorts(3);
    const pubs = [0, 1, 2].map((i) => cli(['keygen', '--out', join(dir, `w${i}.key`)]).stdout.trim());
    const out = join(dir, 'w.json');
    expect(cli(['session', 'init', '--hosts', ports.map((p) => `127.0.0.1:${p}`).join(','), '--keys', pubs.join(','), '--out', out]).status).toBe(0);
    const r = cli(['party', '--session', out, '--id', '2', '--key', join(dir, 'w2.key'), '--setup-timeout', '1.5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/party 2: waiting for party 0 \(dials in from 127\.0\.0\.1\) and party 1 \(dials in from 127\.0\.0\.1\); setup window 1\.5 s/);
    expect(r.stderr).toMatch(/MPC_ERR_TIMEOUT: setup with parties 0, 1 did not complete within 1500 ms/);
    const b = cli(['party', '--session', out, '--id', '2', '--key', join(dir, 'w2.key'), '--setup-timeout', '0']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--setup-timeout must be a number of seconds above 0/);
  });
});

describe('three parties run by hand: what each prints', () => {
  async function session(): Promise<{ path: string; keys: string[] }> {
    const ports = await freePorts(3);
    const keys = [0, 1, 2].map((i) => join(dir, `h${ports[0]}-${i}.key`));
    const pubs = keys.map((k) => cli(['keygen', '--out', k]).stdout.trim());
    const path = join(dir, `h${ports[0]}.json`);
    expect(cli(['session', 'init', '--hosts', ports.map((p) => `127.0.0.1:${p}`).join(','), '--keys', pubs.join(','), '--out', path]).status).toBe(0);
    return { path, keys };
  }
  function runAll(s: { path: string; keys: string[] }, extra: readonly (readonly string[])[], prompt: string): Promise<{ code: number | null; stdout: string; stderr: string }[]> {
    const job = ['--job', 'generate', '--job-args', '{"tokens":4}'];
    const own = [['--model', 'random'], ['--tokenizer', 'random', '--prompt-file', '-'], []];
    return Promise.all(
      [0, 1, 2].map(
        (i) =>
          new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
            const c = spawn(process.execPath, argvOf(['party', '--session', s.path, '--id', String(i), '--key', s.keys[i], ...job, ...own[i], ...extra[i]]), { cwd: repoRoot(), stdio: ['pipe', 'pipe', 'pipe'] });
            let stdout = '';
            let stderr = '';
            c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
            c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
            c.stdin.end(i === 1 ? prompt : '');
            c.on('close', (code) => done({ code, stdout, stderr }));
          }),
      ),
    );
  }
  const prompt = 'Once upon a time';
  const want = () => {
    const tok = byteTokenizer();
    const ids = new ReferenceModel(randomModelWeights()).generate(tok.encode(prompt, { bos: true }), 4);
    return { ids, text: tok.decode(ids) };
  };

  it('plain: P1 writes just the text; P0 and P2 progress lines (weights shared, prefill, tokens); --quiet hides them', { timeout: 120_000 }, async () => {
    const s = await session();
    const r = await runAll(s, [[], [], ['--quiet']], prompt);
    expect(r.map((x) => x.code)).toEqual([0, 0, 0]);
    expect(r[1].stdout).toBe(`${want().text}\n`);
    expect(r[1].stdout + r[1].stderr).not.toMatch(/@gen|result:|\{"event"/);
    expect(r[0].stderr).toMatch(/party 0: weights shared \([\d.]+ MB sent/);
    expect(r[0].stderr).toMatch(/party 0: prefill done, first token/);
    expect(r[0].stderr).toMatch(/party 0: token 4\/4/);
    expect(r[0].stderr).toMatch(/party 0: done: 4 tokens/);
    expect(r[0].stdout).not.toMatch(/result:/);
    expect(r[2].stderr).not.toMatch(/party 2: (weights|prefill|token)/);
  });

  it('--json: one JSON object per line, token events then the result, equal to the plaintext reference', { timeout: 120_000 }, async () => {
    const s = await session();
    const r = await runAll(s, [['--quiet'], ['--json'], ['--quiet']], prompt);
    expect(r.map((x) => x.code)).toEqual([0, 0, 0]);
    const lines = r[1].stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; i?: number; text?: string; result?: { tokens: number[] } });
    const tokens = lines.filter((l) => l.event === 'token');
    expect(tokens.map((t) => t.i)).toEqual([0, 1, 2, 3]);
    expect(tokens.map((t) => t.text).join('')).toBe(want().text);
    expect(lines.at(-1)?.event).toBe('result');
    expect(lines.at(-1)?.result?.tokens).toEqual(want().ids);
  });
});

describe('mpcache party: the prompt against the context before connecting', () => {
  it('P1 tokenizes its prompt and checks it against the public config beside its tokenizer: one line, exit 2', async () => {
    const ports = await freePorts(3);
    const pubs = [0, 1, 2].map((i) => cli(['keygen', '--out', join(dir, `c${i}.key`)]).stdout.trim());
    const out = join(dir, 'c.json');
    expect(cli(['session', 'init', '--hosts', ports.map((p) => `127.0.0.1:${p}`).join(','), '--keys', pubs.join(','), '--out', out]).status).toBe(0);
    const long = 'word '.repeat(3000);
    const r = cli(['party', '--session', out, '--id', '1', '--key', join(dir, 'c1.key'), '--job', 'generate', '--prompt-file', '-'], { input: long });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^mpcache party: generate: the prompt is \d+ tokens, longer than the model's context of \d+ positions/);
    expect(r.stderr).not.toContain('word word');
    const t = cli(['party', '--session', out, '--id', '0', '--key', join(dir, 'c0.key'), '--job', 'generate', '--job-args', '{"tokens":100000}', '--model', 'random']);
    expect(t.status).toBe(2);
    expect(t.stderr.trim()).toMatch(/^mpcache party: generate: --tokens 100000 exceeds the model's context of 512 positions$/);
  });
});
