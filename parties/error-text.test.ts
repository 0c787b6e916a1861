/**
 * What a peer is told about a failure: the code and its fixed text, and for a second-hand
 * abort the first cause's code, never the local message.
 */
import { describe, it, expect } from 'vitest';
import { MpcError } from '../protocols/errors.js';
import { heardCause, peerSafeError, peerText, peerTextOf } from './error-text.js';

describe('error text sent to peers', () => {
  it('a local error: the fixed text of its code only (a secret in the message stays local)', () => {
    const e = new MpcError('MPC_ERR_CONFIG', "prompt character 'q' is not in the vocabulary", { party: 1, step: 'tokenize' });
    expect(peerTextOf(e)).toBe(peerText('MPC_ERR_CONFIG'));
    const s = peerSafeError(e, 1);
    expect(s.code).toBe('MPC_ERR_CONFIG');
    expect(s.message).not.toContain("'q'");
    expect(s.step).toBe('tokenize');
    // not an MpcError (a tokenizer's own error): MPC_ERR_ABORTED with the fixed text
    const t = peerSafeError(new Error('secret prompt text'), 2);
    expect(t.code).toBe('MPC_ERR_ABORTED');
    expect(t.message).not.toContain('secret');
    expect(heardCause(t)).toBeUndefined();
  });

  it('a second-hand abort names the first cause, so it survives being passed on twice', () => {
    // party 0 heard party 2's AUTH failure ...
    const heard = new MpcError('MPC_ERR_ABORTED', `party 2 aborted the session with MPC_ERR_AUTH: ${peerText('MPC_ERR_AUTH')}`, { party: 0, peer: 2 });
    expect(heardCause(heard)).toBe('MPC_ERR_AUTH');
    const told = peerTextOf(heard);
    expect(told).toContain('MPC_ERR_AUTH');
    expect(told.startsWith(peerText('MPC_ERR_ABORTED'))).toBe(true);
    // ... and party 1 hears it from party 0 (a handshake reject with that text)
    const second = new MpcError('MPC_ERR_ABORTED', `rejected by party 0 with MPC_ERR_ABORTED: ${told}`, { party: 1, peer: 0 });
    expect(heardCause(second)).toBe('MPC_ERR_AUTH');
    expect(peerTextOf(second)).toBe(told);
    expect(peerSafeError(second, 1).message).toContain('MPC_ERR_AUTH');
  });

  it('only known codes count as causes; a plain abort has none', () => {
    expect(heardCause(new MpcError('MPC_ERR_ABORTED', 'party 2 aborted the session with MPC_ERR_NOT_A_CODE: x'))).toBeUndefined();
    expect(heardCause(new MpcError('MPC_ERR_ABORTED', peerText('MPC_ERR_ABORTED')))).toBeUndefined();
    expect(heardCause(new MpcError('MPC_ERR_AUTH', 'MPC_ERR_TAMPER mentioned'))).toBeUndefined();
    expect(peerTextOf(new MpcError('MPC_ERR_ABORTED', 'stopped'))).toBe(peerText('MPC_ERR_ABORTED'));
  });
});
