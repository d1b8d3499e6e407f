import type { Socket as TcpSocket } from 'node:net';
import type { Socket } from 'socket.io';

/** engine.io's side of a Socket.IO connection (socket.io depends on engine.io; Parley does not import it). */
type EngineSocket = Socket['conn'];

/**
 * Gathers what the server sends each client during one turn of the event loop into one write: one
 * system call and one TCP segment per client per turn, where engine.io alone makes one per packet.
 * Under load a turn settles a whole commit of stored messages, so a client gets several deliveries
 * and replies in it (the figures are in docs/performance.md).
 *
 * engine.io sends a packet at once when its transport is writable, and buffers it while a write is in
 * progress. At a connection's first packet in a turn the transport is marked busy, so the rest buffer
 * as they would behind a write; at the end of the turn (setImmediate) it is marked writable again and
 * says so ('ready', as a transport does when a write completes), and engine.io flushes the buffer with
 * the TCP socket corked, so that its one write per packet leaves as one.
 */
export class WriteCoalescer {
  private readonly held = new Set<EngineSocket>();
  private immediate: NodeJS.Immediate | undefined;

  /**
   * One listener shared by every connection; EventEmitter calls it with the connection as `this`. (A
   * closure per connection cost about 0.8 KiB of heap per client in the bench.)
   */
  private readonly onPacket: (this: EngineSocket) => void;

  constructor() {
    const hold = (engine: EngineSocket): void => this.hold(engine);
    this.onPacket = function (this: EngineSocket) {
      hold(this);
    };
  }

  /**
   * Coalesces `engine`'s writes from now on, for as long as it lives, if it connected over WebSocket (the
   * only transport the server serves; a polling connection's request socket is not the one it writes to).
   */
  attach(engine: EngineSocket): void {
    // 'packetCreate' comes before engine.io buffers the packet and tries to flush it.
    if (engine.transport.name === 'websocket') engine.on('packetCreate', this.onPacket);
  }

  private hold(engine: EngineSocket): void {
    const transport = engine.transport;
    // Not writable: a write is in progress, and engine.io buffers until it completes.
    if (!transport.writable) return;
    transport.writable = false;
    this.held.add(engine);
    this.immediate ??= setImmediate(() => this.flushNow());
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
    for (const engine of held) release(engine);
  }
}

function release(engine: EngineSocket): void {
  if (engine.readyState === 'closed') return;
  const transport = engine.transport;
  const tcp: TcpSocket = engine.request.socket;
  transport.writable = true;
  tcp.cork();
  try {
    transport.emit('ready');
  } finally {
    tcp.uncork();
  }
}
