/**
 * In-memory transport: three channels in one process, wired to each other. Used by the
 * protocol tests (every protocol runs on it first) and by the single-process library path.
 * Payloads are copied on send, so a sender may reuse its buffers as over a real network.
 */
import { type PartyId, type Payload } from '../protocols/channel.js';
import { MpcError } from '../protocols/errors.js';
import { QueuedChannel, type QueuedChannelOptions } from './queued-channel.js';

export class MemoryChannel extends QueuedChannel {
  private peers: MemoryChannel[] = [];
  private closed = false;

  /** Three channels for parties 0, 1, 2, connected to each other. */
  static trio(opts: QueuedChannelOptions = {}): [MemoryChannel, MemoryChannel, MemoryChannel] {
    const chans = [new MemoryChannel(0, opts), new MemoryChannel(1, opts), new MemoryChannel(2, opts)] as [
      MemoryChannel,
      MemoryChannel,
      MemoryChannel,
    ];
    for (const c of chans) c.peers = chans;
    return chans;
  }

  protected transmit(to: PartyId, step: string, payload: Payload): void {
    if (this.closed) throw new MpcError('MPC_ERR_CLOSED', 'channel closed', { party: this.self, step });
    const copy = payload.slice();
    const peer = this.peers[to];
    const from = this.self;
    queueMicrotask(() => peer.receiveFrom(from, step, copy));
  }

  private receiveFrom(from: PartyId, step: string, payload: Payload): void {
    if (!this.closed) this.deliver(from, step, payload);
  }

  protected async shutdown(abortError: MpcError | undefined): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (abortError) {
      for (const p of this.peers) {
        if (p === this || p.closed) continue;
        const e = new MpcError('MPC_ERR_ABORTED', `party ${this.self} aborted: ${abortError.message}`, {
          party: p.self,
          peer: this.self,
          step: abortError.step,
          cause: abortError,
        });
        queueMicrotask(() => p.fail(e));
      }
    }
  }
}
