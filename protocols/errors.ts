/**
 * Structured errors with stable codes. Anything that comes from the network or from a
 * peer's behaviour is an MpcError; bad arguments from local callers are TypeError/RangeError.
 */
export const MPC_ERROR_CODES = [
  /** a receive, handshake or heartbeat did not complete within its timeout */
  'MPC_ERR_TIMEOUT',
  /** the connection to a peer closed or the peer process died */
  'MPC_ERR_PEER_CLOSED',
  /** a peer announced that it aborted the session (carries the peer's own code in `cause`) */
  'MPC_ERR_ABORTED',
  /** handshake failed: wrong key, bad signature, unknown party, session id mismatch */
  'MPC_ERR_AUTH',
  /** a sealed frame failed authentication (tampered, wrong key) */
  'MPC_ERR_TAMPER',
  /** a frame's sequence number was replayed or out of order */
  'MPC_ERR_REPLAY',
  /** a frame is larger than the configured maximum */
  'MPC_ERR_FRAME_TOO_LARGE',
  /** a frame could not be decoded (garbage, wrong envelope, wrong dtype/shape) */
  'MPC_ERR_BAD_FRAME',
  /** more bytes are buffered for a peer than the configured maximum */
  'MPC_ERR_BUFFER_FULL',
  /** the parties disagree on the protocol (unexpected step tag, size mismatch, concurrent exchanges) */
  'MPC_ERR_PROTOCOL',
  /** bad configuration: session file, key file, CLI arguments */
  'MPC_ERR_CONFIG',
  /**
   * the parties' configurations differ: session description (party list, options, handshake
   * version) at setup, or a public job argument before the job starts; the message names the field
   */
  'MPC_ERR_CONFIG_MISMATCH',
  /** the channel was closed locally and can no longer be used */
  'MPC_ERR_CLOSED',
] as const;

export type MpcErrorCode = (typeof MPC_ERROR_CODES)[number];

export interface MpcErrorDetails {
  /** the party that raised or observed the error */
  readonly party?: number;
  /** the peer involved, when there is one */
  readonly peer?: number;
  /** the protocol step tag in progress */
  readonly step?: string;
  /** the round number (channel round counter) in progress */
  readonly round?: number;
  readonly cause?: unknown;
}

export class MpcError extends Error {
  readonly code: MpcErrorCode;
  readonly party: number | undefined;
  readonly peer: number | undefined;
  readonly step: string | undefined;
  readonly round: number | undefined;

  constructor(code: MpcErrorCode, message: string, details: MpcErrorDetails = {}) {
    const where = [
      details.party !== undefined ? `party ${details.party}` : undefined,
      details.peer !== undefined ? `peer ${details.peer}` : undefined,
      details.step !== undefined ? `step '${details.step}'` : undefined,
      details.round !== undefined ? `round ${details.round}` : undefined,
    ]
      .filter((s) => s !== undefined)
      .join(', ');
    super(`${code}: ${message}${where ? ` (${where})` : ''}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'MpcError';
    this.code = code;
    this.party = details.party;
    this.peer = details.peer;
    this.step = details.step;
    this.round = details.round;
  }
}

export function isMpcError(e: unknown): e is MpcError {
  return e instanceof MpcError;
}
