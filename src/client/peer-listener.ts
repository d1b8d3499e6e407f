import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { LIMITS } from '../protocol';
import type { FrameSocket } from './private-channel';

/** What the listener's owner says about a handshake: go on (with whatever it learned), or refuse with a code. */
export type Admission<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export interface PeerListenerHandlers<T> {
  /** Runs before the connection is accepted; a refusal goes back as the connect error's `data.code`. */
  admit(auth: unknown, address: string): Admission<T>;
  /** A connection that was admitted, with the value `admit` returned for it. */
  connected(socket: FrameSocket, value: T, address: string): void;
}

/**
 * The Socket.IO server other clients dial to chat privately with this one: an ephemeral port,
 * WebSocket only, small packets, and nothing accepted before `admit` says yes.
 */
export class PeerListener {
  private constructor(
    private readonly io: Server,
    readonly address: AddressInfo,
  ) {}

  static async start<T>(host: string, handlers: PeerListenerHandlers<T>): Promise<PeerListener> {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const io = new Server(http, {
      transports: ['websocket'],
      serveClient: false,
      cors: { origin: false },
      maxHttpBufferSize: LIMITS.packetBytesMax,
      pingInterval: 10_000,
      pingTimeout: 10_000,
      connectTimeout: 5_000,
    });
    const admitted = new WeakMap<Socket, T>();
    io.use((socket, next) => {
      const verdict = handlers.admit(socket.handshake.auth, socket.handshake.address);
      if (verdict.ok) {
        admitted.set(socket, verdict.value);
        return next();
      }
      const err = new Error(verdict.message) as Error & { data?: unknown };
      err.data = { code: verdict.code };
      next(err);
    });
    io.on('connection', (socket) => {
      const value = admitted.get(socket);
      if (value === undefined) return void socket.disconnect(true);
      handlers.connected(serverFrameSocket(socket), value, socket.handshake.address);
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    return new PeerListener(io, http.address() as AddressInfo);
  }

  get port(): number {
    return this.address.port;
  }

  /** Stops listening and drops every connection still open. */
  close(): Promise<void> {
    return new Promise((resolve) => this.io.close(() => resolve()));
  }
}

function serverFrameSocket(socket: Socket): FrameSocket {
  return {
    send: (frame) => void socket.emit('frame', frame),
    onFrame: (listener) => void socket.on('frame', listener),
    onDisconnect: (listener) => void socket.on('disconnect', listener),
    disconnect: () => void socket.disconnect(true),
  };
}
