/**
 * The public-argument check: before a job touches any secret, the three parties exchange
 * the public description of what they are about to run (the job's name and its public
 * arguments, field by field) and compare it. One round at setup: every party sends its
 * description to both peers (these values are public by definition, so they travel as they
 * are); a difference fails every party that sees it with MPC_ERR_CONFIG_MISMATCH naming the
 * field and each party's value, e.g.
 *
 *   public job argument 'tokens' differs: party 0 has 4, party 1 (this party) has 6
 *
 * Values longer than FIELD_VALUE_CHARS are compared by hash and not shown. A party sees the
 * difference with each peer whose description differs from its own, so the odd one out and
 * the two others all fail with the same code (nobody is left with a misleading
 * MPC_ERR_PEER_CLOSED); they meet for one more (empty) round before failing, so that no party
 * is aborted by a faster one before it could compare. Private inputs (parties/job.ts) never
 * take part.
 */
import { createHash } from 'node:crypto';
import type { Channel, PartyId } from '../protocols/channel.js';
import { MpcError } from '../protocols/errors.js';

/** the protocol step of the check (one round) */
export const PUBLIC_ARGS_STEP = 'job.public';
/** values whose canonical JSON is longer are compared by their SHA-256 */
export const FIELD_VALUE_CHARS = 200;
/** largest description accepted from a peer (and sent) */
export const MAX_DESCRIPTION_BYTES = 64 * 1024;
/** the field name used when the arguments are not a JSON object */
const WHOLE = '(arguments)';

export interface PublicDescription {
  /** the job's name (built-in name, or `module <file>#<export>`) */
  readonly job: string;
  /** canonical JSON of each top-level argument (or `sha256:<hex>` for long ones), by name */
  readonly fields: Readonly<Record<string, string>>;
}

/** JSON with object keys sorted at every level (bigint as "<n>n"; undefined fields dropped). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return JSON.stringify(`${v}n`);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return canonicalJson(Array.from(v as unknown as ArrayLike<number | bigint>));
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new MpcError('MPC_ERR_CONFIG', `public job arguments must be JSON values, not ${typeof v}`);
}

function fieldValue(v: unknown): string {
  const j = canonicalJson(v);
  return j.length <= FIELD_VALUE_CHARS ? j : `sha256:${createHash('sha256').update(j).digest('hex')}`;
}

/** The description of `job` with public arguments `args` (absent arguments: no fields). */
export function describePublicArgs(job: string, args: unknown): PublicDescription {
  const fields: Record<string, string> = {};
  if (typeof args === 'object' && args !== null && !Array.isArray(args) && !ArrayBuffer.isView(args)) {
    for (const [k, v] of Object.entries(args as Record<string, unknown>)) if (v !== undefined) fields[k] = fieldValue(v);
  } else if (args !== undefined) fields[WHOLE] = fieldValue(args);
  return { job, fields };
}

export function encodeDescription(d: PublicDescription): Uint8Array {
  const b = new TextEncoder().encode(canonicalJson({ job: d.job, fields: d.fields }));
  if (b.byteLength > MAX_DESCRIPTION_BYTES) throw new MpcError('MPC_ERR_CONFIG', `the public job arguments take ${b.byteLength} bytes as compared; at most ${MAX_DESCRIPTION_BYTES} (fewer top-level fields)`);
  return b;
}

function protocolError(msg: string, self: PartyId, peer: PartyId): MpcError {
  return new MpcError('MPC_ERR_PROTOCOL', msg, { party: self, peer, step: PUBLIC_ARGS_STEP });
}

export function decodeDescription(b: unknown, self: PartyId, peer: PartyId): PublicDescription {
  if (!(b instanceof Uint8Array) || b.byteLength > MAX_DESCRIPTION_BYTES) throw protocolError(`party ${peer} sent no valid public job description`, self, peer);
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b));
  } catch {
    throw protocolError(`party ${peer} sent an undecodable public job description`, self, peer);
  }
  const o = v as { job?: unknown; fields?: unknown };
  if (typeof o !== 'object' || o === null || typeof o.job !== 'string' || typeof o.fields !== 'object' || o.fields === null || Array.isArray(o.fields)) {
    throw protocolError(`party ${peer} sent a malformed public job description`, self, peer);
  }
  const fields: Record<string, string> = {};
  for (const [k, x] of Object.entries(o.fields as Record<string, unknown>)) {
    if (typeof x !== 'string') throw protocolError(`party ${peer} sent a malformed public job description`, self, peer);
    fields[k] = x;
  }
  return { job: o.job, fields };
}

function shown(v: string | undefined): string {
  if (v === undefined) return 'no value';
  return v.startsWith('sha256:') ? `a long value (${v.slice(7, 19)}...)` : v;
}

/**
 * What differs between this party's description and a peer's, as one line (undefined when
 * they agree): the job first, else every differing field (by name), parties in id order.
 */
export function compareDescriptions(mine: PublicDescription, theirs: PublicDescription, self: PartyId, peer: PartyId): string | undefined {
  const side = (p: PartyId, v: string) => `party ${p}${p === self ? ' (this party)' : ''} has ${v}`;
  const both = (a: string, b: string) => (self < peer ? `${side(self, a)}, ${side(peer, b)}` : `${side(peer, b)}, ${side(self, a)}`);
  if (mine.job !== theirs.job) return `the job differs: ${both(JSON.stringify(mine.job), JSON.stringify(theirs.job.slice(0, 100)))}`;
  const names = [...new Set([...Object.keys(mine.fields), ...Object.keys(theirs.fields)])].sort();
  const diffs = names
    .filter((k) => mine.fields[k] !== theirs.fields[k])
    .map((k) => `public job argument '${k.slice(0, 64)}' differs: ${both(shown(mine.fields[k]), shown(theirs.fields[k]).slice(0, FIELD_VALUE_CHARS + 40))}`);
  return diffs.length > 0 ? diffs.join('; ') : undefined;
}

/**
 * The check itself (one round on `ch`): send this party's description to both peers,
 * compare theirs. Throws MPC_ERR_CONFIG_MISMATCH (every difference seen, peers in id order).
 */
export async function checkPublicArgs(ch: Channel, mine: PublicDescription): Promise<void> {
  const self = ch.self;
  const peers = ([0, 1, 2] as PartyId[]).filter((p) => p !== self);
  const bytes = encodeDescription(mine);
  const got = await ch.exchange({ step: PUBLIC_ARGS_STEP, send: { [peers[0]]: bytes, [peers[1]]: bytes }, recv: peers });
  const diffs = peers.map((peer) => compareDescriptions(mine, decodeDescription(got.get(peer), self, peer), self, peer)).filter((d): d is string => d !== undefined);
  if (diffs.length === 0) return;
  // Equality is transitive, so when any two descriptions differ EVERY party sees a difference
  // after the round above. Before failing (which sends abort frames) the parties meet once
  // more, so none is aborted by a faster peer before it has the descriptions and can name the
  // field itself. That round's own failure is of no interest: the mismatch is the error.
  const mismatch = new MpcError('MPC_ERR_CONFIG_MISMATCH', diffs.join(' | '), { party: self, step: PUBLIC_ARGS_STEP });
  const seen = Uint8Array.of(1);
  await ch.exchange({ step: `${PUBLIC_ARGS_STEP}.mismatch`, send: { [peers[0]]: seen, [peers[1]]: seen }, recv: peers }).catch(() => undefined);
  throw mismatch;
}
