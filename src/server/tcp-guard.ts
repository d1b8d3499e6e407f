import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from './clock';
import { Counts } from './counts';
import type { Logger } from './log';
import { LogLimiter } from './log-limiter';
import type { RefusalReason, Tally } from './meter';

/**
 * TCP connections an address may hold beyond its connections limit: a client past that limit still
 * reaches the Engine.IO level, which tells it why it is refused, instead of having its connection cut.
 */
export const TCP_HEADROOM_PER_ADDRESS = 16;

export interface TcpLimits {
  /** Open TCP connections one address may hold; more are closed as they are accepted. */
  maxPerAddress: number;
  /** Open TCP connections across all addresses (below the process's limit on open files); undefined for none. */
  maxConnections: number | undefined;
  /** Time a new connection has to send its request's headers (for a Parley client, the WebSocket upgrade). */
  requestHeadersTimeoutMs: number;
}

/**
 * Guards TCP connections, the level below Engine.IO: one that never becomes an Engine.IO connection (idle,
 * trickling its headers, or asking for pages over keep-alive) still holds a file descriptor. Each counts
 * against its address from the moment it is accepted, before any byte of it is read; a trusted proxy's
 * address is exempt, or it would cap everyone behind it (Engine.IO counts them by their forwarded address).
 */
export class TcpGuard {
  private readonly perAddress = new Counts();
  private readonly warnings: LogLimiter;

  constructor(
    server: HttpServer,
    private readonly limits: TcpLimits,
    private readonly exempt: (address: string) => boolean,
    clock: Clock,
    log: Logger,
    private readonly refused: Tally<RefusalReason>,
  ) {
    this.warnings = new LogLimiter(log, clock);
    if (limits.maxConnections !== undefined) server.maxConnections = limits.maxConnections;
    server.on('drop', (dropped?: { remoteAddress?: string }) => {
      refused.add('tcp-total');
      this.warnings.warn('refused a connection: the server holds its most open connections', dropped?.remoteAddress ?? 'unknown', {
        max: limits.maxConnections,
      });
    });
    server.on('connection', (socket: Socket) => this.accepted(socket));

    // Node's own checks, read when the server starts listening (how often is missing from its types); the TLS
    // handshake is bounded in tls.ts.
    server.headersTimeout = server.requestTimeout = limits.requestHeadersTimeoutMs;
    Object.assign(server, { connectionsCheckingInterval: Math.min(1_000, limits.requestHeadersTimeoutMs) });
    // A Parley client's only HTTP request is its WebSocket upgrade: anything else (a 404, a refused polling
    // request) closes its connection once answered, so that no connection is kept alive asking for more.
    server.prependListener('request', (req, res) => {
      res.setHeader('connection', 'close');
      res.once('finish', () => req.socket.destroy());
    });
  }

  /** Tells how many refusals the log held back since the last sweep. */
  sweep(now: number): void {
    this.warnings.flush(now);
  }

  private accepted(socket: Socket): void {
    const address = socket.remoteAddress;
    if (address === undefined) return void socket.destroy(); // already gone
    if (this.exempt(address)) return;
    const open = this.perAddress.add(address);
    socket.once('close', () => this.perAddress.release(address));
    if (open > this.limits.maxPerAddress) {
      this.refused.add('tcp-per-address');
      this.warnings.warn('refused a connection: its address holds its most open connections', address, { max: this.limits.maxPerAddress });
      socket.destroy();
    }
  }
}
