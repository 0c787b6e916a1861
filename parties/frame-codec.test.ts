import { describe, it, expect } from 'vitest';
import { MpcError } from '../protocols/errors.js';
import { FrameOpener, FrameSealer, type Frame, PREFIX_BYTES, TAG_BYTES } from './frame-codec.js';

const SID = 'fuzz-session';
const KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);

/** xorshift32: a seeded, reproducible test stream (not for secrets) */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function cat(pieces: Buffer[]): Uint8Array {
  return new Uint8Array(Buffer.concat(pieces));
}

describe('frame codec', () => {
  for (const key of [KEY, null]) {
    const mode = key ? 'sealed' : 'plain';
    it(`round-trips every frame kind (${mode})`, () => {
      const s = new FrameSealer(key, SID);
      const o = new FrameOpener(key, SID, 1 << 20);
      const words = new BigUint64Array([0n, 1n, 0xffffffffffffffffn, 0x0123456789abcdefn]);
      const frames: Frame[] = [
        { kind: 'seed', seed: new Uint8Array(16).fill(3) },
        { kind: 'data', step: 'mul', payload: words },
        { kind: 'data', step: 'bytes', payload: new Uint8Array([9, 8, 7]) },
        { kind: 'data', step: 'empty', payload: new Uint8Array(0) },
        { kind: 'abort', code: 'MPC_ERR_TIMEOUT', message: 'late', step: 'x', round: 4 },
        { kind: 'bye' },
      ];
      for (const f of frames) {
        const got = o.open(cat(s.seal(f)));
        expect(got).toEqual(f);
        if (got?.kind === 'data') expect(got.payload.constructor).toBe(f.kind === 'data' ? f.payload.constructor : undefined);
      }
      // the sealer copies: mutating the source after seal changes nothing
      const src = new BigUint64Array([5n]);
      const sealed = cat(s.seal({ kind: 'data', step: 's', payload: src }));
      src[0] = 6n;
      const back = o.open(sealed);
      expect(back?.kind === 'data' && back.payload[0]).toBe(5n);
    });

    it(`splits large payloads into parts and reassembles them (${mode})`, () => {
      const s = new FrameSealer(key, SID);
      const o = new FrameOpener(key, SID, 1 << 20);
      for (const payload of [new BigUint64Array(1000).map((_, i) => BigInt(i) << 40n), new Uint8Array(777).map((_, i) => i)]) {
        const msgs = [...s.sealParts({ kind: 'data', step: 'big', payload }, 256)];
        expect(msgs.length).toBe(Math.ceil(payload.byteLength / 256));
        const opened = msgs.map((m) => o.open(cat(m)));
        expect(opened.slice(0, -1).every((x) => x === null)).toBe(true);
        expect(opened.at(-1)).toEqual({ kind: 'data', step: 'big', payload });
      }
      // declared total over the limit: refused at the first part, before allocating
      const small = new FrameOpener(key, SID, 1000);
      const big = [...new FrameSealer(key, SID).sealParts({ kind: 'data', step: 'x', payload: new Uint8Array(2000) }, 500)];
      expect(() => small.open(cat(big[0]))).toThrow(/MPC_ERR_FRAME_TOO_LARGE/);
      // a part without its head, and a head followed by another kind
      const s2 = new FrameSealer(key, SID);
      const parts = [...s2.sealParts({ kind: 'data', step: 'x', payload: new Uint8Array(100) }, 40)];
      const o2 = new FrameOpener(key, SID, 1 << 20);
      expect(o2.open(cat(parts[0]))).toBeNull();
      const o3 = new FrameOpener(key, SID, 1 << 20);
      expect(() => {
        o3.open(cat(parts[0]));
        o3.open(cat(new FrameSealer(key, SID).seal({ kind: 'bye' })));
      }).toThrow(/MPC_ERR_REPLAY/); // a foreign frame is out of sequence first
    });
  }

  it('checks order and authenticity', () => {
    const s = new FrameSealer(KEY, SID);
    const a = cat(s.seal({ kind: 'bye' }));
    const b = cat(s.seal({ kind: 'bye' }));
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return (e as MpcError).code;
      }
    };
    expect(code(() => new FrameOpener(KEY, SID, 4096).open(b))).toBe('MPC_ERR_REPLAY');
    const o = new FrameOpener(KEY, SID, 4096);
    expect(code(() => o.open(a))).toBe('ok');
    expect(code(() => o.open(a))).toBe('MPC_ERR_REPLAY');
    const t = b.slice();
    t[PREFIX_BYTES] ^= 0x40;
    expect(code(() => o.open(t))).toBe('MPC_ERR_TAMPER');
    expect(code(() => new FrameOpener(new Uint8Array(32), SID, 4096).open(a))).toBe('MPC_ERR_TAMPER');
    expect(code(() => new FrameOpener(KEY, 'other', 4096).open(a))).toBe('MPC_ERR_BAD_FRAME');
    expect(code(() => new FrameOpener(KEY, SID, 16).open(a))).toBe('MPC_ERR_FRAME_TOO_LARGE');
  });

  it('seeded fuzz: random and mutated frames only ever raise MPC_ERR_*, and never allocate past the input', () => {
    const r = rng(0x5eed);
    const LIMIT = 64 * 1024;
    const allowed = new Set(['MPC_ERR_BAD_FRAME', 'MPC_ERR_REPLAY', 'MPC_ERR_TAMPER', 'MPC_ERR_FRAME_TOO_LARGE']);
    const seen = new Map<string, number>();
    const plainSealer = new FrameSealer(null, SID);
    const sealedSealer = new FrameSealer(KEY, SID);
    const valid = (sealer: FrameSealer): Uint8Array => {
      const n = r() % 64;
      if (r() % 4 === 0) return cat(sealer.sealParts({ kind: 'data', step: 'p', payload: new BigUint64Array(n + 8) }, 16).next().value as Buffer[]);
      const f: Frame =
        r() % 2 ? { kind: 'data', step: `s${r() % 5}`, payload: new BigUint64Array(n).map(() => BigInt(r())) } : { kind: 'abort', code: 'MPC_ERR_PROTOCOL', message: 'm' };
      return cat(sealer.seal(f));
    };
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 6000; i++) {
      const sealed = i % 2 === 0;
      const sealer = sealed ? sealedSealer : plainSealer;
      let bytes: Uint8Array;
      const kind = r() % 4;
      if (kind === 0) {
        bytes = new Uint8Array(r() % 300).map(() => r() & 0xff);
      } else {
        bytes = valid(sealer).slice();
        const flips = 1 + (r() % 4);
        for (let k = 0; k < flips && bytes.length > 0; k++) {
          const m = r() % 5;
          const at = r() % bytes.length;
          if (m === 0) bytes[at] ^= 1 << (r() % 8);
          else if (m === 1) bytes = bytes.slice(0, at);
          else if (m === 2) bytes[at] = r() & 0xff;
          else if (m === 3 && bytes.length >= 12) new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, r() % 16384); // envelope length
          else bytes = new Uint8Array([...bytes, ...new Uint8Array(r() % 40).map(() => r() & 0xff)]);
        }
        if (kind === 3) bytes = new Uint8Array(LIMIT + 1 + (r() % 100)); // over the limit
      }
      // the opener expects sequence 0 in half the cases, so valid-prefix frames reach decryption/decoding
      const opener = new FrameOpener(sealed ? KEY : null, SID, LIMIT);
      if (bytes.length >= 8 && r() % 2) new DataView(bytes.buffer, bytes.byteOffset).setUint32(4, 0);
      if (bytes.length >= 4 && r() % 2) new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, 0);
      try {
        const f = opener.open(bytes);
        // anything accepted is well formed and no bigger than its frame
        if (f?.kind === 'data') expect(f.payload.byteLength).toBeLessThanOrEqual(bytes.length - PREFIX_BYTES - (sealed ? TAG_BYTES : 0));
        seen.set('ok', (seen.get('ok') ?? 0) + 1);
      } catch (e) {
        expect(e).toBeInstanceOf(MpcError);
        const c = (e as MpcError).code;
        expect(allowed.has(c), `unexpected ${c}`).toBe(true);
        seen.set(c, (seen.get(c) ?? 0) + 1);
      }
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    // the fuzz reached every decoder stage
    for (const c of ['MPC_ERR_BAD_FRAME', 'MPC_ERR_REPLAY', 'MPC_ERR_TAMPER', 'MPC_ERR_FRAME_TOO_LARGE']) expect(seen.get(c) ?? 0).toBeGreaterThan(0);
  });

  it('a plaintext envelope whose shape does not match its payload is MPC_ERR_BAD_FRAME', () => {
    const s = new FrameSealer(null, SID);
    const f = cat(s.seal({ kind: 'data', step: 'x', payload: new BigUint64Array(2) }));
    // rewrite the shape [2] inside the msgpack envelope: find 0x91 0x02 (fixarray of 1, 2)
    const env = Buffer.from(f);
    const at = env.indexOf(Buffer.from([0x91, 0x02]), PREFIX_BYTES);
    expect(at).toBeGreaterThan(0);
    const o = new FrameOpener(null, SID, 1 << 20);
    env[at + 1] = 0x03; // [3]: mismatches the 16 payload bytes
    expect(() => o.open(new Uint8Array(env))).toThrow(/MPC_ERR_BAD_FRAME/);
  });
});
