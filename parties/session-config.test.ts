import { describe, it, expect } from 'vitest';
import { MpcError } from '../protocols/errors.js';
import { generateIdentity, identityFromJson, identityToJson, toHex } from './identity.js';
import { makeLocalSession } from './local-session.js';
import { DEFAULT_SESSION_OPTIONS, checkPlaintextAllowed, isLoopbackHost, parseSessionConfig, sessionToJson } from './session-config.js';

function configMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MpcError);
    expect((e as MpcError).code).toBe('MPC_ERR_CONFIG');
    return (e as MpcError).message;
  }
  throw new Error('no error');
}

describe('session file', () => {
  it('round-trips through JSON with defaults filled in', async () => {
    const s = await makeLocalSession({ recvTimeoutMs: 1234 });
    const back = parseSessionConfig(JSON.parse(sessionToJson(s.config)));
    expect(back.session).toBe(s.config.session);
    expect(back.options).toEqual({ ...DEFAULT_SESSION_OPTIONS, recvTimeoutMs: 1234 });
    expect(back.parties.map((p) => toHex(p.publicKey))).toEqual(s.identities.map((i) => toHex(i.publicKey)));
  });

  it('names the field at fault', async () => {
    const s = await makeLocalSession();
    const good = JSON.parse(sessionToJson(s.config)) as { parties: { port: unknown; publicKey: unknown; id: unknown }[]; options: Record<string, unknown>; session: unknown };
    const bad = (mut: (o: typeof good) => void) => {
      const o = structuredClone(good);
      mut(o);
      return configMessage(() => parseSessionConfig(o, 'session.json'));
    };
    expect(bad((o) => (o.parties[1].port = 70000))).toContain('parties[1].port');
    expect(bad((o) => (o.parties[2].publicKey = 'abc'))).toContain('parties[2].publicKey');
    expect(bad((o) => (o.parties[0].id = 1))).toContain('parties[0].id');
    expect(bad((o) => o.parties.pop())).toContain("'parties'");
    expect(bad((o) => (o.options.recvTimeoutMs = -1))).toContain('options.recvTimeoutMs');
    expect(bad((o) => (o.options.bogus = 1))).toContain('options.bogus');
    expect(bad((o) => (o.session = 'has space'))).toContain("'session'");
    for (const m of [bad((o) => (o.parties[1].port = 0))]) expect(m.split('\n')).toHaveLength(1);
  });

  it('refuses two parties with the same public key, and parties 1 and 2 on the same host:port', async () => {
    const s = await makeLocalSession();
    const good = JSON.parse(sessionToJson(s.config)) as { parties: { host: string; port: number; publicKey: string }[] };
    const o = structuredClone(good);
    o.parties[2].publicKey = o.parties[0].publicKey;
    expect(configMessage(() => parseSessionConfig(o, 'session.json'))).toContain('parties[2].publicKey is the same as parties[0].publicKey');
    const o2 = structuredClone(good);
    o2.parties[1].publicKey = o2.parties[2].publicKey.toUpperCase(); // the same key in other letters
    expect(configMessage(() => parseSessionConfig(o2, 'session.json'))).toContain('parties[2].publicKey is the same as parties[1].publicKey');
    const o3 = structuredClone(good);
    o3.parties[2].port = o3.parties[1].port;
    expect(configMessage(() => parseSessionConfig(o3, 'session.json'))).toContain('parties[2] listens on the same host:port as parties[1]');
    // party 0 never listens: its port may be anything
    const o4 = structuredClone(good);
    o4.parties[0].port = o4.parties[1].port;
    expect(() => parseSessionConfig(o4)).not.toThrow();
  });

  it('--insecure-plaintext is allowed only when every host is loopback', async () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.2', '0.0.0.0', '128.0.0.1', '127.0.0.256', 'localhost.example.com', 'my-host', '::', '::2', '1.127.0.0']) expect(isLoopbackHost(h)).toBe(false);
    const s = await makeLocalSession();
    expect(() => checkPlaintextAllowed(s.config)).not.toThrow();
    const far = { ...s.config, parties: [s.config.parties[0], { ...s.config.parties[1], host: '10.0.0.2' }, s.config.parties[2]] as const };
    expect(configMessage(() => checkPlaintextAllowed(far))).toContain('parties[1].host is 10.0.0.2');
  });
});

describe('key file', () => {
  it('round-trips and rejects a public key that does not match the secret key', () => {
    const id = generateIdentity();
    const back = identityFromJson(JSON.parse(identityToJson(id)));
    expect(toHex(back.publicKey)).toBe(toHex(id.publicKey));
    const other = generateIdentity();
    const o = JSON.parse(identityToJson(id)) as Record<string, string>;
    o.publicKey = toHex(other.publicKey);
    expect(configMessage(() => identityFromJson(o, 'k.key'))).toContain("'publicKey' does not match");
    expect(configMessage(() => identityFromJson({ kind: 'x' }, 'k.key'))).toContain("'kind'");
  });
});
