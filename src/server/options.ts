import type { ServerOptions as EngineOptions } from 'socket.io';
import { LIMITS } from '../protocol';
import type { Clock } from './clock';
import type { Logger } from './log';
import type { ScryptCost } from './passwords';
import type { Store } from './store/store';
import type { TlsFiles } from './tls';

export interface ServerOptions {
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1: the network is an opt-in. */
  host?: string;
  /** Where the embedded database lives. Required unless `store` is given. */
  dataDir?: string;
  /** A store to use instead of the embedded SQLite one (e.g. Postgres for several nodes). */
  store?: Store;
  /** A `username password` file whose users are added at start (existing users are left alone). */
  credentialsFile?: string;
  /** Serve https/wss with this certificate and key, reloaded when the files change. Default: plain http. */
  tls?: TlsFiles;
  /** Reverse proxies (IP addresses) whose X-Forwarded-For names the client: see client-address.ts. Default none. */
  trustProxy?: string[];
  /** Refuse a second session of a user who is already signed in (the original's behaviour). */
  singleSession?: boolean;
  timings?: Partial<Timings>;
  rateLimit?: { burst: number; perSecond: number };
  /** Open connections one address may hold; more are refused with RATE_LIMITED. Default 256 (an office behind one NAT fits). */
  maxConnectionsPerAddress?: number;
  scryptCost?: ScryptCost;
  clock?: Clock;
  log?: Logger;
}

export interface Timings {
  /** The original's BLOCK_TIME: how long a username is locked out after 3 wrong passwords. */
  blockMs: number;
  maxLoginFailures: number;
  /** The original's TIME_OUT: a session with no command for this long is signed out. */
  idleTimeoutMs: number;
  /** How often idle sessions and expired lockouts are looked for. */
  sweepIntervalMs: number;
  /** Socket.IO heartbeat: a ping every interval; no pong within the timeout means the client is gone. */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** How long a private-chat ticket may be presented to the peer after it is issued. */
  ticketTtlMs: number;
  /** Presence changes are gathered for this long and sent together (see presence-feed.ts). */
  presenceBatchMs: number;
  /**
   * A connection with more packets than this waiting to be written at two sweeps in a row (a client that
   * reads slower than it is sent to) is closed: its memory is bounded, and nothing is lost, since what it
   * was not sent stays pending until it signs in again and acknowledges it.
   */
  maxQueuedPackets: number;
}

export const DEFAULT_TIMINGS: Timings = {
  blockMs: 60_000,
  maxLoginFailures: 3,
  idleTimeoutMs: 30 * 60_000,
  sweepIntervalMs: 5_000,
  heartbeatIntervalMs: 10_000,
  heartbeatTimeoutMs: 10_000,
  ticketTtlMs: 60_000,
  presenceBatchMs: 100,
  maxQueuedPackets: 5_000,
};

export const DEFAULT_RATE_LIMIT = { burst: 30, perSecond: 10 };

export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;

/** Socket.IO's settings for the message center (the bench's bare baseline uses them too, so that only the application differs). */
export function engineOptions(timings: Pick<Timings, 'heartbeatIntervalMs' | 'heartbeatTimeoutMs'>): Partial<EngineOptions> {
  return {
    maxHttpBufferSize: LIMITS.packetBytesMax,
    pingInterval: timings.heartbeatIntervalMs,
    pingTimeout: timings.heartbeatTimeoutMs,
    serveClient: false,
    cors: { origin: false },
  };
}
