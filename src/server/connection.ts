import type { Socket } from 'socket.io';
import type { ChatMessage, ClientToServerEvents, ServerToClientEvents } from '../protocol';
import { TokenBucket } from '../protocol/token-bucket';

export type ParleySocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** Every session of a user is in this Socket.IO room, so that a message to many is encoded once. */
export const userRoom = (username: string): string => `user:${username}`;

/** A session's peer listener for private chat: where peers connect and its X25519 key. Never stored. */
export interface PeerEndpoint {
  host: string;
  port: number;
  publicKey: string;
  registeredAt: number;
}

/** One client connection: a window, a terminal. Several may belong to one signed-in user. */
export class Connection {
  user: string | undefined;
  /**
   * Who this connection last signed in as, kept after the session ends: a client's last
   * acknowledgements arrive together with its disconnect, and must still count.
   */
  signedInAs: string | undefined;
  lastCommandAt: number;
  readonly bucket: TokenBucket;
  /** Sweeps in a row that found more than the limit waiting. */
  private backlogSweeps = 0;
  /** The session token this session holds (protocol 2): `logout` revokes it. */
  sessionToken: string | undefined;
  /** Set by the `peer` request; forgotten with the connection. */
  peer: PeerEndpoint | undefined;
  /** While stored messages are being replayed at sign-in, live ones wait here so that order holds. */
  private replayQueue: ChatMessage[] | undefined;

  constructor(
    readonly socket: ParleySocket,
    readonly address: string,
    /** The protocol version from the handshake. */
    readonly protocol: number,
    now: number,
    rate: { burst: number; perSecond: number },
  ) {
    this.lastCommandAt = now;
    this.bucket = new TokenBucket(rate.burst, rate.perSecond, now);
  }

  /**
   * Packets waiting in engine.io's write buffer for this client: a packet waits there while the transport
   * is busy writing, and a flush hands the whole buffer over. Read from engine.io's socket when the sweep
   * asks (it is not in its types), rather than counted through its events: two listener calls per packet
   * sent, for every client. test/server-durability.test.ts's slow reader fails if this stops counting.
   */
  get queuedPackets(): number {
    return (this.socket.conn as unknown as { writeBuffer: readonly unknown[] }).writeBuffer.length;
  }

  /**
   * True when over `max` packets have waited at two sweeps in a row: a burst (a replay hands thousands
   * at once to a busy transport) clears within one, a client that does not read does not.
   */
  backlogged(max: number): boolean {
    this.backlogSweeps = this.queuedPackets > max ? this.backlogSweeps + 1 : 0;
    return this.backlogSweeps >= 2;
  }

  /** While replaying, live messages must go through send() (which queues them), not straight to the socket. */
  get replaying(): boolean {
    return this.replayQueue !== undefined;
  }

  send(message: ChatMessage): void {
    if (this.replayQueue) this.replayQueue.push(message);
    else this.socket.emit('message', message);
  }

  beginReplay(): void {
    this.replayQueue = [];
  }

  /** Sends the stored messages, then whatever arrived meanwhile, each id once. */
  finishReplay(stored: ChatMessage[]): void {
    const queued = this.replayQueue ?? [];
    this.replayQueue = undefined;
    const sent = new Set<number>();
    for (const message of [...stored, ...queued]) {
      if (sent.has(message.id)) continue;
      sent.add(message.id);
      this.socket.emit('message', message);
    }
  }
}
