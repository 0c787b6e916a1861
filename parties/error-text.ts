/**
 * Helpers for re-raising an MpcError with more context: MpcError's message is
 * `CODE: text (party p, peer q, step 's', round r)`; `bareMessage` recovers `text`.
 */
import { MpcError, type MpcErrorDetails } from '../protocols/errors.js';

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
