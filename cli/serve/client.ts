/**
 * The user's side of a served session (`mpcache ask`): P1 with a fresh key of its own for
 * this session only. It reads both servers' /info (their keys are checked against pinned
 * ones when given), reserves P2's session port, writes the session description (a fresh
 * session id; P0, this party on `host` and a free port, P2 on the reserved port), hands it to
 * P2 and P0 and runs party 1 of it with the prompt (private: it never leaves this process).
 */
import { randomBytes } from 'node:crypto';
import type { PartyId } from '../../protocols/channel.js';
import { MpcError } from '../../protocols/errors.js';
import { generateIdentity, toHex } from '../../parties/identity.js';
import type { JobEvent } from '../../parties/job.js';
import { prepareJob } from '../../parties/job.js';
import { freePorts } from '../../parties/local-session.js';
import { type PartyRun, runParty } from '../../parties/run-party.js';
import { parseSessionConfig } from '../../parties/session-config.js';
import { generateJob } from '../jobs/generate.js';

export interface ServerInfo {
  readonly party: number;
  readonly publicKey: string;
  readonly host: string;
  readonly options: Record<string, number>;
}

export interface AskOptions {
  /** control addresses host:port of P0 and P2 */
  readonly p0: string;
  readonly p2: string;
  /** pinned public keys (hex); without them the keys /info reports are taken as they are */
  readonly p0Key?: string;
  readonly p2Key?: string;
  /** this party's host in the session (P0 dials it) */
  readonly host: string;
  readonly jobArgs: Record<string, unknown>;
  /** P1's private inputs: prompt, tokenizer */
  readonly inputs: { readonly prompt: string; readonly tokenizer?: string };
  readonly log: (line: string) => void;
  readonly emit: (ev: JobEvent) => void;
}

function cfg(msg: string): MpcError {
  return new MpcError('MPC_ERR_CONFIG', `ask: ${msg}`);
}

async function call(addr: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`http://${addr}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  } catch (e) {
    throw cfg(`cannot reach the server at ${addr} (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`);
  }
  const v = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw cfg(`the server at ${addr} refused ${method} ${path}: ${v.error ?? res.status}`);
  return v;
}

export async function ask(o: AskOptions): Promise<PartyRun> {
  const self: PartyId = 1;
  const args = { ...o.jobArgs, weights: 'held' };
  const inputs = { prompt: o.inputs.prompt, ...(o.inputs.tokenizer !== undefined ? { tokenizer: o.inputs.tokenizer } : {}) };
  const { jobId, args: checked } = await prepareJob(generateJob, 'generate', self, args, inputs); // before any server is asked
  const [i0, i2] = (await Promise.all([call(o.p0, 'GET', '/info'), call(o.p2, 'GET', '/info')])) as ServerInfo[];
  if (i0.party !== 0 || i2.party !== 2) throw cfg(`--p0 must name a party 0 server and --p2 a party 2 server (got parties ${i0.party} and ${i2.party})`);
  for (const [info, pin, flag] of [[i0, o.p0Key, '--p0-key'], [i2, o.p2Key, '--p2-key']] as const) {
    if (pin !== undefined && pin.toLowerCase() !== info.publicKey) throw cfg(`the server's public key ${info.publicKey.slice(0, 16)}... is not the one ${flag} pins`);
  }
  if (o.p0Key === undefined || o.p2Key === undefined) o.log('note: without --p0-key and --p2-key the servers\' keys are taken from their /info as they are (pin them to be sure whom you talk to)');
  if (JSON.stringify(i0.options) !== JSON.stringify(i2.options)) throw cfg('the two servers require different session options');
  const identity = generateIdentity(); // this session's own key
  const [myPort] = await freePorts(1, o.host);
  const { port: p2Port } = (await call(o.p2, 'POST', '/port')) as { port: number };
  const controlPort = Number(o.p0.split(':').pop());
  const raw = {
    session: `ask-${randomBytes(8).toString('hex')}`,
    parties: [
      { id: 0, host: i0.host, port: controlPort, publicKey: i0.publicKey },
      { id: 1, host: o.host, port: myPort, publicKey: toHex(identity.publicKey) },
      { id: 2, host: i2.host, port: p2Port, publicKey: i2.publicKey },
    ],
    options: i0.options,
  };
  const session = parseSessionConfig(raw, 'session');
  // P2 first: it listens; P0 dials both
  await call(o.p2, 'POST', '/session', { session: raw, jobArgs: args });
  await call(o.p0, 'POST', '/session', { session: raw, jobArgs: args });
  return runParty({ session, self, identity, job: generateJob, jobId, args: checked, inputs, log: o.log, emit: o.emit, onWaiting: (line) => o.emit({ event: 'waiting', line }) });
}
