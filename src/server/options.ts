import { availableParallelism } from 'node:os';
import type { ServerOptions as EngineOptions } from 'socket.io';
import { LIMITS } from '../protocol';
import type { Clock } from './clock';
import type { LockoutCountsFactory } from './lockout-counts';
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
  /**
   * Cluster mode: this server is one node of several sharing the PostgreSQL database at `url` (docs/scaling.md).
   * Everything is stored there (no data directory); `heartbeatMs` is how often the node says it is alive (10 s).
   */
  cluster?: { url: string; heartbeatMs?: number };
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
  /** `message`, `broadcast` and `post` requests one user may make, across all their sessions. Default: `rateLimit`'s. */
  sendRate?: { burst: number; perSecond: number };
  /** Channel changes (`topic`, `join`, `leave`, `renamechannel`, `invite`, `kick`) one user may make. Default: LIMITS.channelChange*. */
  channelChangeRate?: { burst: number; perSecond: number };
  /** Messages one sender may have waiting (unacknowledged) for one recipient; more are QUEUE_FULL. Default 1 000. */
  maxPendingPerSender?: number;
  /** Open connections one address may hold; more are refused with RATE_LIMITED. Default 256 (an office behind one NAT fits). */
  maxConnectionsPerAddress?: number;
  /**
   * Open TCP connections the server holds at once, from all addresses; more are closed as they are accepted.
   * Default: below the process's limit on open files (`ulimit -n`, see open-file-limit.ts), none where it has none.
   */
  maxConnections?: number;
  /** Bounds on password checks before sign-in (see SignInLimits); each field defaults on its own. */
  signInLimits?: Partial<SignInLimits>;
  /**
   * Where the lockout counts failed passwords: nodes of a cluster share theirs (cluster/pg-lockouts.ts), so that
   * `maxLoginFailures` holds across them. Default: this process's memory.
   */
  lockouts?: LockoutCountsFactory;
  /**
   * Web origins (`https://chat.example.org`) whose pages may connect. Handshakes with any other `Origin` header are
   * refused: otherwise any page the user visits could reach a server on their loopback. Node clients send none.
   */
  allowedOrigins?: readonly string[];
  /** Prometheus metrics (metrics.ts) on a port of their own, loopback unless `host` says otherwise. None when absent. */
  metrics?: { port: number; host?: string };
  /** Messages older than this many days are deleted (retention.ts); kept forever when absent. */
  retainDays?: number;
  scryptCost?: ScryptCost;
  clock?: Clock;
  log?: Logger;
}

export interface Timings {
  /** The original's BLOCK_TIME: how long a username is locked out after 3 wrong passwords. */
  blockMs: number;
  maxLoginFailures: number;
  /**
   * The original's TIME_OUT: a session with no activity for this long is signed out; 0 never signs anyone out
   * (a connection that has not signed in still has `signInDeadlineMs`).
   */
  idleTimeoutMs: number;
  /** How often idle sessions and expired lockouts are looked for. */
  sweepIntervalMs: number;
  /** Socket.IO heartbeat: a ping every interval; no pong within the timeout means the client is gone. */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** How long a private-chat ticket may be presented to the peer after it is issued. */
  ticketTtlMs: number;
  /** A session token stops working after this long without being used (each token sign-in starts it again). */
  sessionTokenTtlMs: number;
  /** Presence changes are gathered for this long and sent together (see presence-feed.ts). */
  presenceBatchMs: number;
  /**
   * A connection with more bytes than this waiting to be written at two sweeps in a row (a client that
   * reads slower than it is sent to) is closed: its memory is bounded, and nothing is lost, since what it
   * was not sent stays pending until it signs in again and acknowledges it. Keep it above a replay page
   * (REPLAY_PAGE_BYTES and one message, see replay.ts), or a sign-in to a slow link could trip it.
   */
  maxQueuedBytes: number;
  /** A connection (even one that never sent Socket.IO's CONNECT) not signed in this long after it opened is closed. */
  signInDeadlineMs: number;
  /**
   * A TCP connection that has not sent its HTTP request's headers (a Parley client's WebSocket upgrade) this long
   * after it was accepted is closed, and so is one still in its TLS handshake.
   */
  requestHeadersTimeoutMs: number;
}

/**
 * Password checks cost 128 MiB and most of a core each at the default scrypt cost: these bound how many run,
 * wait and may be asked for, so that a flood of sign-ins cannot exhaust the server or starve real users.
 */
export interface SignInLimits {
  /** Password checks running at once across the server. */
  concurrentChecks: number;
  /** Checks that may wait for a free slot; a sign-in beyond them is refused with RATE_LIMITED. */
  queuedChecks: number;
  /** Places (running or waiting) one address may hold, so that one address cannot fill the queue. */
  checksPerAddress: number;
  /** How long a sign-in may wait for a check before it is refused as busy: under the client's request timeout. */
  checkWaitMs: number;
  /** Password sign-in attempts one address may make across all usernames: `burst` at once, then `perSecond`. */
  burst: number;
  perSecond: number;
  /**
   * Sign-ins with a session token one address may make: a bucket of its own, larger, since a token costs a
   * SHA-256 rather than a password check and cannot be guessed, and every window behind one NAT comes back
   * at once after a restart. Default: as many as the connections an address may hold, then 10 per second.
   */
  tokenBurst: number;
  tokenPerSecond: number;
  /**
   * Wrong passwords one address may have checked across all usernames: `failureBurst`, then one more every
   * `failureEverySeconds`. Guesses spread over random usernames escape the per-username lockout; this keeps
   * what they cost the server near nothing while a whole office behind one address can still mistype.
   */
  failureBurst: number;
  failureEverySeconds: number;
  /** Attempts that may wait for the in-flight checks of one username and address ([6.3] of the protocol). */
  waitingPerUser: number;
}

export const DEFAULT_TIMINGS: Timings = {
  blockMs: 60_000,
  maxLoginFailures: 3,
  idleTimeoutMs: 30 * 60_000,
  sweepIntervalMs: 5_000,
  heartbeatIntervalMs: 10_000,
  heartbeatTimeoutMs: 10_000,
  ticketTtlMs: 60_000,
  sessionTokenTtlMs: 30 * 24 * 60 * 60_000,
  presenceBatchMs: 100,
  maxQueuedBytes: 4 * 1024 * 1024,
  signInDeadlineMs: 30_000,
  requestHeadersTimeoutMs: 10_000,
};

export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  concurrentChecks: Math.min(4, availableParallelism()),
  queuedChecks: 32,
  checksPerAddress: 8,
  checkWaitMs: 5_000,
  burst: 10,
  perSecond: 1,
  tokenBurst: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  tokenPerSecond: 10,
  failureBurst: 10,
  failureEverySeconds: 10,
  waitingPerUser: 8,
};

export const DEFAULT_RATE_LIMIT = { burst: 30, perSecond: 10 };

/**
 * A recipient's queue is bounded per sender rather than as a whole: a whole-queue cap would let one sender
 * fill it and shut out everyone else's messages. A thousand is days of a busy conversation.
 */
export const DEFAULT_MAX_PENDING_PER_SENDER = 1_000;

/** Socket.IO's settings for the message center (the bench's bare baseline uses them too, so that only the application differs). */
export function engineOptions(timings: Pick<Timings, 'heartbeatIntervalMs' | 'heartbeatTimeoutMs'>): Partial<EngineOptions> {
  return {
    maxHttpBufferSize: LIMITS.packetBytesMax,
    pingInterval: timings.heartbeatIntervalMs,
    pingTimeout: timings.heartbeatTimeoutMs,
    serveClient: false,
    cors: { origin: false },
    // Both reference clients use only WebSocket, whose handshake a browser always sends with an Origin: a
    // polling request can come from a web page's <img> without one, and would hold a place of its address.
    transports: ['websocket'],
  };
}
