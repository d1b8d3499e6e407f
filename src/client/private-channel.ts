import { EventEmitter } from 'node:events';
import { LIMITS, peerFrameSchema, type ByeReason, type PeerFrame } from '../protocol';
import { TokenBucket } from '../protocol/token-bucket';
import { FrameRejected, type ChannelCipher, type FrameFault } from './private-crypto';

/** Why a channel ended: a peer's word (`bye`), a lost connection, or a frame that had to be refused. */
export type PrivateCloseReason = ByeReason | 'replaced' | 'lost' | 'timeout' | 'flooded' | FrameFault;

/**
 * The little a channel needs of a Socket.IO socket, either end (the listener's server-side socket
 * or the dialler's client socket), so that one class serves both.
 */
export interface FrameSocket {
  send(frame: PeerFrame): void;
  onFrame(listener: (frame: unknown) => void): void;
  onDisconnect(listener: () => void): void;
  disconnect(): void;
}

/** How long a goodbye waits for the peer to hang up before this side does. */
const LINGER_MS = 1_000;

export interface ChannelEvents {
  /** Both sides proved they hold their keys; messages may flow. */
  open: [];
  message: [body: string, sentAt: number];
  /** Once, whatever the cause; `byPeer` when the peer said goodbye or went away. */
  close: [reason: PrivateCloseReason, byPeer: boolean];
}

/**
 * One encrypted conversation over one socket. Frame 0 each way is a key confirmation: until the
 * peer's arrives and opens with the derived key, nothing else is accepted. Any frame that is out of
 * order, fails authentication or does not parse ends the channel at once, without a reply.
 */
export class PrivateChannel extends EventEmitter<ChannelEvents> {
  private state: 'confirming' | 'open' | 'closed' = 'confirming';
  private timer: NodeJS.Timeout | undefined;
  /** The two halves of the key confirmation; the peer's may arrive before this side has sent its own. */
  private sentConfirm = false;
  private gotConfirm = false;
  private linger: NodeJS.Timeout | undefined;
  /** Every frame the peer sends costs a token: a peer that floods the chat (and the screen) is cut off. */
  private readonly incoming = new TokenBucket(LIMITS.privateFramesBurst, LIMITS.privateFramesPerSecond, performance.now());
  private markGone!: () => void;
  /** Resolves once the socket is closed, whoever closed it. */
  readonly gone = new Promise<void>((resolve) => (this.markGone = resolve));

  constructor(
    private readonly socket: FrameSocket,
    private readonly cipher: ChannelCipher,
    private readonly confirmTimeoutMs: number,
  ) {
    super();
    socket.onFrame((raw) => this.onFrame(raw));
    socket.onDisconnect(() => {
      clearTimeout(this.linger);
      this.markGone();
      this.finish('lost', true);
    });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Sends this side's key confirmation and waits (a while) for the peer's. */
  begin(): void {
    if (this.state !== 'confirming' || this.sentConfirm) return;
    this.sentConfirm = true;
    this.socket.send(this.cipher.seal({ t: 'confirm', v: 1 }));
    if (this.gotConfirm) return this.opened();
    this.timer = setTimeout(() => this.close('timeout', false), this.confirmTimeoutMs);
  }

  send(body: string, sentAt: number): void {
    if (this.state !== 'open') throw new Error('the private channel is not open');
    this.socket.send(this.cipher.seal({ t: 'msg', body, at: sentAt }));
  }

  /**
   * Ends the channel from this side. With `bye` the peer is told why (inside a sealed frame) and hangs
   * up itself: a Socket.IO server drops events that arrive together with a disconnect, so the side
   * saying goodbye only closes the socket if the peer has not done so within LINGER_MS.
   */
  close(reason: PrivateCloseReason, bye: boolean): void {
    if (this.state === 'closed') return;
    if (bye && isByeReason(reason)) {
      this.socket.send(this.cipher.seal({ t: 'bye', reason }));
      this.linger = setTimeout(() => this.hangUp(), LINGER_MS);
      this.finish(reason, false);
    } else {
      // Finished first: disconnecting reports a lost connection at once, and the cause must be the one told.
      this.finish(reason, false);
      this.hangUp();
    }
  }

  private onFrame(raw: unknown): void {
    if (this.state === 'closed') return;
    if (!this.incoming.take(performance.now())) return this.close('flooded', false);
    const frame = peerFrameSchema.safeParse(raw);
    if (!frame.success) return this.close('malformed', false);
    let plaintext;
    try {
      plaintext = this.cipher.open(frame.data);
    } catch (err) {
      return this.close(err instanceof FrameRejected ? err.fault : 'malformed', false);
    }
    if (this.state === 'confirming') {
      if (plaintext.t !== 'confirm' || this.gotConfirm) return this.close('malformed', false);
      this.gotConfirm = true;
      if (this.sentConfirm) this.opened();
      return;
    }
    switch (plaintext.t) {
      case 'msg':
        return void this.emit('message', plaintext.body, plaintext.at);
      case 'bye':
        this.finish(plaintext.reason, true);
        return this.hangUp();
      case 'confirm':
        return this.close('malformed', false);
    }
  }

  /** Closes the socket; a socket that never connected reports no disconnect, so `gone` is settled here too. */
  private hangUp(): void {
    clearTimeout(this.linger);
    this.socket.disconnect();
    this.markGone();
  }

  private opened(): void {
    clearTimeout(this.timer);
    this.state = 'open';
    this.emit('open');
  }

  private finish(reason: PrivateCloseReason, byPeer: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.timer);
    this.emit('close', reason, byPeer);
  }
}

function isByeReason(reason: PrivateCloseReason): reason is ByeReason {
  return reason === 'stopped' || reason === 'signed-out' || reason === 'blocked';
}
