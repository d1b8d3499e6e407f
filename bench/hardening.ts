/**
 * The hardening measures: what one hostile or unlucky client costs everyone else. Parley runs at its shipped
 * limits, and each measure has a reference taken in the same run:
 *  11. sign-in under a flood: a user signing in from 127.0.0.2 while sockets at 127.0.0.3 send `login` for
 *      random usernames, against the same sign-ins with no flood (shipped scrypt cost, N=2^17);
 *  12. a big replay: the server's peak memory, and other clients' request latency, while one user is sent
 *      many missed messages, against a replay of 1,000 (each in a fresh server process);
 *  13. a reconnect storm: signed-in clients after a server restart until all are signed in again (shipped
 *      scrypt cost), against the same clients reconnecting to the bare Socket.IO baseline.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { ParleyClient, type ClientOptions } from '../src/client/parley-client';
import { PROTOCOL_VERSION } from '../src/protocol';
import { DEFAULT_SCRYPT_COST } from '../src/server/passwords';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import type { Sizes } from './config';
import { startChild, type Rpc } from './ipc';
import { BENCH_PASSWORD, clockMs, type ReaderCommands, type ServerCommands, type ServerStartArgs } from './protocol';
import { sleep, track } from './rig';
import { seedUsers } from './servers/parley';
import { summarizeLatency, type LatencySummary } from './stats';
import { errorMessage } from '../src/protocol/errors';

const USER_ADDRESS = '127.0.0.2';
const FLOOD_ADDRESS = '127.0.0.3';

interface ChildServer {
  url: string;
  port: number;
  rpc: Rpc<ServerCommands>;
}

async function startServer(args: ServerStartArgs, files = 4096): Promise<ChildServer> {
  const rpc = track(startChild<ServerCommands>(path.join(__dirname, 'server-child.ts'), `${args.kind} server`, { files }));
  try {
    const { port } = await rpc.call('start', args, 120_000);
    return { port, url: `http://127.0.0.1:${port}`, rpc };
  } catch (error) {
    rpc.kill();
    throw error;
  }
}

const stopServer = (server: ChildServer): Promise<void> => server.rpc.stop(10_000, 'stop');

/** A client whose connections leave from `localAddress` (any 127.x.y.z is this machine). */
function clientAt(url: string, localAddress: string, options: ClientOptions = {}): ParleyClient {
  return new ParleyClient(url, { ...options, socket: { ...options.socket, localAddress } as ClientOptions['socket'] });
}

// ---- 11. sign-in under a flood ------------------------------------------------------------------

export interface SignInFloodResult {
  floodSockets: number;
  /** The real user's sign-ins, from connecting to the reply: with no flood, and during it. */
  quietMs: LatencySummary;
  floodedMs: LatencySummary;
  failed: { quiet: number; flooded: number; firstError?: string };
  /** What the flood sent, and how the server answered it. */
  flood: { sent: number; answers: Record<string, number> };
}

/**
 * The user's sign-ins start at most one per `SIGN_IN_EVERY_MS`: the shipped per-address rate is one password
 * sign-in a second after a burst of 10, and back-to-back sign-ins would measure that bucket running dry (and the
 * client's retries) instead of the flood from the other address.
 */
const SIGN_IN_EVERY_MS = 1_100;

async function timedSignIns(url: string, username: string, count: number, timeoutMs: number) {
  const ms: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < count; i++) {
    const client = clientAt(url, USER_ADDRESS, { requestTimeoutMs: timeoutMs, socket: { reconnection: false } });
    const t0 = performance.now();
    const paced = sleep(SIGN_IN_EVERY_MS);
    try {
      await client.connect();
      await client.login(username, BENCH_PASSWORD);
      ms.push(performance.now() - t0);
      await client.logout();
    } catch (error) {
      failed++;
      firstError ??= errorMessage(error);
    } finally {
      client.close();
    }
    await paced;
  }
  return { ms, failed, ...(firstError !== undefined && { firstError }) };
}

/** Sockets that keep asking to sign in as random usernames, each at most `perSecond` times a second. */
function startFlood(url: string, sockets: number, perSecond: number) {
  const answers: Record<string, number> = {};
  let sent = 0;
  let running = true;
  const all = Array.from({ length: sockets }, () =>
    io(url, {
      auth: { protocol: PROTOCOL_VERSION },
      transports: ['websocket'],
      reconnectionDelay: 200,
      reconnectionDelayMax: 1_000,
      localAddress: FLOOD_ADDRESS,
    } as Parameters<typeof io>[1]),
  );
  const loops = all.map(async (socket) => {
    while (running) {
      if (!socket.connected) {
        await sleep(100);
        continue;
      }
      const t0 = performance.now();
      sent++;
      const answer = await new Promise<string>((resolve) => {
        const payload = { username: `x${randomUUID().slice(0, 12)}`, password: 'not-the-password' };
        socket.timeout(60_000).emit('login', payload, (err: Error | null, reply?: { ok: boolean; error?: { code: string } }) => {
          resolve(err ? 'no answer' : reply?.ok ? 'ok' : (reply?.error?.code ?? 'bad reply'));
        });
      });
      answers[answer] = (answers[answer] ?? 0) + 1;
      const wait = 1000 / perSecond - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
    }
  });
  return {
    stop: async () => {
      running = false;
      for (const socket of all) socket.close();
      await Promise.all(loops);
      return { sent, answers };
    },
  };
}

export async function measureSignInFlood(sizes: Sizes, tmp: string): Promise<SignInFloodResult> {
  const dataDir = mkdtempSync(path.join(tmp, 'flood-'));
  await seedUsers(dataDir, ['victim'], DEFAULT_SCRYPT_COST);
  const server = await startServer({ kind: 'parley', dataDir, shipped: true });
  const timeoutMs = sizes.phaseTimeoutMs;
  try {
    await timedSignIns(server.url, 'victim', 1, timeoutMs); // warm-up
    const quiet = await timedSignIns(server.url, 'victim', sizes.floodSignIns, timeoutMs);
    const flood = startFlood(server.url, sizes.floodSockets, 20);
    let flooded: Awaited<ReturnType<typeof timedSignIns>>;
    let floodStats: Awaited<ReturnType<typeof flood.stop>>;
    try {
      await sleep(2_000); // the flood's first logins are queued by then
      flooded = await timedSignIns(server.url, 'victim', sizes.floodSignIns, timeoutMs);
    } finally {
      floodStats = await flood.stop();
    }
    const firstError = quiet.firstError ?? flooded.firstError;
    return {
      floodSockets: sizes.floodSockets,
      quietMs: summarizeLatency(quiet.ms, sizes.floodSignIns),
      floodedMs: summarizeLatency(flooded.ms, sizes.floodSignIns),
      failed: { quiet: quiet.failed, flooded: flooded.failed, ...(firstError !== undefined && { firstError }) },
      flood: floodStats,
    };
  } finally {
    await stopServer(server);
  }
}

// ---- 12. a big replay ---------------------------------------------------------------------------

export interface ReplayLoad {
  messages: number;
  /** The server process's peak resident memory before the user signs in, and by the end of the replay. */
  rssBeforeBytes: number;
  peakRssBytes: number;
  /** The other clients' requests (`whoelse`, each client every 100 ms) sent during the replay. */
  latency: LatencySummary;
  /** From the user's connect to the last missed message. */
  replayMs: number;
}

export interface ReplayBoundResult {
  observers: number;
  small: ReplayLoad;
  big: ReplayLoad;
}

/** Missed messages come from several senders, at most this many each (one sender's share of a queue is bounded). */
const PER_SENDER = 1_000;
const BODY = 'a stored message of about the length people type in a chat window, give or take';

/** Stores `count` messages to `to` straight into the data directory, as if `to` had been away. */
async function seedPending(dataDir: string, senders: string[], to: string, count: number): Promise<void> {
  const store = await openSqliteStore(dataDir);
  try {
    for (let done = 0; done < count; done += PER_SENDER) {
      const n = Math.min(PER_SENDER, count - done);
      const from = senders[done / PER_SENDER]!;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.saveMessage({ from, kind: 'direct', body: `${done + i} ${BODY}`, sentAt: Date.now(), recipients: [to] }),
        ),
      );
    }
  } finally {
    await store.close();
  }
}

async function replayLoad(sizes: Sizes, tmp: string, messages: number): Promise<ReplayLoad> {
  const dataDir = mkdtempSync(path.join(tmp, `replay-${messages}-`));
  const senders = Array.from({ length: Math.ceil(messages / PER_SENDER) }, (_, i) => `s${i}`);
  const observers = Array.from({ length: sizes.replayObservers }, (_, i) => `o${i}`);
  await seedUsers(dataDir, ['victim', ...senders, ...observers]);
  await seedPending(dataDir, senders, 'victim', messages);
  const server = await startServer({ kind: 'parley', dataDir, shipped: true });
  const clients: ParleyClient[] = [];
  const samples: { at: number; ms: number }[] = [];
  let observing = true;
  try {
    for (const name of observers) {
      const client = new ParleyClient(server.url, { requestTimeoutMs: 60_000 });
      clients.push(client);
      await client.connect();
      await client.login(name, BENCH_PASSWORD);
    }
    const loops = clients.map(async (client) => {
      while (observing) {
        const at = clockMs();
        const ms = await client.whoelse().then(
          () => clockMs() - at,
          () => Infinity,
        );
        samples.push({ at, ms });
        await sleep(100);
      }
    });
    await sleep(1_000);
    const rssBeforeBytes = await server.rpc.call('peakRss', undefined);
    const reader = track(startChild<ReaderCommands>(path.join(__dirname, 'replay-reader.ts'), 'replay reader'));
    let read: { startAt: number; lastAt: number };
    try {
      read = await reader.call(
        'read',
        { url: server.url, username: 'victim', messages, timeoutMs: sizes.phaseTimeoutMs },
        sizes.phaseTimeoutMs + 30_000,
      );
    } finally {
      reader.kill();
    }
    await sleep(500);
    observing = false;
    await Promise.all(loops);
    const during = samples.filter((s) => s.at >= read.startAt && s.at <= read.lastAt + 500).map((s) => s.ms);
    return {
      messages,
      rssBeforeBytes,
      peakRssBytes: await server.rpc.call('peakRss', undefined),
      latency: summarizeLatency(
        during.filter((ms) => Number.isFinite(ms)),
        during.length,
      ),
      replayMs: read.lastAt - read.startAt,
    };
  } finally {
    observing = false;
    for (const client of clients) client.close();
    await stopServer(server);
  }
}

export async function measureReplayBound(sizes: Sizes, tmp: string): Promise<ReplayBoundResult> {
  const small = await replayLoad(sizes, tmp, 1_000);
  const big = await replayLoad(sizes, tmp, sizes.bigReplayMessages);
  return { observers: sizes.replayObservers, small, big };
}

// ---- 13. a reconnect storm ----------------------------------------------------------------------

export interface StormRun {
  /** Signing every client in the first time (informative: the storm's setup). */
  firstSignInMs: number;
  /** From the restarted server listening until every client had signed in again (or the bound). */
  againMs: number;
  /** Clients not signed in again by the bound. */
  missing: number;
}

export interface ReconnectStormResult {
  clients: number;
  addresses: number;
  parley: StormRun;
  baseline: StormRun;
}

/** Signs in, waiting and asking again while the server says it is busy (as a person would). */
async function signInPatiently(client: ParleyClient, username: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.login(username, BENCH_PASSWORD);
      return;
    } catch (error) {
      const busy = error instanceof Error && 'code' in error && error.code === 'RATE_LIMITED';
      if (!busy || attempt === 20) throw error;
      await sleep(Math.min(5_000, 250 * 2 ** attempt));
    }
  }
}

async function storm(kind: 'parley' | 'baseline', sizes: Sizes, tmp: string): Promise<StormRun> {
  const names = Array.from({ length: sizes.stormClients }, (_, i) => `c${i}`);
  const dataDir = kind === 'parley' ? mkdtempSync(path.join(tmp, 'storm-')) : undefined;
  if (dataDir) await seedUsers(dataDir, names, DEFAULT_SCRYPT_COST);
  const args: ServerStartArgs = { kind, shipped: true, ...(dataDir !== undefined && { dataDir }) };
  const files = names.length + 512;
  let server = await startServer(args, files);
  // A team on a VPN: a few clients per address.
  const clients = names.map((_, i) =>
    clientAt(server.url, `127.0.1.${(i % sizes.stormAddresses) + 1}`, { requestTimeoutMs: sizes.phaseTimeoutMs }),
  );
  try {
    const t0 = performance.now();
    for (let i = 0; i < clients.length; i += STORM_CHUNK) {
      await Promise.all(
        clients.slice(i, i + STORM_CHUNK).map(async (client, k) => {
          await client.connect();
          await signInPatiently(client, names[i + k]!);
        }),
      );
    }
    const firstSignInMs = performance.now() - t0;

    let resumed = 0;
    const allBack = new Promise<void>((resolve) => {
      for (const client of clients) client.once('resumed', () => ++resumed === clients.length && resolve());
    });
    await stopServer(server);
    server = await startServer({ ...args, port: server.port }, files);
    const t1 = performance.now();
    await Promise.race([allBack, sleep(sizes.stormBoundMs)]);
    return { firstSignInMs, againMs: performance.now() - t1, missing: clients.length - resumed };
  } finally {
    for (const client of clients) client.close();
    await stopServer(server);
  }
}

/** Clients that connect and sign in at once, while the storm's clients are first signed in. */
const STORM_CHUNK = 16;

export async function measureReconnectStorm(sizes: Sizes, tmp: string): Promise<ReconnectStormResult> {
  const baseline = await storm('baseline', sizes, tmp);
  const parley = await storm('parley', sizes, tmp);
  return { clients: sizes.stormClients, addresses: sizes.stormAddresses, parley, baseline };
}
