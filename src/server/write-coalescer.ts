import type { Socket as TcpSocket } from 'node:net';
import type { Socket } from 'socket.io';

/** engine.io's side of a Socket.IO connection (socket.io depends on engine.io; Parley does not import it). */
type EngineSocket = Socket['conn'];
type Transport = EngineSocket['transport'];

/**
 * Gathers what the server sends each client during one turn of the event loop into one write: one
 * system call and one TCP segment per client per turn, where engine.io alone makes one per packet.
 * Under load a turn settles a whole commit of stored messages, so a client gets several deliveries
 * and replies in it (docs/performance.md, change 10: fan-out rose by half).
 *
 * engine.io sends a packet at once when its transport is writable, and buffers it while a write is in
 * progress. At a connection's first packet in a turn the transport is marked busy, so the rest buffer
 * as they would behind a write; at the end of the turn (setImmediate) it is marked writable again and
 * says so ('ready', as a transport does when a write completes), and engine.io flushes the buffer with
 * the TCP socket corked, so that its one write per packet leaves as one.
 *
 * Only WebSocket connections are held (Parley's clients use nothing else); a polling one is left alone.
 */
export class WriteCoalescer {
  private readonly held = new Set<Held>();
  private immediate: NodeJS.Immediate | undefined;

  /** Coalesces `engine`'s writes from now on, for as long as it lives. */
  attach(engine: EngineSocket): void {
    const transport = engine.transport;
    const tcp = engine.request.socket;
    if (transport.name !== 'websocket') return;
    const entry: Held = { engine, transport, tcp };
    // 'packetCreate' comes before engine.io buffers the packet and tries to flush it.
    const onPacket = (): void => {
      if (!transport.writable) return; // a write is in progress: engine.io buffers until it completes
      transport.writable = false;
      this.held.add(entry);
      this.immediate ??= setImmediate(() => this.flushNow());
    };
    engine.on('packetCreate', onPacket);
    engine.once('close', () => {
      engine.off('packetCreate', onPacket);
      this.held.delete(entry);
    });
  }

  /**
   * Sends whatever is held now. engine.io's server close drops what a socket has not written yet, so the
   * server calls this before it, after its last words to each client.
   */
  flushNow(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    const held = [...this.held];
    this.held.clear();
    for (const entry of held) release(entry);
  }
}

interface Held {
  engine: EngineSocket;
  transport: Transport;
  tcp: TcpSocket;
}

function release({ engine, transport, tcp }: Held): void {
  if (engine.transport !== transport || engine.readyState === 'closed') return;
  transport.writable = true;
  tcp.cork();
  try {
    transport.emit('ready');
  } finally {
    tcp.uncork();
  }
}
