import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { LIMITS, PEER_REFUSALS } from '../protocol';
import { refuseForeignOrigins, type AllowRequest } from '../protocol/origin';
import type { FrameSocket } from './private-channel';
import { RefusalBudget } from './refusal-budget';

/** What the listener's owner says about a handshake: go on (with whatever it learned), or refuse with a code. */
export type Admission<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export interface PeerListenerHandlers<T> {
  /** Runs before the connection is accepted; a refusal goes back as the connect error's `data.code`. */
  admit(auth: unknown, address: string): Admission<T>;
  /** A connection that was admitted, with the value `admit` returned for it. */
  connected(socket: FrameSocket, value: T, address: string): void;
  /** A handshake refused before it was read: it came from a web page, or its address was refused too often. */
  turnedAway?(code: 'WEB_PAGE' | 'RATE_LIMITED', address: string): void;
}

/**
 * The Socket.IO server other clients dial to chat privately with this one: an ephemeral port,
 * WebSocket only, small packets, and nothing accepted before `admit` says yes. Web pages are turned
 * away, and so is an address whose handshakes were refused too often (RefusalBudget; `clock` drives it).
 */
export class PeerListener {
  private constructor(
    private readonly io: Server,
    readonly address: AddressInfo,
  ) {}

  static async start<T>(host: string, handlers: PeerListenerHandlers<T>, clock = () => performance.now()): Promise<PeerListener> {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const budget = new RefusalBudget(clock);
    const fromWebPage = refuseForeignOrigins([], () => PEER_REFUSALS.WEB_PAGE);
    const allowRequest: AllowRequest = (request, callback) => {
      const address = request.socket.remoteAddress ?? '';
      if (!budget.allows(address)) {
        handlers.turnedAway?.('RATE_LIMITED', address);
        return callback(PEER_REFUSALS.RATE_LIMITED, false);
      }
      fromWebPage(request, (message, ok) => {
        if (!ok) {
          budget.spend(address);
          handlers.turnedAway?.('WEB_PAGE', address);
        }
        callback(message, ok);
      });
    };
    const io = new Server(http, {
      allowRequest,
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
      const address = socket.handshake.address;
      // Checked here too: one connection may send handshake after handshake.
      if (!budget.allows(address)) {
        handlers.turnedAway?.('RATE_LIMITED', address);
        return next(refusal('RATE_LIMITED', PEER_REFUSALS.RATE_LIMITED));
      }
      const verdict = handlers.admit(socket.handshake.auth, address);
      if (verdict.ok) {
        admitted.set(socket, verdict.value);
        return next();
      }
      // A crossing is both users dialling at once, not a caller to slow down.
      if (verdict.code !== 'CROSSED') budget.spend(address);
      next(refusal(verdict.code, verdict.message));
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

/** A refused handshake: the dialler reads the code from its connect error's `data`. */
function refusal(code: string, message: string): Error {
  return Object.assign(new Error(message), { data: { code } });
}

function serverFrameSocket(socket: Socket): FrameSocket {
  return {
    send: (frame) => void socket.emit('frame', frame),
    onFrame: (listener) => void socket.on('frame', listener),
    onDisconnect: (listener) => void socket.on('disconnect', listener),
    disconnect: () => void socket.disconnect(true),
  };
}
