import type { Socket } from 'socket.io';
import type { ChatMessage, ClientToServerEvents, MessageKind, ServerToClientEvents } from '../protocol';
import { TokenBucket } from '../protocol/token-bucket';
import type { Tally } from './meter';
import { Replay } from './replay';

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
  /** This session said its user is away from it (request `status`, protocol 3); see idle-status.ts. */
  idle = false;
  /** Set by the `peer` request; forgotten with the connection. */
  peer: PeerEndpoint | undefined;
  /** While stored messages are being replayed at sign-in, live ones wait in it so that order holds. */
  private replay: Replay | undefined;

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
   * Bytes waiting to be written to this client, as characters of encoded packets (what they hold in
   * memory): in engine.io's write buffer, where a packet waits while the transport is busy writing, and in
   * the WebSocket's, which a client that does not read fills first. Read when the sweep asks (neither is in
   * engine.io's types), rather than counted through events: two listener calls per packet sent, for every
   * client. test/server-durability.test.ts's slow reader fails if this stops counting.
   */
  get queuedBytes(): number {
    const engine = this.socket.conn as unknown as EngineInternals;
    const buffered = engine.transport.socket?.bufferedAmount;
    let bytes = typeof buffered === 'number' ? buffered : 0;
    for (const packet of engine.writeBuffer) bytes += sizeOf(packet.data);
    return bytes;
  }

  /**
   * True when over `max` bytes have waited at two sweeps in a row: a burst clears within one, a client
   * that does not read does not.
   */
  backlogged(max: number): boolean {
    this.backlogSweeps = this.queuedBytes > max ? this.backlogSweeps + 1 : 0;
    return this.backlogSweeps >= 2;
  }

  /**
   * Resolves once nothing waits to be written to this client (or it has closed): the transport has
   * finished its writes and engine.io's buffer is empty. The replay's pace: a page at a time.
   */
  drained(): Promise<void> {
    const engine = this.socket.conn;
    const internals = engine as unknown as EngineInternals;
    return new Promise((resolve) => {
      let transport = engine.transport;
      // On 'ready', engine.io's own listener runs first and hands the transport whatever was waiting.
      const check = (): void => {
        if (engine.readyState !== 'closed' && !(transport.writable && internals.writeBuffer.length === 0)) return;
        transport.off('ready', check);
        engine.off('upgrade', moved);
        engine.off('close', check);
        resolve();
      };
      const moved = (): void => {
        transport.off('ready', check);
        transport = engine.transport;
        transport.on('ready', check);
        check();
      };
      transport.on('ready', check);
      engine.on('upgrade', moved);
      engine.on('close', check);
      check();
    });
  }

  /** While replaying, live messages must go through send() (which holds them), not straight to the socket. */
  get replaying(): boolean {
    return this.replay !== undefined;
  }

  send(message: ChatMessage): void {
    if (this.replay) this.replay.hold(message);
    else this.socket.emit('message', message);
  }

  /** Live messages are held from now until the replay returned ends (see finishReplay); what it sends counts in `delivered`. */
  beginReplay(user: string, delivered: Tally<MessageKind>): Replay {
    return (this.replay = new Replay(user, (message) => {
      this.socket.emit('message', message);
      delivered.add(message.kind);
    }));
  }

  /** Messages this session's replay holds: read from the store and not sent yet, or live ones held until it ends. */
  get replayBacklog(): number {
    return this.replay?.backlog ?? 0;
  }

  /** Whether `replay` is still this connection's (not ended, nor replaced by a later sign-in). */
  replayingWith(replay: Replay): boolean {
    return this.replay === replay;
  }

  /** Sends what `replay` still holds; live messages go straight out from now on. */
  finishReplay(replay: Replay): void {
    if (this.replay !== replay) return;
    this.replay = undefined;
    replay.end();
  }
}

/** The parts of engine.io's socket that its types leave out. */
interface EngineInternals {
  writeBuffer: readonly { data?: unknown }[];
  transport: { writable: boolean; socket?: { bufferedAmount?: unknown } };
}

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
