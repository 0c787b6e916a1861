/**
 * The abstract Channel that every protocol is written against. Implementations live in
 * parties/ (in-memory for tests, WebSocket for real runs).
 *
 * Model: protocols proceed in ROUNDS. In each round every party calls `exchange()` exactly
 * once (possibly with nothing to send and nothing to receive), naming the protocol step.
 * A party sends at most one payload to each peer per round and receives at most one
 * payload from each peer per round, so a whole tensor costs one message per peer per round.
 * `stats.rounds` therefore counts the rounds of the protocols run so far, identically on
 * every party.
 *
 * Ordering: messages from one peer are delivered in the order they were sent. The receiver
 * checks that the next message from a peer carries the step tag it expects; a mismatch is
 * MPC_ERR_PROTOCOL (the parties disagree on the program). Exchanges must not overlap: a
 * second exchange started before the first resolved throws MPC_ERR_PROTOCOL; independent
 * protocol calls share rounds through the round multiplexer (parallel.ts), whose lanes each
 * see a Channel of their own.
 */
export type PartyId = 0 | 1 | 2;
export const PARTIES: readonly PartyId[] = [0, 1, 2];

/** next party (i+1 mod 3) */
export function nextParty(i: PartyId): PartyId {
  return ((i + 1) % 3) as PartyId;
}
/** previous party (i-1 mod 3) */
export function prevParty(i: PartyId): PartyId {
  return ((i + 2) % 3) as PartyId;
}

/** What travels: ring elements / boolean words, or raw bytes. */
export type Payload = BigUint64Array | Uint8Array;

export interface StepStats {
  rounds: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
}

export interface ChannelStats extends StepStats {
  /** the same counters grouped by step tag (the tag given to exchange) */
  readonly byStep: Map<string, StepStats>;
}

export interface ExchangeRequest {
  /** protocol step tag, e.g. 'mul', 'trunc', 'msb.carry.3' */
  readonly step: string;
  /** payloads to send, by peer (never to self) */
  readonly send?: Partial<Record<PartyId, Payload>>;
  /** peers to receive one payload from in this round, with the expected kind */
  readonly recv?: readonly PartyId[];
}

export interface Channel {
  /** this party's index */
  readonly self: PartyId;
  /** live counters (payload bytes, not framing) */
  readonly stats: ChannelStats;
  /**
   * One round: send every payload in `send`, then resolve with the payload received from
   * each peer in `recv`. Received BigUint64Array payloads arrive as BigUint64Array, Uint8Array
   * as Uint8Array (the dtype travels in the envelope).
   * Rejects with MpcError (timeout, peer closed, protocol mismatch, ...).
   */
  exchange(req: ExchangeRequest): Promise<Map<PartyId, Payload>>;
  /**
   * Abort the session: tell every reachable peer (best effort) that this party aborts with
   * `error`, then close. Pending and future exchanges on every party reject with an MpcError.
   */
  abort(error: Error): Promise<void>;
  /** Orderly close after the last round. Idempotent. */
  close(): Promise<void>;
}

export function emptyStepStats(): StepStats {
  return { rounds: 0, bytesSent: 0, bytesReceived: 0, messagesSent: 0 };
}

export function emptyChannelStats(): ChannelStats {
  return { ...emptyStepStats(), byStep: new Map() };
}

/** Snapshot of the counters (for measuring the cost of one protocol call as a difference). */
export function snapshotStats(s: ChannelStats): StepStats {
  return { rounds: s.rounds, bytesSent: s.bytesSent, bytesReceived: s.bytesReceived, messagesSent: s.messagesSent };
}

/** b - a, field by field */
export function diffStats(after: StepStats, before: StepStats): StepStats {
  return {
    rounds: after.rounds - before.rounds,
    bytesSent: after.bytesSent - before.bytesSent,
    bytesReceived: after.bytesReceived - before.bytesReceived,
    messagesSent: after.messagesSent - before.messagesSent,
  };
}
