import { io, type Socket } from 'socket.io-client';
import { PEER_REFUSALS, PRIVATE_PROTOCOL, type PeerHandshake, type PeerRefusal } from '../protocol';
import { PrivateChatError } from './private-api';
import type { FrameSocket } from './private-channel';

/** Whom to dial, as the message center's `startprivate` reply says. */
export interface DialTarget {
  username: string;
  host: string;
  port: number;
  ticket: string;
}

/**
 * Dials a peer's listener, presenting the ticket and this session's public key. The socket can be
 * listened to at once (the peer's key confirmation may follow its accept immediately); `connected`
 * settles with the handshake: a refusal carries the peer's reason, any other failure means the peer
 * cannot be reached from here, and the error says so and offers the message center instead.
 */
export function dialPeer(target: DialTarget, publicKey: string, timeoutMs: number): { socket: FrameSocket; connected: Promise<void> } {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const auth: PeerHandshake = { protocol: PRIVATE_PROTOCOL, ticket: target.ticket, publicKey };
  const socket: Socket = io(`http://${host}:${target.port}`, {
    forceNew: true,
    reconnection: false,
    transports: ['websocket'],
    timeout: timeoutMs,
    auth,
  });
  let abandon: (() => void) | undefined;
  const connected = new Promise<void>((resolve, reject) => {
    // A socket closed before it connects reports nothing more: settle here, or the dial would wait forever.
    abandon = () => reject(new PrivateChatError('CLOSED', `The connection to ${target.username} was closed before it was made.`));
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err: Error & { data?: { code?: unknown } }) => {
      socket.disconnect();
      const code = typeof err.data?.code === 'string' ? err.data.code : undefined;
      if (code && Object.hasOwn(PEER_REFUSALS, code)) {
        const why = PEER_REFUSALS[code as PeerRefusal];
        return reject(new PrivateChatError('PEER_REFUSED', `${target.username}'s client refused the connection: ${why}.`, code));
      }
      const why = err.message === 'timeout' ? 'no answer in time' : err.message;
      reject(
        new PrivateChatError(
          'PEER_UNREACHABLE',
          `Cannot reach ${target.username} directly at ${host}:${target.port} (${why}). ` +
            `Nothing was sent; "message ${target.username} <text>" sends through the server instead.`,
        ),
      );
    });
  });
  return {
    socket: {
      send: (frame) => void socket.emit('frame', frame),
      onFrame: (listener) => void socket.on('frame', listener),
      onDisconnect: (listener) => void socket.on('disconnect', listener),
      disconnect: () => {
        socket.disconnect();
        abandon?.();
      },
    },
    connected,
  };
}
