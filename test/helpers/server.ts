import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParleyClient, type ClientEvents } from '../../src/client/parley-client';
import { silentLogger, streamLogger } from '../../src/server/log';
import type { ServerOptions } from '../../src/server/options';
import { createParleyServer, type ParleyServer } from '../../src/server/server';

/** Every test user's password. */
export const passwordOf = (username: string): string => `${username}-pw`;

/** A cheap scrypt cost for tests: the hash format and checks are the same, only faster. */
export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export function tempDir(prefix = 'parley-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A clock that moves when a test says so, and with real time too if `running`. */
export class TestClock {
  private offset: number;

  constructor(
    start = Date.UTC(2026, 10, 26, 12, 0, 0),
    private readonly running = false,
  ) {
    this.offset = start - (running ? Date.now() : 0);
  }

  get now(): number {
    return (this.running ? Date.now() : 0) + this.offset;
  }

  readonly read = (): number => this.now;

  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface TestServer {
  server: ParleyServer;
  url: string;
  port: number;
  dataDir: string;
  clock: TestClock;
  clients: ParleyClient[];
  /** A connected client, not signed in. */
  connect(): Promise<ParleyClient>;
  /** A connected client signed in as `username` (password `${username}-pw`). */
  signIn(username: string): Promise<ParleyClient>;
  /** Stops the server but keeps the data directory (to start another on it). */
  stop(): Promise<void>;
  /** Stops the server and removes the data directory. */
  close(): Promise<void>;
}

type StartOptions = Partial<ServerOptions> & { users?: string[]; dataDir?: string; clock?: never };

/**
 * A real message center on a loopback port, with a data directory of its own and a test clock. With
 * PARLEY_TEST_STORE=cluster, three nodes of a cluster instead (see startClusterAsOne).
 */
export async function startServer(options: StartOptions = {}, clock = new TestClock()): Promise<TestServer> {
  if (process.env.PARLEY_TEST_STORE === 'cluster' && !options.cluster && !options.store) return startClusterAsOne(options, clock);
  const dataDir = options.dataDir ?? tempDir();
  const server = await createParleyServer({
    port: 0,
    host: '127.0.0.1',
    scryptCost: TEST_SCRYPT,
    log: process.env.PARLEY_TEST_LOG ? streamLogger() : silentLogger,
    ...(options.cluster ? {} : await storeFromEnvironment(dataDir)),
    ...options,
    dataDir,
    clock: clock.read,
    // Tests move the clock in jumps, past the sign-in deadline of clients that wait at a prompt: tests of it set it.
    timings: { sweepIntervalMs: 20, signInDeadlineMs: 24 * 3_600_000, ...options.timings },
    // The test clock stands still, so an address's sign-in rate would never refill: tests that check it say so.
    signInLimits: { burst: 10_000, tokenBurst: 10_000, failureBurst: 10_000, ...options.signInLimits },
  });
  for (const user of options.users ?? []) {
    if (!server.accounts.has(user)) await server.accounts.add(user, passwordOf(user));
  }
  const { port } = await server.listen();
  const url = `http://127.0.0.1:${port}`;
  return testServer(server, [url], dataDir, clock, () => server.close());
}

/** The test's handle on servers: clients connect to `urls` in turn. */
function testServer(server: ParleyServer, urls: string[], dataDir: string, clock: TestClock, close: () => Promise<void>): TestServer {
  const clients: ParleyClient[] = [];
  const connect = async (): Promise<ParleyClient> => {
    const url = urls[clients.length % urls.length]!;
    const client = new ParleyClient(url, { requestTimeoutMs: 3000, socket: { reconnectionDelay: 50, reconnectionDelayMax: 200 } });
    clients.push(client);
    await client.connect();
    return client;
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await close();
  };
  const url = urls[0]!;
  return {
    server,
    url,
    port: Number(new URL(url).port),
    dataDir,
    clock,
    clients,
    connect,
    signIn: async (username) => {
      const client = await connect();
      await client.login(username, passwordOf(username));
      return client;
    },
    stop,
    close: async () => {
      for (const c of clients) c.close();
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * PARLEY_TEST_STORE=cluster: three nodes of a cluster on one PostgreSQL database (one per data directory, so that
 * servers started again on it find what the last ones stored), standing in for one server: `server` is the first
 * node, and clients connect to the nodes in turn. Each request waits until every node has heard of what it changed,
 * each sign-in until every node sees the user online, and each added user until every node knows them: the nodes
 * hear of these a moment later (docs/scaling.md, "What is eventual"), which tests of one server do not wait for.
 */
async function startClusterAsOne(options: StartOptions, clock: TestClock): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const { createTestDatabase } = await import('./postgres');
  let url = databases.get(dataDir);
  if (!url) databases.set(dataDir, (url = await createTestDatabase()));
  const { users = [], ...rest } = options;
  const nodes: TestServer[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startServer({ ...rest, cluster: { url }, dataDir: i === 0 ? dataDir : tempDir() }, clock));
  } catch (err) {
    for (const node of nodes) await node.stop();
    throw err;
  }
  const first = nodes[0]!.server;
  for (const user of users) if (!first.accounts.has(user)) await first.accounts.add(user, passwordOf(user));
  const everywhere = (check: (server: ParleyServer) => boolean, what: string) =>
    eventually(() => nodes.every((n) => check(n.server)), 5000, what);
  await everywhere((s) => users.every((u) => s.accounts.has(u)), 'every node to know the users');
  const t = testServer(
    first,
    nodes.map((n) => n.url),
    dataDir,
    clock,
    async () => {
      for (const node of nodes) await node.stop();
    },
  );
  // After each request that went through, every node has heard of what it changed: tests of one server ask the
  // next at once. Requests that end meanwhile share the next round of waiting; refused ones change nothing.
  let round: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const everyNodeCaughtUp = (): Promise<void> =>
    (queued ??= (round ?? Promise.resolve()).then(() => {
      queued = undefined;
      return (round = Promise.all(nodes.map((n) => n.server.caughtUp())).then(() => undefined));
    }));
  const connect = async (): Promise<ParleyClient> => {
    const client = await t.connect();
    const request = client.request.bind(client);
    client.request = async (event, payload) => {
      const reply = await request(event, payload);
      await everyNodeCaughtUp();
      return reply;
    };
    return client;
  };
  return {
    ...t,
    connect,
    signIn: async (username) => {
      const client = await connect();
      await client.login(username, passwordOf(username));
      await everywhere((s) => s.isOnline(username), `every node to see ${username} online`);
      return client;
    },
  };
}

/** The database standing for each data directory when the servers run on PostgreSQL. */
const databases = new Map<string, string>();

/**
 * With PARLEY_TEST_STORE=postgres, every server a test starts keeps its data in PostgreSQL (a database per data
 * directory, so that a server started again on it finds what the last one stored) rather than SQLite.
 */
async function storeFromEnvironment(dataDir: string): Promise<Partial<ServerOptions>> {
  if (process.env.PARLEY_TEST_STORE !== 'postgres') return {};
  const { createTestDatabase } = await import('./postgres');
  const { openPgStore } = await import('../../src/server/store/pg-store');
  let url = databases.get(dataDir);
  if (!url) databases.set(dataDir, (url = await createTestDatabase()));
  return { store: await openPgStore(url) };
}

/** Counts the password checks (each one a scrypt) a server makes, calling through to the real one. */
export function countHashes(t: TestServer): { readonly count: number } {
  const accounts = t.server.accounts;
  const verify = accounts.verify.bind(accounts);
  const counter = { count: 0 };
  accounts.verify = (username, password) => {
    counter.count += 1;
    return verify(username, password);
  };
  return counter;
}

/** Resolves with the next `event` a client emits that matches, or rejects after `ms`. */
export function next<E extends keyof ClientEvents>(
  client: ParleyClient,
  event: E,
  match: (...args: ClientEvents[E]) => boolean = () => true,
  ms = 3000,
): Promise<ClientEvents[E]> {
  return nextEmitted<ClientEvents, E>(client, event, match, ms);
}

/** The same for any typed emitter (the client core's, PrivateChannels'). */
export function nextEmitted<Events extends Record<keyof Events, unknown[]>, E extends keyof Events>(
  emitter: {
    on(event: E, listener: (...args: Events[E]) => void): unknown;
    off(event: E, listener: (...args: Events[E]) => void): unknown;
  },
  event: E,
  match: (...args: Events[E]) => boolean,
  ms: number,
): Promise<Events[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for "${String(event)}"`));
    }, ms);
    const listener = (...args: Events[E]): void => {
      if (!match(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    };
    emitter.on(event, listener);
  });
}

/** Collects every event of one kind a client emits, for asserting on what did (not) arrive. */
export function collect<E extends keyof ClientEvents>(client: ParleyClient, event: E): ClientEvents[E][] {
  const seen: ClientEvents[E][] = [];
  client.on(event, ((...args: ClientEvents[E]) => seen.push(args)) as never);
  return seen;
}

/** Waits until `check` holds, polling; for state that arrives over the network. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A port on 127.0.0.1 where nothing listens, nor will during the run: below 1024, so never one the system
 * hands out for port 0. (A port just closed may be handed to the next listener, such as the peer's own.)
 */
export async function refusedPort(): Promise<number> {
  for (const port of [9, 1, 7, 13, 17, 19]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) return port;
  }
  throw new Error('every candidate port below 1024 accepts connections on this machine');
}

/**
 * Why a test does not run when each test's server is a cluster (PARLEY_TEST_STORE=cluster), or undefined when it runs:
 * what it checks has no counterpart there, or is counted per node by design.
 */
const inCluster = process.env.PARLEY_TEST_STORE === 'cluster';
export const ONE_PROCESS_ONLY = inCluster
  ? 'about one server process and its SQLite data directory (files, signals, admin.sock): a cluster node has neither; test/cluster-failover.test.ts kills nodes'
  : undefined;
export const PER_NODE_LIMIT = inCluster ? 'a limit each node counts for itself (docs/scaling.md, "Limits in a cluster")' : undefined;
export const PER_NODE_METRICS = inCluster ? "each node's metrics count its own clients and requests" : undefined;
export const LOOPBACK_PEERS = inCluster
  ? 'peer listeners on loopback are handed out only within their node in a cluster (docs/scaling.md, "Private chat across nodes"); test/cluster-private.test.ts covers it'
  : undefined;
