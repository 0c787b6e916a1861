import { describe, expect, it } from 'vitest';
import type { PartyId } from '../protocols/channel.js';
import { MpcError } from '../protocols/errors.js';
import { MemoryChannel } from './memory-channel.js';
import { FIELD_VALUE_CHARS, canonicalJson, checkPublicArgs, compareDescriptions, describePublicArgs } from './public-args.js';

async function checkAll(jobs: readonly string[], args: readonly unknown[]): Promise<(MpcError | undefined)[]> {
  const chans = MemoryChannel.trio();
  return Promise.all(chans.map((ch, i) => checkPublicArgs(ch, describePublicArgs(jobs[i], args[i])).then(() => undefined, (e: unknown) => e as MpcError)));
}

describe('public job arguments', () => {
  it('canonical JSON ignores key order and absent fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(describePublicArgs('j', { b: 1, a: 2 })).toEqual(describePublicArgs('j', { a: 2, b: 1 }));
    expect(() => canonicalJson({ f: () => 1 })).toThrow(MpcError);
  });

  it('names the field that differs, with every party\'s value, parties in id order', () => {
    const a = describePublicArgs('generate', { tokens: 4, policy: 'full' });
    const b = describePublicArgs('generate', { tokens: 6, policy: 'full' });
    expect(compareDescriptions(a, a, 0, 1)).toBeUndefined();
    expect(compareDescriptions(a, b, 0, 1)).toBe("public job argument 'tokens' differs: party 0 (this party) has 4, party 1 has 6");
    expect(compareDescriptions(b, a, 1, 0)).toBe("public job argument 'tokens' differs: party 0 has 4, party 1 (this party) has 6");
    expect(compareDescriptions(a, describePublicArgs('generate', { tokens: 4 }), 2, 0)).toBe('public job argument \'policy\' differs: party 0 has no value, party 2 (this party) has "full"');
    expect(compareDescriptions(a, describePublicArgs('selftest', {}), 0, 2)).toBe('the job differs: party 0 (this party) has "generate", party 2 has "selftest"');
    // long values are compared by hash and not shown
    const long = (c: string) => describePublicArgs('j', { x: c.repeat(FIELD_VALUE_CHARS + 1) });
    const m = compareDescriptions(long('a'), long('b'), 0, 1)!;
    expect(m).toMatch(/^public job argument 'x' differs: party 0 \(this party\) has a long value \([0-9a-f]{12}\.\.\.\), party 1 has a long value/);
    expect(m).not.toContain('aaaa');
  });

  it('one round over a channel: every party sees the difference and fails with MPC_ERR_CONFIG_MISMATCH', async () => {
    const errs = await checkAll(['generate', 'generate', 'generate'], [{ tokens: 4 }, { tokens: 6 }, { tokens: 4 }]);
    for (const e of errs) {
      expect(e).toBeInstanceOf(MpcError);
      expect(e!.code).toBe('MPC_ERR_CONFIG_MISMATCH');
      expect(e!.step).toBe('job.public');
    }
    expect(errs[0]!.message).toContain("public job argument 'tokens' differs: party 0 (this party) has 4, party 1 has 6");
    expect(errs[2]!.message).toContain("public job argument 'tokens' differs: party 1 has 6, party 2 (this party) has 4");
    // the odd one out sees it with both peers
    expect(errs[1]!.message).toContain('party 0 has 4, party 1 (this party) has 6 | ');
    expect(errs[1]!.message).toContain('party 1 (this party) has 6, party 2 has 4');
    expect(await checkAll(['g', 'g', 'g'], [{ a: [1, 2] }, { a: [1, 2] }, { a: [1, 2] }])).toEqual([undefined, undefined, undefined]);
    const none = await checkAll(['g', 'g', 'g'], [undefined, undefined, 3]);
    expect((none as MpcError[])[0].message).toContain("public job argument '(arguments)' differs: party 0 (this party) has no value, party 2 has 3");
  });

  it('a malformed description from a peer is MPC_ERR_PROTOCOL', async () => {
    const [a, b, c] = MemoryChannel.trio();
    const mine = describePublicArgs('g', {});
    const p0 = checkPublicArgs(a, mine).catch((e: unknown) => e as MpcError);
    const p2 = checkPublicArgs(c, mine).catch((e: unknown) => e as MpcError);
    const junk = new Uint8Array([0xff, 0x00, 0x7b]);
    await b.exchange({ step: 'job.public', send: { 0: junk, 2: junk } as Partial<Record<PartyId, Uint8Array>>, recv: [0, 2] });
    expect((await p0)?.code).toBe('MPC_ERR_PROTOCOL');
    expect((await p2)?.code).toBe('MPC_ERR_PROTOCOL');
  });
});
