/**
 * Twin PRG: AES-128-CTR keystream from node:crypto. The initial counter block is 8 zero
 * bytes followed by the 64-bit big-endian `counter`; OpenSSL's CTR mode increments the
 * whole 16-byte block as a 128-bit big-endian integer, exactly as kernels/api.ts specifies.
 */
import { createCipheriv } from 'node:crypto';

const CHUNK = 1 << 16;

export function prgFill(seed: Uint8Array, counter: bigint, out: Uint8Array): void {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(counter, 8);
  const c = createCipheriv('aes-128-ctr', seed, iv);
  const zeros = Buffer.alloc(Math.min(CHUNK, out.byteLength));
  for (let off = 0; off < out.byteLength; off += CHUNK) {
    const len = Math.min(CHUNK, out.byteLength - off);
    const ks = c.update(len === zeros.length ? zeros : zeros.subarray(0, len));
    out.set(ks, off);
  }
  c.final();
}
