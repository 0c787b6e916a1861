/**
 * `mpcache session init`: write the session file (parties/session-config.ts) from the three
 * parties' `host:port` and public keys, and print what each host runs.
 *
 *   mpcache session init --hosts 10.0.0.1:7100,10.0.0.2:7101,10.0.0.3:7102 \
 *     --keys <hex0>,p1.pub,<hex2> [--session ID] [--setup-timeout S] [--recv-timeout S] [--out session.json] [--force]
 *
 * A key is the 64-hex public key `mpcache keygen` prints, or a file holding it (the printed
 * line saved, e.g. `mpcache keygen --out p1.key > p1.pub`), or a key file itself (its public
 * half is read; the secret half stays where it is). The file is validated exactly as a party
 * reads it (same error lines), and the same file must go to every host.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { identityFromJson, toHex } from '../../parties/identity.js';
import { parseSessionConfig, sessionToJson, type SessionConfig } from '../../parties/session-config.js';
import { parseSeconds } from '../../parties/flags.js';
import { type Command, configError, parseFlags } from '../command.js';

const ROLES = ['model owner: the weights (--model)', 'user: the prompt (--prompt-file), receives the text', 'helper: nothing of its own'];

/** A public key from hex, a file holding the hex, or a key file. */
export function readPublicKey(spec: string, i: number): string {
  const t = spec.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase();
  let text: string;
  try {
    text = readFileSync(t, 'utf8');
  } catch (e) {
    throw configError(`session init: --keys entry ${i} is neither a 64-hex public key nor a readable file (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}): ${t.slice(0, 80)}`);
  }
  const line = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(line)) return line.toLowerCase();
  try {
    return toHex(identityFromJson(JSON.parse(line) as unknown, `key file ${t}`).publicKey);
  } catch {
    throw configError(`session init: --keys entry ${i} (${t}) holds neither a 64-hex public key nor an mpcache key file`);
  }
}

function parseHostPort(spec: string, i: number): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(spec.trim());
  if (!m) throw configError(`session init: --hosts entry ${i} must be HOST:PORT, got '${spec.slice(0, 80)}'`);
  return { host: m[1], port: Number(m[2]) };
}

export function buildSession(hosts: string, keys: string, id: string | undefined, options: Record<string, number>): SessionConfig {
  const hs = hosts.split(',');
  const ks = keys.split(',');
  if (hs.length !== 3) throw configError(`session init: --hosts lists ${hs.length} entries; it needs 3 (party 0, 1, 2 in order)`);
  if (ks.length !== 3) throw configError(`session init: --keys lists ${ks.length} entries; it needs 3 (party 0, 1, 2 in order)`);
  const parties = hs.map((h, i) => ({ id: i, ...parseHostPort(h, i), publicKey: readPublicKey(ks[i], i) }));
  const session = id ?? `mpcache-${randomBytes(6).toString('hex')}`;
  // the same validation a party applies (message names the field)
  return parseSessionConfig({ session, parties, ...(Object.keys(options).length > 0 ? { options } : {}) }, 'session init');
}

export const sessionCommand: Command = {
  summary: 'session init: write session.json from the parties\' host:port and public keys; print what each host runs',
  usage: `mpcache session init --hosts H0:P0,H1:P1,H2:P2 --keys K0,K1,K2 [--session ID] [--setup-timeout S] [--recv-timeout S] [--out FILE] [--force]
  --hosts         the three parties' addresses, party 0 (model owner), 1 (user), 2 (helper); parties 1 and 2 listen on theirs
  --keys          their public keys: 64 hex digits (what mpcache keygen prints), a file holding them, or the key file
  --session ID    session id (default: random)
  --setup-timeout S  setup window in seconds written as options.handshakeTimeoutMs (default 10; each party may override it with --setup-timeout)
  --recv-timeout S   per-receive timeout in seconds (options.recvTimeoutMs, default 30; must agree on every party)
  --out FILE      where to write it (default session.json); --force overwrites`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'init') throw configError(`session: unknown subcommand '${sub ?? ''}' (known: init)`);
    const f = parseFlags(
      rest,
      { hosts: { type: 'string' }, keys: { type: 'string' }, session: { type: 'string' }, 'setup-timeout': { type: 'string' }, 'recv-timeout': { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
      'session init',
    );
    if (f.hosts === undefined) throw configError('session init: missing required option --hosts H0:P0,H1:P1,H2:P2');
    if (f.keys === undefined) throw configError('session init: missing required option --keys K0,K1,K2');
    const options: Record<string, number> = {};
    if (f['setup-timeout'] !== undefined) options.handshakeTimeoutMs = Math.round(parseSeconds(f['setup-timeout'], '--setup-timeout', 'session init') * 1000);
    if (f['recv-timeout'] !== undefined) options.recvTimeoutMs = Math.round(parseSeconds(f['recv-timeout'], '--recv-timeout', 'session init') * 1000);
    const s = buildSession(f.hosts, f.keys, f.session, options);
    const out = f.out ?? 'session.json';
    if (existsSync(out) && f.force !== true) throw configError(`session init: --out ${out} already exists (use --force to overwrite)`);
    try {
      writeFileSync(out, sessionToJson(s));
    } catch (e) {
      throw configError(`session init: cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const lines = [`wrote ${out} (session ${s.session}); copy the same file to all three hosts. Each host runs:`];
    for (const p of s.parties) {
      const own = p.id === 0 ? ' --model models/default' : p.id === 1 ? ' --prompt-file prompt.txt' : '';
      lines.push(`  ${p.host}${p.id === 0 ? '' : `:${p.port}`}  party ${p.id} (${ROLES[p.id]}${p.id === 0 ? '; dials parties 1 and 2' : p.id === 1 ? '; listens, dials party 2' : '; listens'})`);
      lines.push(`      mpcache party --session ${out} --id ${p.id} --key p${p.id}.key --job generate --job-args "$ARGS"${own}`);
    }
    lines.push(`  ARGS, the PUBLIC job arguments, the same on all three (e.g. '{"tokens":20,"policy":"full"}'); all three must be up within the setup window (${s.options.handshakeTimeoutMs / 1000} s)`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
