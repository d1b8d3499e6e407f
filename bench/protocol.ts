/**
 * What the orchestrator, the server processes and the load agents say to each other, and the
 * bench's message bodies. Nothing here is Parley's protocol: that lives in src/protocol.
 */

/**
 * The servers under test. `ws` is the floor: plain WebSocket with JSON, no Socket.IO. `durable` is the
 * baseline with Parley's store: what keeping messages costs, apart from Parley's other features.
 */
export type ServerKind = 'ws' | 'baseline' | 'durable' | 'parley';

/** How a fan-out is sent: a broadcast to everyone online, or (Parley) a post to #general, of which every user is a member. */
export type FanoutVia = 'broadcast' | 'channel';

export const SERVER_LABELS: Record<ServerKind, string> = {
  ws: 'ws floor',
  baseline: 'Socket.IO baseline',
  durable: 'durable relay',
  parley: 'Parley',
};

/** The servers that keep messages in a data directory of their own (and whose clients acknowledge them). */
export function isDurable(kind: ServerKind): kind is 'durable' | 'parley' {
  return kind === 'durable' || kind === 'parley';
}

/** Every bench user shares this password; Parley's users are seeded with it. */
export const BENCH_PASSWORD = 'bench-password';

/** A cheap scrypt cost for the seeded users (the cost is stored in each hash). */
export const BENCH_SCRYPT = { N: 1024, r: 8, p: 1 };

/** High enough that Parley's per-connection token bucket never refuses a bench request. */
export const BENCH_RATE_LIMIT = { burst: 1_000_000_000, perSecond: 1_000_000_000 };

export function userName(index: number): string {
  return `u${index}`;
}

/** Same-machine wall clock with sub-millisecond resolution, comparable across processes. */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A bench message body: `tag|sender|seq|sentAtMs|` then padding to `bytes` characters.
 * Tags: d = direct throughput, l = direct latency, b = broadcast throughput, p = broadcast probe.
 */
export type BodyTag = 'd' | 'l' | 'b' | 'p';

export function makeBody(tag: BodyTag, sender: number, seq: number, bytes: number): string {
  const head = `${tag}|${sender}|${seq}|${clockMs().toFixed(3)}|`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

export interface ParsedBody {
  tag: BodyTag;
  sender: number;
  seq: number;
  sentAt: number;
}

export function parseBody(body: string): ParsedBody | undefined {
  const parts = body.split('|', 4);
  if (parts.length < 4) return undefined;
  const tag = parts[0];
  if (tag !== 'd' && tag !== 'l' && tag !== 'b' && tag !== 'p') return undefined;
  return { tag, sender: Number(parts[1]), seq: Number(parts[2]), sentAt: Number(parts[3]) };
}

export interface CpuSample {
  /** process.cpuUsage() user + system, in microseconds. */
  cpuMicros: number;
  /** performance.now() when sampled. */
  at: number;
}

export function cpuSample(): CpuSample {
  const { user, system } = process.cpuUsage();
  return { cpuMicros: user + system, at: performance.now() };
}

/** Share of one core used between two samples, in percent. */
export function cpuPercent(a: CpuSample, b: CpuSample): number {
  const wall = b.at - a.at;
  return wall > 0 ? ((b.cpuMicros - a.cpuMicros) / 1000 / wall) * 100 : NaN;
}

/** performance.eventLoopUtilization(): `active` counts time the loop was busy, including blocked in sync I/O. */
export interface Utilization {
  idle: number;
  active: number;
}

/** What the server process reports about itself: CPU and event-loop use, its own and (Parley) its store thread's. */
export interface ServerSample {
  cpu: CpuSample;
  elu: Utilization;
  /** Parley only: the store's worker thread, where SQLite runs and every write and fsync blocks. */
  storeElu?: Utilization;
}

export interface ServerLoad {
  /** % of one core. */
  cpuPct: number;
  /** % of wall time the event loop was busy (CPU or blocked). */
  eluPct: number;
  /** The same for the store thread (NaN without one). */
  storeEluPct: number;
}

export function serverLoad(a: ServerSample, b: ServerSample): ServerLoad {
  return {
    cpuPct: cpuPercent(a.cpu, b.cpu),
    eluPct: busyPercent(a.elu, b.elu),
    storeEluPct: a.storeElu && b.storeElu ? busyPercent(a.storeElu, b.storeElu) : NaN,
  };
}

function busyPercent(a: Utilization, b: Utilization): number {
  const active = b.active - a.active;
  const idle = b.idle - a.idle;
  return active + idle > 0 ? (active / (active + idle)) * 100 : NaN;
}

export interface MemorySample {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
}

// ---- server process -------------------------------------------------------------------------

export interface ServerStartArgs {
  kind: ServerKind;
  /** Parley: where its database lives (created empty). */
  dataDir?: string;
  /** Parley: how many users (u0, u1, ...) to seed, plus the named extra ones. */
  users?: number;
  extraUsers?: string[];
  /** Listen on this port (a restarted server takes its predecessor's); default 0, a free one. */
  port?: number;
  /**
   * Parley at its shipped limits (per-connection rate, connections per address), instead of the bench's
   * lifted ones; its users are then seeded by the caller, at whatever scrypt cost the measure wants.
   */
  shipped?: boolean;
  /** Parley: a node of a cluster on this PostgreSQL database (cluster mode) instead of SQLite in dataDir. */
  postgres?: string;
}

export interface ServerStarted {
  port: number;
  /** Parley: time to seed the users, not part of any measure. */
  seedMs: number;
  pid: number;
}

export type ServerCommands = {
  start: [ServerStartArgs, ServerStarted];
  /** Runs gc twice (the server runs with --expose-gc) and reports process.memoryUsage(). */
  memory: [undefined, MemorySample & { gc: boolean }];
  sample: [undefined, ServerSample];
  /** Starts V8's sampling profiler in the server process (bench --profile). */
  profileStart: [undefined, void];
  /** Stops it and writes the .cpuprofile (readable by Chrome DevTools and bench/profile-summary.ts). */
  profileStop: [{ file: string }, void];
  /** The most memory the process has held so far (its peak resident set, in bytes). */
  peakRss: [undefined, number];
  /** Exits at once (no graceful close; see server-child.ts). */
  stop: [undefined, void];
};

// ---- the big replay's reader (bench/replay-reader.ts) ----------------------------------------

export type ReaderCommands = {
  /** Signs in as `username` and reads its `messages` missed messages; when it began and when the last arrived (clockMs). */
  read: [{ url: string; username: string; messages: number; timeoutMs: number }, { startAt: number; lastAt: number }];
};

// ---- start-time and store process ---------------------------------------------------------

export interface StartTimeResult {
  /** Loading the server's modules in a fresh process (under tsx, so it includes the TypeScript transform). */
  importMs: number;
  /** createParleyServer (or the baseline's equivalent) plus listen(), in that fresh process. */
  startMs: number;
}

export interface StoreThroughputResult {
  oneAtATimePerSec: number;
  groupCommitPerSec: number;
}

export type StoreCommands = {
  startTime: [{ kind: 'parley' | 'baseline'; dataDir: string }, StartTimeResult];
  seed: [{ dataDir: string; messages: number; batch: number }, { ms: number }];
  storeThroughput: [{ dataDir: string; sequential: number; concurrent: number }, StoreThroughputResult];
  /** A channel of `members` members, `posts` messages posted to it: the rows they added to the database. */
  channelRows: [{ dataDir: string; members: number; posts: number }, { rowsPerMessage: number }];
};

// ---- load agent ---------------------------------------------------------------------------

export interface AgentInit {
  kind: ServerKind;
  url: string;
  /** Client i connects to urls[i % urls.length] (the nodes of a cluster), or to `url` without them. */
  urls?: string[];
  agentIndex: number;
  agents: number;
  bodyBytes: number;
  /** How many connections one agent opens at once. */
  connectConcurrency: number;
}

export interface AgentCounters {
  /** Messages (any tag) received since the agent started. */
  received: number;
  directDelivered: number;
  broadcastDelivered: number;
  probeDelivered: number;
  sent: number;
  /** Requests the server refused or that failed. */
  errors: number;
  /** Connections that dropped without being asked to, and why. */
  drops: number;
  dropReasons: Record<string, number>;
  connected: number;
  cpu: CpuSample;
}

export interface ConnectResult {
  opened: number;
  failed: number;
  firstError?: string;
  ms: number;
}

export type AgentCommands = {
  init: [AgentInit, void];
  /** Opens and signs in the given clients (global indexes). */
  connect: [{ indexes: number[] }, ConnectResult];
  closeAll: [undefined, void];
  counters: [undefined, AgentCounters];
  /** Closed loop: each local pair (2k -> 2k+1) keeps `window` messages on their way. */
  directStart: [{ window: number }, { pairs: number }];
  /** Open loop: `ratePerSec` messages spread over the local pairs; latency recorded at the recipient. */
  latencyStart: [{ ratePerSec: number }, { pairs: number }];
  /** Forgets latency samples taken so far (end of a warm-up). */
  latencyMark: [undefined, void];
  /** Local senders each keep `window` broadcasts not yet received by everyone. */
  broadcastStart: [{ senders: number[]; window: number; via: FanoutVia }, void];
  /** Told by the orchestrator: every agent has received broadcast (sender, seq). */
  broadcastDone: [{ sender: number; seq: number }, void];
  /** Stops sending and waits (bounded) for what is on its way. */
  stopLoad: [{ drainMs: number }, { undrained: number }];
  /** Clears probe samples; `expectFromSender` is not local to every agent. */
  probeReset: [undefined, void];
  /** The local client `sender` sends `count` broadcasts, one every `intervalMs`, open loop. */
  probeSend: [{ sender: number; count: number; intervalMs: number }, { sent: number; sender: number }];
  /** Latency samples (ms) of probe broadcasts or of direct latency messages since the last reset/mark. */
  samples: [{ which: 'probe' | 'probeAck' | 'latency' }, number[]];
};

export type AgentEvents = {
  /** Every local client has received broadcast (sender, seq). */
  broadcastReceived: { sender: number; seq: number };
};
