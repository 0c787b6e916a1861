/**
 * The link-emulation relay: TCP in, TCP out, with each direction of each connection shaped
 * by a DirectionShaper (delay, token-bucket rate, jitter; order kept). Meant to run in a
 * process of its own (relay-process.ts), so that its timing and the parties' event loops do
 * not disturb each other.
 *
 * For every route the relay listens on `listen` and, per accepted connection, dials `target`
 * (the real listener); bytes read from either side are cut into pieces of at most PIECE_BYTES,
 * stamped on arrival (process.hrtime), given a release time by that direction's shaper and
 * written to the other side when it is due. Due times are served by one PreciseTimer for all
 * directions (the earliest head of any queue); pieces due together go out in one corked write.
 * A piece that reached an idle link is released on time to the microsecond (the timer's
 * spin); a piece that waited for tokens (the middle of a saturated stream) is released at the
 * timer's plain wake-up, 0.1-0.3 ms late, which shifts a stream without changing its rate and
 * saves a spin per piece (at 1 Gbit/s one every 0.13 ms: a core).
 *
 * Faithful to a link where it matters for the parties: a half-close (FIN) travels behind the
 * data before it; a reset or error on one side resets the other at once; if the target does
 * not accept, the accepted connection is reset (the dialer sees ECONNRESET and retries, as it
 * would on ECONNREFUSED). Not emulated: the delay of TCP's own connect handshake, packet loss,
 * and the far end's TCP window/congestion control (the relay terminates TCP on loopback).
 *
 * Limits: a direction holding more than `maxQueuedBytes` (queued + unsent to the target)
 * stops reading its source until it is below half of that (back-pressure to the sender's
 * TCP, like a full link buffer).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { PreciseTimer, nowNs, type PreciseTimerStats } from './precise-timer.js';
import { DirectionShaper, jitterRng } from './shaper.js';
import type { LinkShape } from './settings.js';

/** the niceness a relay process asks for (relay-process.ts) */
export const RELAY_NICE = -10;

/** pieces a read is cut into (one token-bucket step; the default burst) */
export const PIECE_BYTES = 16 * 1024;
/** lateness histogram: 1 us buckets up to this many us, then one overflow bucket */
const HIST_US = 100_000;

export interface RelayRoute {
  /** label, e.g. '0-1' (the parties it joins) */
  readonly name: string;
  /** where the relay listens (port 0: the OS picks) */
  readonly listenHost: string;
  readonly listenPort: number;
  /** the real listener it forwards to */
  readonly targetHost: string;
  readonly targetPort: number;
}

export interface RelayConfig {
  readonly shape: LinkShape;
  readonly routes: readonly RelayRoute[];
  /** seed of the jitter draws (each direction gets its own stream) */
  readonly seed?: number;
  /** back-pressure threshold per direction (default max(8 MiB, 4 x rate x delay)) */
  readonly maxQueuedBytes?: number;
}

/** Counters of one direction of one route (all its connections). */
export interface DirectionStats {
  readonly route: string;
  /** 'forward' = dialer -> listener, 'back' = listener -> dialer */
  readonly direction: 'forward' | 'back';
  bytes: number;
  pieces: number;
  /** most bytes held (queued + unsent to the target) at once */
  maxHeldBytes: number;
  /** times reading the source was paused for back-pressure */
  pauses: number;
}

/** Structured-clonable statistics of a relay run. */
export interface RelayStats {
  readonly directions: DirectionStats[];
  readonly connections: number;
  /** release lateness (actual write - due time) over all pieces, microseconds */
  readonly lateUs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly count: number };
  readonly timer: PreciseTimerStats;
  /** CPU time (user + system) of this process since the relay started, ms */
  readonly cpuMs: number;
  /** wall time since the relay started, ms */
  readonly wallMs: number;
}

interface Piece {
  readonly buf: Buffer;
  readonly release: number;
  /** it waited for tokens: the middle of a saturated stream (released without the precise spin) */
  readonly paced: boolean;
}

class Direction {
  readonly shaper: DirectionShaper;
  readonly queue: Piece[] = [];
  head = 0;
  queuedBytes = 0;
  srcEnded = false;
  done = false;
  paused = false;
  constructor(
    readonly src: Socket,
    readonly dst: Socket,
    shape: LinkShape,
    random: () => number,
    readonly stats: DirectionStats,
  ) {
    this.shaper = new DirectionShaper(shape, random);
  }
  get next(): Piece | undefined {
    return this.head < this.queue.length ? this.queue[this.head] : undefined;
  }
  held(): number {
    return this.queuedBytes + this.dst.writableLength;
  }
}

export class Relay {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly dirs = new Set<Direction>();
  private readonly timer: PreciseTimer;
  private readonly hist = new Uint32Array(HIST_US + 1);
  private lateMaxUs = 0;
  private lateCount = 0;
  private readonly dirStats = new Map<string, DirectionStats>();
  private connections = 0;
  private armed: number | undefined;
  private readonly maxHeld: number;
  private readonly cpu0 = process.cpuUsage();
  private readonly t0 = performance.now();
  private seedCounter: number;
  private closed = false;
  /** the ports the routes listen on, in route order */
  readonly ports: number[] = [];

  private constructor(private readonly config: RelayConfig) {
    this.timer = new PreciseTimer(() => this.flush());
    const bdp = Number.isFinite(config.shape.rateBps) ? (config.shape.rateBps / 8) * (config.shape.delayMs / 1000) : 0;
    this.maxHeld = config.maxQueuedBytes ?? Math.max(8 * 1024 * 1024, 4 * bdp);
    this.seedCounter = config.seed ?? 1;
  }

  static async start(config: RelayConfig): Promise<Relay> {
    const r = new Relay(config);
    try {
      for (const route of config.routes) r.ports.push(await r.listen(route));
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  private listen(route: RelayRoute): Promise<number> {
    for (const direction of ['forward', 'back'] as const) {
      this.dirStats.set(`${route.name}/${direction}`, { route: route.name, direction, bytes: 0, pieces: 0, maxHeldBytes: 0, pauses: 0 });
    }
    const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (down) => this.accept(route, down));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(route.listenPort, route.listenHost, () => {
        server.off('error', reject);
        const a = server.address();
        if (a === null || typeof a === 'string') reject(new Error(`relay: route ${route.name} has no port`));
        else resolve(a.port);
      });
    });
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  private accept(route: RelayRoute, down: Socket): void {
    if (this.closed) {
      down.destroy();
      return;
    }
    this.connections++;
    this.track(down);
    down.setNoDelay(true);
    const up = connect({ host: route.targetHost, port: route.targetPort, allowHalfOpen: true, noDelay: true });
    this.track(up);
    let connected = false;
    up.once('connect', () => {
      connected = true;
      if (down.destroyed) {
        up.destroy(); // the dialer gave up meanwhile
        return;
      }
      const fwd = this.direction(down, up, this.dirStats.get(`${route.name}/forward`)!);
      const back = this.direction(up, down, this.dirStats.get(`${route.name}/back`)!);
      const reset = (): void => {
        // a reset or error on one side: the link is gone, the other side hears it at once
        for (const d of [fwd, back]) this.drop(d);
        if (!down.destroyed) down.resetAndDestroy();
        if (!up.destroyed) up.resetAndDestroy();
      };
      down.on('error', reset);
      up.on('error', reset);
      down.resume();
    });
    up.once('error', () => {
      if (!connected && !down.destroyed) down.resetAndDestroy(); // the target does not listen (yet)
    });
    down.once('error', () => {
      if (!connected) up.destroy();
    });
  }

  private direction(src: Socket, dst: Socket, stats: DirectionStats): Direction {
    const d = new Direction(src, dst, this.config.shape, jitterRng(this.seedCounter++ * 0x9e3779b1), stats);
    this.dirs.add(d);
    src.on('data', (chunk: Buffer) => this.arrive(d, chunk));
    src.on('end', () => {
      d.srcEnded = true;
      this.finishIfDrained(d);
    });
    dst.on('drain', () => this.resumeIfRoom(d));
    return d;
  }

  private arrive(d: Direction, chunk: Buffer): void {
    if (d.done) return;
    const t = nowNs();
    // without a rate limit a read needs no cutting (its pieces would all be due together)
    const piece = Number.isFinite(this.config.shape.rateBps) ? PIECE_BYTES : chunk.length;
    for (let off = 0; off < chunk.length; off += piece) {
      const buf = chunk.subarray(off, Math.min(chunk.length, off + piece));
      const release = d.shaper.schedule(t, buf.length);
      d.queue.push({ buf, release, paced: d.shaper.lastPaced });
      d.queuedBytes += buf.length;
    }
    const held = d.held();
    if (held > d.stats.maxHeldBytes) d.stats.maxHeldBytes = held;
    if (held > this.maxHeld && !d.paused) {
      d.paused = true;
      d.stats.pauses++;
      d.src.pause();
    }
    const head = d.next!;
    if (head.release <= t) this.flush();
    else if (this.armed === undefined || head.release < this.armed) this.arm(head);
  }

  private arm(p: Piece): void {
    this.armed = p.release;
    this.timer.at(p.release, !p.paced);
  }

  /** write every due piece; re-arm for the earliest one not yet due */
  private flush(): void {
    this.armed = undefined;
    if (this.closed) return;
    const now = nowNs();
    let next: Piece | undefined;
    for (const d of this.dirs) {
      let p = d.next;
      if (p !== undefined && p.release <= now) {
        d.dst.cork();
        do {
          d.dst.write(p.buf);
          d.queuedBytes -= p.buf.length;
          d.stats.bytes += p.buf.length;
          d.stats.pieces++;
          this.recordLate(now - p.release);
          d.head++;
          p = d.next;
        } while (p !== undefined && p.release <= now);
        d.dst.uncork();
        if (d.head > 1024 && d.head * 2 > d.queue.length) {
          d.queue.splice(0, d.head);
          d.head = 0;
        }
        this.resumeIfRoom(d);
        this.finishIfDrained(d);
      }
      if (p !== undefined && (next === undefined || p.release < next.release || (p.release === next.release && !p.paced))) next = p;
    }
    if (next !== undefined) this.arm(next);
  }

  private recordLate(ns: number): void {
    const us = Math.max(0, ns / 1000);
    this.hist[Math.min(HIST_US, Math.floor(us))]++;
    if (us > this.lateMaxUs) this.lateMaxUs = us;
    this.lateCount++;
  }

  private resumeIfRoom(d: Direction): void {
    if (d.paused && !d.done && d.held() <= this.maxHeld / 2) {
      d.paused = false;
      d.src.resume();
    }
  }

  private finishIfDrained(d: Direction): void {
    if (d.srcEnded && !d.done && d.next === undefined) {
      d.done = true;
      this.dirs.delete(d);
      if (!d.dst.destroyed) d.dst.end();
    }
  }

  private drop(d: Direction): void {
    d.done = true;
    d.queue.length = 0;
    d.head = 0;
    d.queuedBytes = 0;
    this.dirs.delete(d);
  }

  private quantileUs(q: number): number {
    if (this.lateCount === 0) return 0;
    const rank = Math.ceil(q * this.lateCount);
    let acc = 0;
    for (let i = 0; i <= HIST_US; i++) {
      acc += this.hist[i];
      if (acc >= rank) return i;
    }
    return HIST_US;
  }

  stats(): RelayStats {
    const c = process.cpuUsage(this.cpu0);
    return {
      directions: [...this.dirStats.values()].map((s) => ({ ...s })),
      connections: this.connections,
      lateUs: { p50: this.quantileUs(0.5), p90: this.quantileUs(0.9), p99: this.quantileUs(0.99), max: Math.round(this.lateMaxUs), count: this.lateCount },
      timer: { ...this.timer.stats },
      cpuMs: (c.user + c.system) / 1000,
      wallMs: performance.now() - this.t0,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await this.timer.close();
  }
}
