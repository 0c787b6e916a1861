import { describe, it, expect } from 'vitest';
import { MpcError } from '../protocols/errors.js';
import { generateIdentity, identityFromJson, identityToJson, toHex } from './identity.js';
import { makeLocalSession } from './local-session.js';
import { DEFAULT_SESSION_OPTIONS, parseSessionConfig, sessionToJson } from './session-config.js';

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
