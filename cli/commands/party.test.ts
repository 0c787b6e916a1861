/**
 * `mpcache party` refuses, before any connection, what would expose a secret or cannot be
 * safe: private inputs in the public arguments or given to the wrong party, a missing prompt,
 * unsealed links to a non-loopback host. One line (plus warnings), exit code 2, no secret echoed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childExecArgv } from '../../parties/launcher.js';
import { makeLocalSession, writeLocalSession, type LocalSessionFiles } from '../../parties/local-session.js';
import { sessionToJson } from '../../parties/session-config.js';
import { repoRoot } from '../../models/model-source.js';

const SECRET = 'TOP-SECRET-zebra';
let files: LocalSessionFiles;
let farSession: string;

beforeAll(async () => {
  const s = await makeLocalSession();
  files = writeLocalSession(s);
  farSession = join(files.dir, 'far.json');
  writeFileSync(farSession, sessionToJson({ ...s.config, parties: [s.config.parties[0], { ...s.config.parties[1], host: '10.0.0.2' }, s.config.parties[2]] }));
});
afterAll(() => files.remove());

function party(id: number, args: string[], input = '', session = files.sessionPath) {
  const entry = join(repoRoot(), 'cli', 'main.ts');
  return spawnSync(process.execPath, [...childExecArgv(entry), entry, 'party', '--session', session, '--id', String(id), '--key', files.keyPaths[id], ...args], {
    cwd: repoRoot(),
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

function refused(r: ReturnType<typeof party>, re: RegExp): void {
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(re);
  expect(r.stderr + r.stdout).not.toContain(SECRET.slice(11));
}

describe('mpcache party: refused before connecting', () => {
  it('a prompt in --job-args, given to party 0, or missing on party 1', () => {
    refused(party(0, ['--job', 'generate', '--job-args', JSON.stringify({ tokens: 2, prompt: SECRET })]), /'prompt' is private to party 1 and never goes in --job-args/);
    const f = join(files.dir, 'prompt.txt');
    writeFileSync(f, SECRET);
    refused(party(0, ['--job', 'generate', '--prompt-file', f]), /party 0 was given 'prompt', which is private to party 1: give it to party 1 alone with --prompt-file/);
    refused(party(1, ['--job', 'generate', '--model', 'random', '--prompt-file', '-'], SECRET), /party 1 was given 'model', which is private to party 0/);
    refused(party(1, ['--job', 'generate']), /party 1 needs the prompt: --prompt-file FILE, or --prompt-file - to read it from standard input/);
    refused(party(1, ['--job', 'generate', '--private-inputs', '-'], `{"prompt": "${SECRET}"`), /--private-inputs is not valid JSON$/);
  });

  it('--insecure-plaintext with a non-loopback party', () => {
    refused(party(1, ['--insecure-plaintext'], '', farSession), /--insecure-plaintext is for loopback benchmarks only: .*parties\[1\]\.host is 10\.0\.0\.2/);
  });

  it('warns about a key file other users can read', () => {
    chmodSync(files.keyPaths[2], 0o644);
    const r = party(2, ['--insecure-plaintext'], '', farSession);
    chmodSync(files.keyPaths[2], 0o600);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/warning: key file .* can be read or changed by other users \(mode 0644\); run chmod 600/);
  });
});
