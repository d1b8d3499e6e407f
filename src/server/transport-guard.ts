import type { Server } from 'socket.io';
import type { Clock } from './clock';
import { Counts } from './counts';
import type { ParleySocket } from './connection';
import type { RefusalReason, Tally } from './meter';

type Transport = ParleySocket['conn'];

export function tooManyConnections(address: string, max: number): string {
  return `Too many connections from ${address} (at most ${max}); close some and try again.`;
}

/**
 * Guards Engine.IO connections, the level below Socket.IO: one that never sends Socket.IO's CONNECT
 * still holds memory and a socket. Each counts against its address's limit from the moment it opens,
 * and each must sign in within `signInDeadlineMs` of opening, whatever the idle timeout.
 */
export class TransportGuard {
  private readonly perAddress = new Counts();
  /** Connections not signed in yet, in the order they opened; `socket` once Socket.IO's CONNECT came. */
  private readonly unsigned = new Map<Transport, { openedAt: number; socket?: ParleySocket }>();

  constructor(
    io: Server,
    private readonly limits: { maxPerAddress: number; signInDeadlineMs: number },
    private readonly clock: Clock,
    /** The client's address (behind a trusted proxy, the one it forwards; see client-address.ts). */
    private readonly addressOf: (transport: Transport) => string,
    private readonly refused: Tally<RefusalReason>,
  ) {
    io.engine.on('connection', (transport: Transport) => this.opened(transport));
  }

  private opened(transport: Transport): void {
    const address = this.addressOf(transport);
    const open = this.perAddress.add(address);
    transport.once('close', () => {
      this.unsigned.delete(transport);
      this.perAddress.release(address);
    });
    if (open > this.limits.maxPerAddress) {
      this.refused.add('per-address');
      return close(transport, { message: tooManyConnections(address, this.limits.maxPerAddress), data: { code: 'RATE_LIMITED' } });
    }
    this.unsigned.set(transport, { openedAt: this.clock() });
  }

  /** A Socket.IO connection on the transport: the deadline's reason goes to it as an event from now on. */
  joined(socket: ParleySocket): void {
    const entry = this.unsigned.get(socket.conn);
    if (entry) entry.socket = socket;
  }

  signedIn(socket: ParleySocket): void {
    this.unsigned.delete(socket.conn);
  }

  /** Closes the connections that have not signed in within the deadline (a client reconnects by itself). */
  sweep(now: number): void {
    const seconds = Math.round(this.limits.signInDeadlineMs / 1000);
    const message = `No sign-in within ${seconds} second${seconds === 1 ? '' : 's'} of connecting; the server closed this connection.`;
    for (const [transport, { openedAt, socket }] of this.unsigned) {
      if (now - openedAt < this.limits.signInDeadlineMs) break; // the rest opened later
      this.unsigned.delete(transport);
      if (socket) {
        socket.emit('protocolError', { code: 'NOT_SIGNED_IN', message });
        transport.close();
      } else close(transport, { message, data: { code: 'NOT_SIGNED_IN' } });
    }
  }
}

/**
 * Closes a transport that has no Socket.IO connection yet, answering the CONNECT it has not sent with a
 * Socket.IO CONNECT_ERROR packet (type 4, default namespace): clients see it as a `connect_error` with
 * this `message` and `data`, as if a handshake middleware had refused them.
 */
function close(transport: Transport, refusal: { message: string; data: { code: string } }): void {
  transport.write(`4${JSON.stringify(refusal)}`);
  transport.close();
}
