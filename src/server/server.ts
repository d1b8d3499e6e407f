import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { Server } from 'socket.io';
import type { ZodError } from 'zod';
import {
  PROTOCOL_VERSION,
  REQUEST_SINCE,
  SUPPORTED_PROTOCOL_VERSIONS,
  describeIssues,
  failure,
  isRequestName,
  requestSchemas,
  type ClientToServerEvents,
  type ErrorCode,
  type HandshakeAuth,
  type Reply,
  type RequestName,
  type ServerToClientEvents,
} from '../protocol';
import { refuseForeignOrigins } from '../protocol/origin';
import { Accounts, importProgressLine } from './accounts';
import { Blocks } from './blocks';
import { catchingUp } from './cluster/catch-up';
import { ChannelService } from './channel-service';
import { Channels } from './channels';
import { ChatService, type Handler } from './chat-service';
import { ClientAddresses, isLoopback } from './client-address';
import { healthProbes } from './health';
import { systemClock } from './clock';
import { Connection, type ParleySocket } from './connection';
import { Counts } from './counts';
import { HashLimiter, hashLimitsOf } from './hash-limiter';
import { KeyedRate } from './keyed-rate';
import { streamLogger, type Logger } from './log';
import { Meter } from './meter';
import {
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_PENDING_PER_SENDER,
  DEFAULT_RATE_LIMIT,
  DEFAULT_SIGN_IN_LIMITS,
  DEFAULT_TIMINGS,
  engineOptions,
  type ServerOptions,
} from './options';
import { defaultMaxConnections } from './open-file-limit';
import { DEFAULT_SCRYPT_COST } from './passwords';
import { Presence } from './presence';
import { PresenceFeed } from './presence-feed';
import { isActivity } from './idle-status';
import { Request } from './request';
import { checkRetainDays, Retention } from './retention';
import { RequestQueue } from './request-queue';
import { SignInGate } from './sign-in-gate';
import type { Store } from './store/store';
import { openWorkerStore } from './store/worker-store';
import { TicketIssuer } from './tickets';
import { createTlsServer } from './tls';
import { TransportGuard, tooManyConnections } from './transport-guard';
import { TCP_HEADROOM_PER_ADDRESS, TcpGuard } from './tcp-guard';
import { WriteCoalescer } from './write-coalescer';
import { errorDetail } from '../protocol/errors';

export interface ParleyServer {
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /** The URLs a client can use, e.g. http://127.0.0.1:4000 (every interface's address when bound to all). */
  urls(): string[];
  /** Tells every client, disconnects them and flushes storage. Safe to call twice. */
  close(): Promise<void>;
  /** Where Prometheus scrapes the metrics once listening (`ServerOptions.metrics`); undefined without them. */
  metricsUrl(): string | undefined;
  readonly accounts: Accounts;
  /** Whether the user has a session on this server (in a cluster: on any node, as this one knows). */
  isOnline(username: string): boolean;
  /** Resolves once this server has applied every change other nodes of its cluster announced before the call (at once alone). */
  caughtUp(): Promise<void>;
  readonly store: Store;
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
}

/** Creates a message center. Nothing listens until `listen()`; the extension and the CLI both start here. */
export async function createParleyServer(options: ServerOptions): Promise<ParleyServer> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? streamLogger();
  const timings = { ...DEFAULT_TIMINGS, ...options.timings };
  const rate = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const meter = new Meter();
  const refuseOrigins = refuseForeignOrigins(options.allowedOrigins ?? [], originRefusal); // throws before anything is opened
  const allowRequest: typeof refuseOrigins = (req, callback) =>
    refuseOrigins(req, (message, success) => {
      if (!success) meter.refused.add('origin');
      callback(message, success);
    });
  const addresses = new ClientAddresses(options.trustProxy);
  // Loaded only when asked for, so that prom-client stays out of the editor's local server (see scripts/bundle-options.mjs).
  const metricsModule = options.metrics && (await import('./metrics'));
  let closing: Promise<void> | undefined;
  // Asked only once the server listens, after the store has opened.
  const probes = healthProbes(() => (closing ? { ok: false, reason: 'the server is shutting down' } : store.health()), notFound);
  if (options.retainDays !== undefined) checkRetainDays(options.retainDays);
  // Before the store opens, so that a certificate that does not load stops the start with nothing to undo.
  const tls = options.tls && createTlsServer(options.tls, log, probes, timings.requestHeadersTimeoutMs);
  let store: Store;
  try {
    store = options.store ?? (await openStoreFor(options, log));
  } catch (err) {
    tls?.stop();
    throw err;
  }
  const signInLimits = { ...DEFAULT_SIGN_IN_LIMITS, ...options.signInLimits };
  // One bound on password hashing for the whole server: sign-ins' checks and imported accounts take turns in it.
  const hashes = new HashLimiter(hashLimitsOf(signInLimits));
  let accounts: Accounts;
  /** Added from the credentials file before the node joined its cluster: the other nodes are told once it has. */
  let imported: string[] = [];
  try {
    accounts = await Accounts.open(store, options.scryptCost ?? DEFAULT_SCRYPT_COST, clock, hashes);
    if (options.credentialsFile) {
      const report = await accounts.importCredentials(await readFile(options.credentialsFile, 'utf8'), {
        progress: (done, total) => log.info(importProgressLine(done, total)),
      });
      log.info('credentials imported', { added: report.added.length, existing: report.existing.length });
      imported = report.added;
      for (const r of report.rejected) log.warn('credentials line skipped', r);
    }
  } catch (err) {
    tls?.stop();
    await store.close();
    throw err;
  }

  const userList = await store.listUsers();
  const presence = new Presence<Connection>(
    userList.flatMap((u) => (u.lastSeen === null ? [] : [[u.username, u.lastSeen] as [string, number]])),
  );
  const blocks = new Blocks(await store.listBlocks());
  const channels = new Channels(await store.listChannels(), accounts);
  const http: HttpServer = tls ? tls.server : createServer(probes);
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, {
    ...engineOptions(timings),
    allowRequest,
  });
  const maxPerAddress = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
  // After Socket.IO has taken over the server's requests, so that the guard sees each of them first.
  const tcp = new TcpGuard(
    http,
    {
      maxPerAddress: maxPerAddress + TCP_HEADROOM_PER_ADDRESS,
      maxConnections: options.maxConnections ?? defaultMaxConnections(),
      requestHeadersTimeoutMs: timings.requestHeadersTimeoutMs,
    },
    (address) => addresses.isTrusted(address),
    clock,
    log,
    meter.refused,
  );
  // First of the checks: from here on, handshake.address is the client's own (see client-address.ts), for every check and for the session.
  io.use((socket, next) => {
    socket.handshake.address = addresses.resolve(socket.handshake.address, socket.handshake.headers['x-forwarded-for']);
    next();
  });

  const tickets = new TicketIssuer(clock, timings.ticketTtlMs);
  // Loaded only in cluster mode, so that pg stays out of the editor's local server (see scripts/bundle-options.mjs).
  const cluster =
    options.cluster && new (await import('./cluster/pg-cluster')).PgCluster({ ...options.cluster, ticketKey: tickets.publicKey, log });
  const lockouts = options.lockouts ?? cluster?.lockouts();
  const gate = new SignInGate({ accounts, clock, log, meter, hashes }, timings, signInLimits, lockouts);
  const feed = new PresenceFeed(io, presence, blocks, clock, timings.presenceBatchMs);
  const sendRate = new KeyedRate(options.sendRate ?? rate);
  const service = new ChatService({
    store,
    accounts,
    presence,
    feed,
    blocks,
    timings,
    sendRate,
    maxPendingPerSender: options.maxPendingPerSender ?? DEFAULT_MAX_PENDING_PER_SENDER,
    singleSession: options.singleSession ?? false,
    clock,
    log,
    tickets,
    gate,
    meter,
    ...(cluster && { cluster }),
  });

  const channelService = new ChannelService({
    store,
    accounts,
    presence,
    blocks,
    channels,
    sendRate,
    ...(options.channelChangeRate && { changeRate: options.channelChangeRate }),
    clock,
    meter,
    ...(cluster && { cluster }),
  });
  /** How many of the other nodes' changes this node has heard (see catchingUp). */
  let heard = 0;
  if (cluster) {
    accounts.onChanged((user, change) => cluster.publish({ type: 'account', user, change }));
    const { nodeReceiver } = await import('./cluster/node-receiver');
    try {
      const receiver = nodeReceiver({ accounts, blocks, store, service, channelService, log, ticketKeys: cluster.ticketKeys });
      await cluster.join({
        ...receiver,
        event: (event) => {
          heard++;
          receiver.event(event);
        },
      });
      for (const user of imported) cluster.publish({ type: 'account', user, change: 'added' });
    } catch (err) {
      tls?.stop();
      await store.close();
      throw err;
    }
  }
  const requestHandlers: { [E in RequestName]: Handler<E> } = {
    ...service.handlers,
    ...channelService.handlers,
    history: (conn, payload, request) =>
      payload.channel === undefined ? service.handlers.history(conn, payload, request) : channelService.history(conn, payload),
  };
  const handlers = cluster
    ? {
        ...requestHandlers,
        ...catchingUp(omit(requestHandlers, ['login', 'received']), ['NO_SUCH_CHANNEL', 'NOT_A_MEMBER', 'UNKNOWN_USER', 'CHANNEL_EXISTS'], {
          caughtUp: async () => (await cluster.caughtUp()) && (await channelService.settled(), true),
          heard: () => heard,
        }),
      }
    : requestHandlers;

  const connections = new Set<Connection>();
  const coalescer = new WriteCoalescer();
  const perAddress = new Counts();
  const guard = new TransportGuard(
    io,
    { maxPerAddress, signInDeadlineMs: timings.signInDeadlineMs },
    clock,
    (transport) => addresses.resolve(transport.remoteAddress, transport.request.headers['x-forwarded-for']),
    meter.refused,
  );

  io.use((socket, next) => {
    const version = (socket.handshake.auth as { protocol?: unknown }).protocol;
    if (typeof version === 'number' && SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return next();
    meter.refused.add('version');
    next(
      handshakeRefusal(
        `This server speaks Parley protocol ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}; the client sent ${JSON.stringify(version ?? null)}. Update the client.`,
        { code: 'UNSUPPORTED_VERSION', supported: [...SUPPORTED_PROTOCOL_VERSIONS] },
      ),
    );
  });

  // Last of the checks, so that every connection counted here is one that opens (and will close). The guard
  // counts transports; this counts Socket.IO connections, of which one transport may carry several.
  io.use((socket, next) => {
    const address = socket.handshake.address;
    if (perAddress.of(address) >= maxPerAddress) {
      meter.refused.add('per-address');
      return next(
        handshakeRefusal(tooManyConnections(address, maxPerAddress), {
          code: 'RATE_LIMITED',
        }),
      );
    }
    perAddress.add(address);
    socket.once('disconnect', () => perAddress.release(address));
    next();
  });

  /** Carries out a validated request in its turn (see RequestQueue) and answers it; never rejects. */
  async function execute(request: Request): Promise<void> {
    const { conn } = request;
    const event = request.event as RequestName; // validated before it was queued
    const signedIn = event === 'received' ? conn.signedInAs !== undefined : conn.user !== undefined;
    if (event === 'login' ? signedIn : !signedIn) {
      return request.reply(
        event === 'login' ? failure('ALREADY_SIGNED_IN', `You are signed in as ${conn.user}.`) : failure('NOT_SIGNED_IN', 'Sign in first.'),
      );
    }
    if (isActivity(event, request.payload as never)) conn.lastCommandAt = clock();
    try {
      const handler = handlers[event] as Handler<typeof event>;
      const answer = handler(conn, request.payload as never, request);
      if (!answer) return; // it answers through the request itself, when its work is done
      request.reply(await answer);
      if (event === 'login' && conn.user) guard.signedIn(conn.socket);
    } catch (err) {
      log.error('request failed', { event, err: errorDetail(err) });
      return request.reply(failure('INTERNAL', 'The server could not complete this request; it has been logged.'));
    }
    // Work after the reply (e.g. replaying stored messages) can no longer answer the request: it logs instead.
    try {
      for (const task of request.later()) await task();
    } catch (err) {
      log.error('work after a reply failed', { event, err: errorDetail(err) });
    }
  }

  io.on('connection', (socket: ParleySocket) => {
    const protocol = (socket.handshake.auth as HandshakeAuth).protocol; // checked by the first io.use
    const conn = new Connection(socket, socket.handshake.address, protocol, clock(), rate);
    coalescer.attach(socket.conn);
    connections.add(conn);
    guard.joined(socket);
    log.debug('connection opened', { address: conn.address, protocol });
    const requests = new RequestQueue(execute);

    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (reply: Reply) => void) : undefined;
      const request = new Request(conn, event, ack, meter.errors);
      meter.requests.add(isRequestName(event) ? event : 'unknown');
      if (!conn.bucket.take(clock()))
        return request.reply(failure('RATE_LIMITED', 'Too many requests; slow down and try again in a moment.'));
      if (!isRequestName(event)) return request.reply(failure('UNKNOWN_EVENT', `Unknown event "${event}".`));
      if (!ack && event !== 'received') return request.reply(failure('BAD_REQUEST', `"${event}" needs an acknowledgement callback.`));
      if (args.length !== 1) return request.reply(failure('BAD_REQUEST', `"${event}" takes exactly one payload object.`));
      const since = REQUEST_SINCE[event];
      if (since !== undefined && conn.protocol < since) {
        return request.reply(failure('BAD_REQUEST', `"${event}" needs protocol ${since}; this connection speaks ${conn.protocol}.`));
      }
      const parsed = requestSchemas[event].safeParse(args[0]);
      if (!parsed.success) {
        return request.reply(failure(errorCodeFor(parsed.error), `Invalid "${event}": ${describeIssues(parsed.error)}.`));
      }
      request.payload = parsed.data;
      requests.push(PIPELINED.has(event), request);
    });

    socket.on('disconnect', (reason) => {
      log.debug('connection closed', { address: conn.address, username: conn.signedInAs, reason });
      connections.delete(conn);
      service.detach(conn);
    });
  });

  // The idle sign-out's words; with no timeout (0), nobody is signed out for being idle.
  const span =
    timings.idleTimeoutMs % 60_000 === 0
      ? plural(timings.idleTimeoutMs / 60_000, 'minute')
      : plural(Math.round(timings.idleTimeoutMs / 1000), 'second');
  const sweep = setInterval(() => {
    const now = clock();
    gate.prune(now);
    guard.sweep(now);
    tcp.sweep(now);
    for (const conn of connections) {
      if (timings.idleTimeoutMs > 0 && now - conn.lastCommandAt >= timings.idleTimeoutMs) {
        service.signOut(conn, 'idle', `You were signed out after ${span} without activity.`);
      } else if (conn.backlogged(timings.maxQueuedBytes)) {
        // Closing the transport (not a server disconnect) lets the client reconnect by itself, and replay.
        log.warn('closed a connection that reads too slowly', { username: conn.user, queuedBytes: conn.queuedBytes });
        conn.socket.conn.close();
      }
    }
  }, timings.sweepIntervalMs);
  sweep.unref();
  const retention = options.retainDays === undefined ? undefined : new Retention(store, options.retainDays, clock, log);

  const metrics = metricsModule?.createMetricsServer(options.metrics!, {
    meter,
    store,
    connections: () => connections.size,
    users: () => presence.online().length,
    sessions: () => {
      let signedIn = 0;
      for (const conn of connections) if (conn.user !== undefined) signedIn++;
      return signedIn;
    },
    replays: () => {
      let backlog = 0;
      for (const conn of connections) backlog += conn.replayBacklog;
      return { ...service.replayTurns.counts(), backlog };
    },
  });

  return {
    accounts,
    store,
    io,
    isOnline: (username) => presence.isOnline(username),
    caughtUp: async () => {
      if (cluster) await cluster.caughtUp();
      await channelService.settled();
    },
    metricsUrl: () => metrics?.url(),
    listen: async () => {
      if (metrics) {
        const { address, port } = await metrics.listen();
        log.info('metrics listening', { address, port });
      }
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
          http.off('error', reject);
          const address = http.address() as AddressInfo;
          log.info('listening', {
            address: address.address,
            port: address.port,
            protocol: PROTOCOL_VERSION,
            tls: tls !== undefined,
            maxConnections: http.maxConnections,
          });
          if (!tls && !isLoopback(address.address)) {
            log.warn(
              'listening beyond this machine without TLS: passwords and messages will cross the network in clear; give --tls-cert and --tls-key, or put a TLS proxy in front (docs/deploy.md)',
            );
          }
          resolve(address);
        });
      });
    },
    urls: () => {
      const address = http.address();
      if (!address || typeof address === 'string') return [];
      const scheme = tls ? 'https' : 'http';
      return hostsFor(address.address).map((h) => `${scheme}://${h.includes(':') ? `[${h}]` : h}:${address.port}`);
    },
    close: () =>
      (closing ??= (async () => {
        clearInterval(sweep);
        await metrics?.close();
        tls?.stop();
        feed.dispose(); // everyone is leaving: nobody needs to hear who
        for (const conn of [...connections]) service.signOut(conn, 'shutdown', 'The server is shutting down.');
        coalescer.flushNow();
        const closed = new Promise<void>((resolve) => io.close(() => resolve()));
        // Node stops timing requests out once its server closes: a connection that never sent its request
        // would hold the close open for good. Upgraded ones (the WebSockets) are not among these.
        http.closeAllConnections();
        await closed;
        service.acknowledgements.close();
        await cluster?.stop();
        await retention?.stop();
        await store.close();
        log.info('stopped');
      })()),
  };
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('Parley message center: connect with a Parley client.\n');
}

async function openStoreFor({ dataDir, cluster }: ServerOptions, log: Logger): Promise<Store> {
  if (cluster) return (await import('./store/pg-store')).openPgStore(cluster.url);
  if (!dataDir) throw new Error('createParleyServer needs a dataDir or a store');
  return openWorkerStore(
    dataDir,
    {},
    {
      restarted: (error) => log.error('the store thread stopped; a new one has opened the database', { err: error.message }),
      gaveUp: (error) => log.error('the store thread keeps stopping; requests that need storage will fail', { err: error.message }),
    },
  );
}

/** Requests that may start before the previous one of their connection has finished (see the queue above). */
const PIPELINED: ReadonlySet<string> = new Set(['message', 'broadcast', 'post', 'received']);

/** A refused handshake: clients see `message` and `data` in their `connect_error` (docs/protocol.md 1.1). */
function handshakeRefusal(message: string, data: { code: ErrorCode; supported?: number[] }): Error {
  return Object.assign(new Error(message), { data });
}

/** Why a handshake from a web page was refused (docs/protocol.md 1.1); the origin is quoted, and cut, since anyone can write it. */
function originRefusal(origin: string): string {
  return `Refused a connection from the web page ${JSON.stringify(origin.slice(0, 200))}: this message center accepts web pages only from origins allowed with --allow-origin.`;
}

/**
 * The hosts clients can reach: the bound address, or every interface's when bound to all of them. Link-local
 * IPv6 addresses (fe80::/10) are left out: they work only with a zone (fe80::1%eth0), which a URL cannot carry.
 */
export function hostsFor(bound: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  if (bound !== '0.0.0.0' && bound !== '::') return [bound];
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  return all.filter((i) => (i.family === 'IPv4' || bound === '::') && !/^fe[89ab]/i.test(i.address)).map((i) => i.address);
}

/** Limits that users meet in normal use get codes of their own; any other bad shape is BAD_REQUEST. */
function errorCodeFor(error: ZodError): ErrorCode {
  const tooBig = error.issues.find((issue) => issue.code === 'too_big');
  if (tooBig?.path[0] === 'body' || tooBig?.path[0] === 'topic') return 'TOO_LONG';
  if (tooBig?.path[0] === 'to' && tooBig.origin === 'array') return 'TOO_MANY_RECIPIENTS';
  return 'BAD_REQUEST';
}

function omit<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Omit<T, K> {
  const copy = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
