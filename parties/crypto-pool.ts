/**
 * Worker threads that seal and open large frames (AES-256-GCM) off the main thread, so a
 * party receiving a large payload opens several parts in parallel while the main thread
 * keeps reading the socket, and a sender seals parts in parallel. The workers run a few lines
 * of plain JavaScript (no TypeScript loader needed); buffers are transferred, not copied.
 * The pool starts its workers on first use and they never keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const c = require('node:crypto');
function owned(b) {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b;
  const o = new Uint8Array(b.byteLength); o.set(b); return o;
}
parentPort.on('message', (m) => {
  const data = new Uint8Array(m.buf, m.off, m.len);
  try {
    if (m.op === 'seal') {
      const x = c.createCipheriv('aes-256-gcm', m.key, m.nonce);
      x.setAAD(m.aad);
      const ct = x.update(data);
      x.final();
      const pre = m.aad.length;
      const out = new Uint8Array(pre + ct.length + 16);
      out.set(m.aad); out.set(ct, pre); out.set(x.getAuthTag(), pre + ct.length);
      parentPort.postMessage({ id: m.id, out }, [out.buffer]);
    } else {
      const x = c.createDecipheriv('aes-256-gcm', m.key, m.nonce);
      x.setAAD(m.aad);
      x.setAuthTag(new Uint8Array(m.buf, m.off + m.len, 16));
      const pt = x.update(data);
      x.final();
      const out = owned(pt);
      parentPort.postMessage({ id: m.id, out }, [out.buffer]);
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, out: null });
  }
});
`;

interface Pending {
  resolve(out: Uint8Array | null): void;
  reject(e: Error): void;
}

export class CryptoPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[] = [];
  private nextId = 0;
  private closed = false;

  /** @param size number of worker threads (default: cores - 1, at most 4, at least 1) */
  constructor(readonly size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('CryptoPool: size must be a positive integer');
  }

  private worker(): { w: Worker; i: number } {
    if (this.workers.length < this.size) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      const i = this.workers.length;
      w.unref();
      w.on('message', (m: { id: number; out: Uint8Array | null }) => {
        this.load[i]--;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m.out);
      });
      w.on('error', (e) => {
        for (const [, p] of this.pending) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
      this.load.push(0);
      return { w, i };
    }
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[best]) best = i;
    return { w: this.workers[best], i: best };
  }

  /** `data[off, off+len)` is the input (for open, the 16-byte tag follows it) */
  private run(op: 'seal' | 'open', key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array, off: number, len: number): Promise<Uint8Array | null> {
    if (this.closed) return Promise.reject(new Error('CryptoPool: closed'));
    const { w, i } = this.worker();
    const id = this.nextId++;
    this.load[i]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // transfer the caller's buffer when the view covers all of it; otherwise copy the input
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
      const end = off + len + (op === 'open' ? 16 : 0);
      const buf = whole ? data : data.slice(off, end);
      const o = whole ? off : 0;
      w.postMessage({ id, op, key, nonce, aad, buf: buf.buffer, off: o, len }, [buf.buffer as ArrayBuffer]);
    });
  }

  /**
   * Seal `plain` with `aad` (its buffer is transferred when the view covers it all); resolves
   * with the whole message aad || ciphertext || 16-byte tag (the AAD is the clear prefix).
   */
  async seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array> {
    const out = await this.run('seal', key, nonce, aad, plain, 0, plain.byteLength);
    if (out === null) throw new Error('CryptoPool: sealing failed');
    return out;
  }

  /**
   * Open `frame[off, off+len)` followed by its 16-byte tag. The frame's buffer is transferred
   * (detached here) when the view covers it all. Resolves with the plaintext, or null if the
   * tag is wrong.
   */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, frame: Uint8Array, off: number, len: number): Promise<Uint8Array | null> {
    if (off < 0 || len < 0 || off + len + 16 > frame.byteLength) return Promise.resolve(null);
    return this.run('open', key, nonce, new Uint8Array(aad), frame, off, len);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [, p] of this.pending) p.reject(new Error('CryptoPool: closed'));
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
