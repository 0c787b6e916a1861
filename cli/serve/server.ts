/**
 * `mpcache serve`: P0 (model owner) or P2 (helper) as a long-lived process that accepts
 * many user sessions, each one an ordinary three-party session (its own session id, the
 * user's own fresh key, fresh handshake keys and PRG seeds) running the generate job with
 * the weights HELD between sessions (held-weights.ts: P0 loads the model once, shares it
 * with P2 once per server start).
 *
 * Control endpoint (HTTP, JSON; it carries only public data — addresses, public keys, public
 * job arguments; everything secret travels inside the authenticated session):
 *   GET  /info     -> { party, publicKey, host, options }  (host: where this party's sessions run)
 *   POST /port     -> { port }   (P2 only: a port reserved for the next session's listener)
 *   POST /session  { session, jobArgs } -> { accepted: true }   (the whole session file; the
 *                  party checks its own entry, the reserved port, the options, the arguments,
 *                  then joins the session in this process)
 * A user session that fails (the user killed, a timeout, a bad frame) ends that session only:
 * its errors are caught and logged as one line; other sessions and the held weights go on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PartyId } from '../../protocols/channel.js';
import { isMpcError } from '../../protocols/errors.js';
import { type Identity, toHex } from '../../parties/identity.js';
import { prepareJob } from '../../parties/job.js';
import { freePorts } from '../../parties/local-session.js';
import { runParty } from '../../parties/run-party.js';
import { type SessionOptions, parseSessionConfig } from '../../parties/session-config.js';
import { generateJob } from '../jobs/generate.js';

export interface ServeOptions {
  readonly self: 0 | 2;
  readonly identity: Identity;
  /** where the control endpoint listens */
  readonly controlHost: string;
  /** 0: any free port */
  readonly controlPort: number;
  /** this party's host in the sessions (P2 listens there) */
  readonly host: string;
  /** P0: the model path (undefined: the default model; 'random': the seeded random model) */
  readonly model?: string;
  /** the options every session must carry */
  readonly options: SessionOptions;
  /** most sessions at once (default 8) */
  readonly maxSessions?: number;
  readonly log: (line: string) => void;
  /** progress lines of the sessions (weights, prefill, tokens) */
  readonly progress?: boolean;
}

export interface RunningServer {
  readonly port: number;
  readonly active: () => number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const PORT_HOLD_MS = 60_000;

function body(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      n += c.byteLength;
      if (n > MAX_BODY) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error('body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, v: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(v));
}

function mb(b: number): string {
  return `${(b / 1e6).toFixed(2)} MB`;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const self = o.self as PartyId;
  const max = o.maxSessions ?? 8;
  const reserved = new Map<number, NodeJS.Timeout>();
  const sessions = new Set<string>();
  let served = 0;
  let weightsReported = false;
  const inputs: Record<string, string> = self === 0 && o.model !== undefined ? { model: o.model } : {};
  // P0 loads (and checks) the model now: once per server start
  await prepareJob(generateJob, 'generate', self, { weights: 'held', tokens: 1 }, inputs);

  const runSession = async (raw: unknown, jobArgs: unknown): Promise<void> => {
    const session = parseSessionConfig(raw, 'session');
    const mine = session.parties[self];
    if (toHex(mine.publicKey) !== toHex(o.identity.publicKey)) throw new Error(`parties[${self}].publicKey is not this server's key`);
    if (mine.host !== o.host) throw new Error(`parties[${self}].host must be ${o.host}`);
    if (self === 2) {
      const t = reserved.get(mine.port);
      if (t === undefined) throw new Error(`parties[2].port ${mine.port} was not reserved (POST /port first)`);
      clearTimeout(t);
      reserved.delete(mine.port);
    }
    if (JSON.stringify(session.options) !== JSON.stringify(o.options)) throw new Error('the session options differ from this server\'s (GET /info)');
    if (sessions.has(session.session)) throw new Error(`session ${session.session} is already running`);
    if (sessions.size >= max) throw new Error(`this server runs ${max} sessions already`);
    const { jobId, args } = await prepareJob(generateJob, 'generate', self, jobArgs, inputs);
    if ((args as { weights?: string }).weights !== 'held') throw new Error("a served session runs with the public argument weights: 'held'");
    sessions.add(session.session);
    const id = session.session;
    const n = ++served;
    o.log(`session ${id} (#${n}): user key ${toHex(session.parties[1].publicKey).slice(0, 16)}..., ${sessions.size} running`);
    void runParty({
      session,
      self,
      identity: o.identity,
      job: generateJob,
      jobId,
      args,
      inputs,
      log: (line) => o.log(`session ${id}: ${line}`),
      emit: (ev) => {
        if (o.progress && typeof ev.line === 'string') o.log(`session ${id}: ${ev.line}`);
      },
    }).then(
      ({ stats }) => {
        const w = stats.byStep['weights.x0']?.bytesSent ?? 0;
        const seeds = stats.byStep['weights.seeds']?.bytesSent ?? 0;
        o.log(`session ${id}: done; party ${self} sent ${stats.bytesSent} bytes (${mb(stats.bytesSent)}), of which weights ${w + seeds} bytes; without them ${stats.bytesSent - w - seeds} bytes`);
        if (self === 0 && !weightsReported && w > 1024) {
          weightsReported = true;
          o.log(`weights shared once per server start: ${w} bytes (${mb(w)}) to party 2 in session #${n}; later sessions send ${seeds + 32} bytes for the weights (seeds and a tag) instead of ${mb(w)}`);
        }
      },
      (e: unknown) => o.log(`session ${id}: failed: ${isMpcError(e) ? e.message.split('\n')[0] : String(e).split('\n')[0]} (the server goes on)`),
    ).finally(() => sessions.delete(id));
  };

  const server: Server = createServer((req, res) => {
    const route = `${req.method} ${req.url}`;
    void (async () => {
      try {
        if (route === 'GET /info') return reply(res, 200, { party: self, publicKey: toHex(o.identity.publicKey), host: o.host, options: o.options });
        if (route === 'POST /port' && self === 2) {
          const [port] = await freePorts(1, o.host);
          reserved.set(port, setTimeout(() => reserved.delete(port), PORT_HOLD_MS).unref());
          return reply(res, 200, { port });
        }
        if (route === 'POST /session') {
          const b = (await body(req)) as { session?: unknown; jobArgs?: unknown };
          await runSession(b.session, b.jobArgs);
          return reply(res, 200, { accepted: true });
        }
        return reply(res, 404, { error: `no ${route} here` });
      } catch (e) {
        return reply(res, 400, { error: (isMpcError(e) ? e.message : (e as Error).message).split('\n')[0] });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.controlPort, o.controlHost, () => resolve());
  });
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : o.controlPort;
  return {
    port,
    active: () => sessions.size,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
