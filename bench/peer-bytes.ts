/**
 * Payload bytes a party sends to EACH peer (the channel counts only the total): what crosses
 * each directed link, for the "rounds x delay + bytes / bandwidth" estimate, where the
 * busiest link carries the bandwidth term. Benchmark instrumentation: it wraps the channel's
 * exchange on this instance and counts `send` before passing the request on unchanged.
 */
import type { Channel, PartyId } from '../protocols/channel.js';

export type PeerBytes = [number, number, number];

/** Start counting; the returned array (indexed by peer id) grows live. */
export function countBytesToPeers(ch: Channel): PeerBytes {
  const sent: PeerBytes = [0, 0, 0];
  const inner = ch.exchange.bind(ch);
  ch.exchange = (req) => {
    if (req.send) for (const [p, payload] of Object.entries(req.send)) if (payload) sent[Number(p) as PartyId] += payload.byteLength;
    return inner(req);
  };
  return sent;
}
