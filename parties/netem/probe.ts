/**
 * Calibration probes for the relay (the test and `npm run bench -- network`): plain TCP on
 * loopback, both endpoints in the calling process, the relay (or nothing) in between.
 *  - pingPong: a client sends a small frame, the echo server sends it back; round-trip times;
 *  - bulk: a client writes `bytes` as fast as TCP takes them; the sink stamps the arrival of
 *    every chunk; throughput = bytes after the first chunk / (last arrival - first arrival),
 *    i.e. the rate the data arrives at, without the one-way delay or the first burst in it.
 * Times from performance.now(); nothing is subtracted here.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface BulkResult {
  readonly bytes: number;
  /** arrival rate, bits per second */
  readonly bps: number;
  /** from the first write to the first byte at the sink, ms */
  readonly firstByteMs: number;
  /** from the first write to the last byte at the sink, ms */
  readonly totalMs: number;
}

interface Expectation {
  readonly bytes: number;
  readonly started: number;
  resolve(r: BulkResult): void;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      if (a === null || typeof a === 'string') reject(new Error('probe: no port'));
      else resolve(a.port);
    });
  });
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export interface PingOptions {
  /** bytes per frame (default 64) */
  readonly frameBytes?: number;
  /** untimed round trips first (default 10) */
  readonly warmup?: number;
  /** pause between round trips, ms (default 0) */
  readonly gapMs?: number;
}

/** An echo server and a sink on loopback (free ports). */
export class ProbeServers {
  private expectation: Expectation | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly echo: Server,
    private readonly sink: Server,
    readonly echoPort: number,
    readonly sinkPort: number,
  ) {}

  static async start(): Promise<ProbeServers> {
    const echo = createServer({ noDelay: true }, (s) => s.on('data', (b) => s.write(b)).on('error', () => s.destroy()));
    const sink = createServer({ noDelay: true });
    const p = new ProbeServers(echo, sink, await listen(echo), await listen(sink));
    for (const srv of [echo, sink]) srv.on('connection', (s) => {
      p.sockets.add(s);
      s.on('close', () => p.sockets.delete(s));
    });
    sink.on('connection', (s) => p.onSink(s));
    return p;
  }

  private onSink(s: Socket): void {
    let got = 0;
    let first = 0;
    let firstLen = 0;
    s.on('error', () => s.destroy());
    s.on('data', (b: Buffer) => {
      const t = performance.now();
      const e = this.expectation;
      if (e === undefined) return;
      if (got === 0) {
        first = t;
        firstLen = b.length;
      }
      got += b.length;
      if (got >= e.bytes) {
        this.expectation = undefined;
        e.resolve({ bytes: got, bps: t > first ? ((got - firstLen) * 8) / ((t - first) / 1000) : Infinity, firstByteMs: first - e.started, totalMs: t - e.started });
        s.end();
      }
    });
  }

  /** Send `bytes` to the sink through `port` (the sink itself, or a relay route to it). */
  async bulk(port: number, bytes: number, writeBytes = 1 << 20): Promise<BulkResult> {
    if (this.expectation) throw new Error('probe: one bulk transfer at a time');
    const s = await dial(port);
    const done = new Promise<BulkResult>((resolve) => (this.expectation = { bytes, started: performance.now(), resolve }));
    const block = Buffer.alloc(Math.min(writeBytes, bytes), 0x5a);
    for (let sent = 0; sent < bytes; sent += block.length) {
      const n = Math.min(block.length, bytes - sent);
      if (!s.write(n === block.length ? block : block.subarray(0, n))) await new Promise((r) => s.once('drain', r));
    }
    const r = await done;
    s.destroy();
    return r;
  }

  /** `rounds` round trips of a small frame through `port` (the echo server, or a relay route to it), after the untimed warm-up; ms each. */
  async pingPong(port: number, rounds: number, opts: PingOptions = {}): Promise<number[]> {
    const { frameBytes = 64, warmup = 10, gapMs = 0 } = opts;
    const s = await dial(port);
    const frame = Buffer.alloc(frameBytes, 0xa5);
    const out: number[] = [];
    try {
      for (let i = 0; i < warmup + rounds; i++) {
        const t0 = performance.now();
        await new Promise<void>((resolve, reject) => {
          let got = 0;
          const onData = (b: Buffer): void => {
            got += b.length;
            if (got >= frameBytes) {
              s.off('data', onData);
              s.off('error', reject);
              resolve();
            }
          };
          s.on('data', onData);
          s.once('error', reject);
          s.write(frame);
        });
        if (i >= warmup) out.push(performance.now() - t0);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    } finally {
      s.destroy();
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([this.echo, this.sink].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
