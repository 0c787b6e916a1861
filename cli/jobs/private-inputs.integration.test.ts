/**
 * Private job arguments with three real party processes (`mpcache party`, as an operator runs
 * them): P1 reads the prompt from standard input; the public arguments are compared before
 * anything secret is touched; the prompt never reaches P0 or P2 — not in their arguments or
 * environment (read from /proc while they run), not on their stdout or stderr, not in any
 * payload they receive in clear (recorded by a wrapper job) — and a local error that quotes a
 * prompt character stays in P1's log (peers get the code and a fixed text).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childExecArgv, runLocalPartiesSettled } from '../../parties/launcher.js';
import { makeLocalSession, writeLocalSession } from '../../parties/local-session.js';
import { byteTokenizer, randomModelWeights, repoRoot } from '../../models/model-source.js';
import { ReferenceModel } from '../../models/reference.js';
import { generateJobModule } from '../jobs.js';

const SECRET = 'zebra-quartz passphrase 7731';
const SESSION_OPTIONS = { handshakeTimeoutMs: 30_000, recvTimeoutMs: 30_000, heartbeatMs: 1000, heartbeatTimeoutMs: 30_000 };
const onLinux = process.platform === 'linux';

interface PartyRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** every /proc/<pid>/cmdline and environ read while it ran (NUL-separated, concatenated) */
  readonly proc: string;
}

/** Start three `mpcache party` processes; `stdin[i]` is written to party i's standard input. */
async function runParties(perParty: readonly (readonly string[])[], stdin: readonly (string | undefined)[], env: Record<string, string> = {}): Promise<PartyRun[]> {
  const files = writeLocalSession(await makeLocalSession(SESSION_OPTIONS));
  try {
    const entry = join(repoRoot(), 'cli', 'main.ts');
    const runs = [0, 1, 2].map(
      (i) =>
        new Promise<PartyRun>((resolve, reject) => {
          const child = spawn(process.execPath, [...childExecArgv(entry), entry, 'party', '--session', files.sessionPath, '--id', String(i), '--key', files.keyPaths[i], ...perParty[i]], {
            cwd: repoRoot(),
            env: { ...process.env, ...env },
            stdio: ['pipe', 'pipe', 'pipe'],
          });
          let stdout = '';
          let stderr = '';
          let proc = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
          const look = () => {
            for (const f of ['cmdline', 'environ']) {
              const p = `/proc/${child.pid}/${f}`;
              try {
                if (existsSync(p)) proc += readFileSync(p, 'latin1') + '\n';
              } catch {
                // the process just exited
              }
            }
          };
          if (onLinux) look();
          const timer = onLinux ? setInterval(look, 100) : undefined;
          child.stdin.end(stdin[i] ?? '');
          child.on('error', reject);
          child.on('close', (code) => {
            clearInterval(timer);
            resolve({ code, stdout, stderr, proc });
          });
        }),
    );
    return await Promise.all(runs);
  } finally {
    files.remove();
  }
}

/** Byte patterns of the secret a peer must never see: its text, its words, its token ids as ring words. */
function needles(): Buffer[] {
  const ids = byteTokenizer().encode(SECRET, { bos: true });
  const words = Buffer.alloc(8 * ids.length);
  ids.forEach((t, i) => words.writeBigUInt64LE(BigInt(t), 8 * i));
  return [Buffer.from(SECRET, 'utf8'), Buffer.from('zebra-quartz', 'utf8'), Buffer.from('7731', 'utf8'), words.subarray(8, 8 * 9)];
}

function expectAbsent(what: string, hay: Buffer | string): void {
  const b = typeof hay === 'string' ? Buffer.from(hay, 'utf8') : hay;
  for (const n of needles()) expect(b.indexOf(n), `${what} contains ${JSON.stringify(n.toString('latin1'))}`).toBe(-1);
}

describe('private job arguments over three processes', () => {
  it('public arguments that differ: every party exits 2 with MPC_ERR_CONFIG_MISMATCH naming the field, before the job starts', { timeout: 120_000 }, async () => {
    const common = ['--job', 'generate'];
    const r = await runParties(
      [
        [...common, '--job-args', '{"tokens":4}', '--model', 'random'],
        [...common, '--job-args', '{"tokens":6}', '--tokenizer', 'random', '--prompt-file', '-'],
        [...common, '--job-args', '{"tokens":4}'],
      ],
      [undefined, `${SECRET}\n`, undefined],
    );
    for (const p of r) {
      expect(p.code).toBe(2);
      expect(p.stderr).toContain('MPC_ERR_CONFIG_MISMATCH');
      expect(p.stderr).toContain("public job argument 'tokens' differs");
    }
    expect(r[0].stderr).toContain('party 0 (this party) has 4, party 1 has 6');
    expect(r[2].stderr).toContain('party 1 has 6, party 2 (this party) has 4');
    expect(r[0].stderr).not.toMatch(/weights shared/); // the job never started
    for (const p of [0, 2]) expectAbsent(`P${p} output`, r[p].stdout + r[p].stderr);
  });

  it('the prompt reaches P1 only: not in P0/P2 arguments, environment, output or received payloads; P1 gets the reference tokens', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-record-'));
    try {
      const job = ['--job-module', 'testing/recording-job.ts#recordingGenerate', '--job-args', '{"tokens":3}'];
      const r = await runParties([[...job, '--model', 'random'], [...job, '--tokenizer', 'random', '--prompt-file', '-', '--json'], job], [undefined, `${SECRET}\n`, undefined], {
        MPCACHE_TEST_RECORD_DIR: dir,
      });
      expect(r.map((p) => p.code)).toEqual([0, 0, 0]);
      // P1 generated privately, right
      const ids = byteTokenizer().encode(SECRET, { bos: true });
      const want = new ReferenceModel(randomModelWeights()).generate(ids, 3);
      const res = (JSON.parse(/^\{"event":"result".*$/m.exec(r[1].stdout)![0]) as { result: { tokens: number[]; promptLength: number } }).result;
      expect(res.tokens).toEqual(want);
      expect(res.promptLength).toBe(ids.length);
      for (const p of [0, 2]) {
        expectAbsent(`P${p} stdout`, r[p].stdout);
        expectAbsent(`P${p} stderr`, r[p].stderr);
        if (onLinux) {
          expect(r[p].proc).toContain('party'); // the /proc reads saw the process
          expectAbsent(`P${p} arguments/environment`, r[p].proc);
        }
        const seen = readFileSync(join(dir, `p${p}.bin`));
        expect(seen.byteLength).toBeGreaterThan(10_000);
        expectAbsent(`payloads received by P${p}`, seen);
      }
      // the recorder sees clear payloads: P2 received P0's public model config
      expect(readFileSync(join(dir, 'p2.bin')).indexOf(Buffer.from('"vocabSize"'))).toBeGreaterThanOrEqual(0);
      // P1's own command line does not hold it either (it came on standard input)
      if (onLinux) expectAbsent('P1 arguments/environment', r[1].proc);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a tokenizer error quoting a prompt character stays in P1\'s log: P1 fails before it connects, P0 and P2 learn nothing of it', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-tok-'));
    try {
      // a tokenizer without the character 'Ω', no unk token and no byte fallback
      const vocab: Record<string, number> = { '<s>': 0, '</s>': 1, '▁': 2 };
      for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-') vocab[c] = Object.keys(vocab).length;
      const tok = join(dir, 'tokenizer.json');
      const meta = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always' };
      writeFileSync(tok, JSON.stringify({ model: { type: 'BPE', vocab, merges: [] }, normalizer: null, pre_tokenizer: meta, decoder: meta, added_tokens: [] }));
      const lines: string[][] = [[], [], []];
      const { outcomes } = await runLocalPartiesSettled({
        jobModule: generateJobModule(),
        jobArgs: { tokens: 2 },
        privateInputs: [{ model: 'random' }, { prompt: `${SECRET} Ω`, tokenizer: tok }, undefined],
        sessionOptions: SESSION_OPTIONS,
        onLine: (p, l) => lines[p].push(l),
        timeoutMs: 100_000,
        graceMs: 1000,
      });
      expect(outcomes[1].ok).toBe(false);
      expect(outcomes[1].exitCode).toBe(2); // a configuration error of P1's, found before connecting
      expect(outcomes[1].error?.message).toContain('MODEL_ERR_TOKENIZER'); // the local log has the detail
      expect(`${outcomes[1].error?.message}`).toContain('Ω');
      for (const p of [0, 2]) {
        const o = outcomes[p];
        expect(o.ok).toBe(false);
        expect(o.error?.code).toMatch(/^MPC_ERR_(TIMEOUT|PEER_CLOSED|ABORTED)$/); // P1 never connected: setup ended
        const all = `${o.error?.message}\n${lines[p].join('\n')}`;
        expect(all).not.toContain('Ω');
        expect(all).not.toContain('vocabulary');
        expectAbsent(`P${p} output`, all);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
