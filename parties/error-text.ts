/**
 * Error text helpers.
 *
 * MpcError's message is `CODE: text (party p, peer q, step 's', round r)`; `bareMessage`
 * recovers `text`, `rewrap` re-raises it with other details.
 *
 * What a peer is told: an abort frame or a handshake reject carries an error code and the
 * FIXED text `peerText(code)` only, never the local message. A local message may quote a
 * secret (a tokenizer error quoting a prompt character, a model path); it stays in the local
 * log of the party that failed.
 */
import { MpcError, type MpcErrorCode, type MpcErrorDetails } from '../protocols/errors.js';

/** The text of an MpcError without its code prefix and location suffix. */
export function bareMessage(e: MpcError): string {
  let m = e.message;
  if (m.startsWith(`${e.code}: `)) m = m.slice(e.code.length + 2);
  return m.replace(/ \((?:party \d+|peer \d+|step '[^']*'|round \d+)(?:, (?:party \d+|peer \d+|step '[^']*'|round \d+))*\)$/, '');
}

/** The same error code and text with (other) details. */
export function rewrap(e: MpcError, details: MpcErrorDetails, prefix = ''): MpcError {
  return new MpcError(e.code, prefix + bareMessage(e), details);
}

/** The fixed text sent to peers with each code (the details stay in the local log). */
const PEER_TEXT: Readonly<Record<MpcErrorCode, string>> = {
  MPC_ERR_TIMEOUT: 'a receive, heartbeat or setup timed out there',
  MPC_ERR_PEER_CLOSED: 'a connection of that party closed',
  MPC_ERR_ABORTED: 'that party stopped the session (its log has the cause)',
  MPC_ERR_AUTH: 'authentication failed there',
  MPC_ERR_TAMPER: 'a frame failed authentication there',
  MPC_ERR_REPLAY: 'a frame arrived out of sequence there',
  MPC_ERR_FRAME_TOO_LARGE: 'a frame over the size limit arrived there',
  MPC_ERR_BAD_FRAME: 'an undecodable frame arrived there',
  MPC_ERR_BUFFER_FULL: 'a buffer limit was reached there',
  MPC_ERR_PROTOCOL: 'the protocol steps disagree there',
  MPC_ERR_CONFIG: 'a configuration error there (its log names the field)',
  MPC_ERR_CONFIG_MISMATCH: "the parties' configurations differ",
  MPC_ERR_CLOSED: 'the channel was closed there',
};

/** The fixed text a peer receives for `code`. */
export function peerText(code: MpcErrorCode): string {
  return PEER_TEXT[code];
}

const CODE_IN_TEXT = /\bMPC_ERR_[A-Z_]+\b/g;

/**
 * The first error code other than MPC_ERR_ABORTED named in `e`'s message: the cause a party
 * heard from a peer before it stopped (`party 2 aborted the session with MPC_ERR_AUTH: ...`).
 * Undefined for an error that is not an MPC_ERR_ABORTED or names no other code.
 */
export function heardCause(e: MpcError): MpcErrorCode | undefined {
  if (e.code !== 'MPC_ERR_ABORTED') return undefined;
  for (const m of e.message.matchAll(CODE_IN_TEXT)) {
    const c = m[0] as MpcErrorCode;
    if (c !== 'MPC_ERR_ABORTED' && Object.hasOwn(PEER_TEXT, c)) return c;
  }
  return undefined;
}

/**
 * The fixed text a peer receives for the failure `e`: `peerText(e.code)`, and for a party that
 * stopped because a peer told it of a failure, the code of that first cause (a code from the
 * fixed list, never the local text), so the cause survives being passed on: a party that hears
 * of an AUTH failure second-hand still learns it was AUTH.
 */
export function peerTextOf(e: MpcError): string {
  const cause = heardCause(e);
  return cause === undefined ? peerText(e.code) : `${peerText(e.code)}; the cause it heard: ${cause}`;
}

/**
 * The error to hand to Channel.abort for a local failure `e`: the same code (MPC_ERR_ABORTED
 * for errors that are not MpcErrors, such as a model or tokenizer error) with the fixed peer
 * text, this party, and the step and round in progress (protocol positions, public).
 */
export function peerSafeError(e: unknown, self: number): MpcError {
  const code: MpcErrorCode = e instanceof MpcError ? e.code : 'MPC_ERR_ABORTED';
  const m = e instanceof MpcError ? e : undefined;
  return new MpcError(code, m !== undefined ? peerTextOf(m) : peerText(code), { party: self, ...(m?.step !== undefined ? { step: m.step } : {}), ...(m?.round !== undefined ? { round: m.round } : {}) });
}
