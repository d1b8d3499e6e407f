/** How big each measure is, for a full run and for --quick. Every wait below is also a bound. */

export const PHASES = [
  'direct',
  'fanout',
  'latency',
  'replay',
  'ramp',
  'start',
  'store',
  'client',
  'activation',
  'flood',
  'bigreplay',
  'storm',
  'channels',
] as const;
export type Phase = (typeof PHASES)[number];

export interface Sizes {
  mode: 'full' | 'quick';
  /** Load agent processes. */
  agents: number;
  /** Connections one agent opens at once. */
  connectConcurrency: number;
  /** Clients connected for direct throughput, fan-out and latency (pairs = clients / 2). */
  clients: number;
  /** Characters in every message body. */
  bodyBytes: number;
  warmupMs: number;
  /** One measured run; `repeats` of them. */
  durationMs: number;
  repeats: number;
  /** Direct: messages each sender keeps on their way (closed loop on delivery). */
  directWindow: number;
  /** Fan-out: this many senders, each keeping `broadcastWindow` broadcasts not yet received by all. */
  broadcastSenders: number;
  broadcastWindow: number;
  /** Latency: total offered direct messages per second, open loop, well under saturation. */
  latencyRatePerSec: number;
  /**
   * Cluster run (--cluster): the moderate load under which broadcast latency is measured, direct messages per second,
   * open loop; well under what a cluster on PostgreSQL stores on one machine, so that it measures delay, not a queue.
   */
  clusterLoadPerSec: number;
  /** Ramp: clients added per step, the cap, and the clients at which memory is reported. */
  rampStep: number;
  rampCap: number;
  memoryAt: [number, number];
  /** Ramp: each step sends this many broadcasts, one every interval, and passes when p95 <= limit. */
  probeCount: number;
  probeIntervalMs: number;
  probeLimitMs: number;
  /**
   * The ramp signs clients in this many at a time and waits for the server and the clients to go
   * idle in between. Each Parley sign-in sends a presence event to every client online; signed in
   * as fast as they come, a few thousand clients bury the server in queued presence events (in
   * runs here: 4 GB heap and a crash, or thousands of heartbeat timeouts). The work is the same
   * either way; the chunks keep it from piling up, so the memory read is that of the clients.
   */
  signInChunk: number;
  /**
   * Past the memory points, the ramp also ends when signing in one step's clients took longer than
   * this (a server that needs minutes to admit clients is not holding them; it also bounds the run).
   */
  signInLimitMs: number;
  /** The ramp starts no new step after this long. */
  rampBudgetMs: number;
  /**
   * Before each measure, wait up to this long for the rest of the machine to go quiet (under
   * 25% of one core busy besides the bench), since other people's work skews every number.
   */
  quietWaitMs: number;
  /** A measured run during which other work used over half a core is run again, at most this many times per measure. */
  maxReruns: number;
  replayMessages: number;
  replayRepeats: number;
  /** Channels: missed channel messages a member catches up on (against a replay of replayMessages direct ones). */
  catchUpMessages: number;
  /** Channels: messages posted to count the rows each writes, in a channel of each of these sizes. */
  channelRowsPosts: number;
  channelRowsMembers: number[];
  startRepeats: number;
  seededMessages: number;
  storeSequential: number;
  storeConcurrent: number;
  storeRepeats: number;
  /** The chat view rendering a conversation of this many messages (client side). */
  renderMessages: number;
  /** Hardening, sign-in under a flood: the flood's sockets, and the real user's sign-ins measured with and without it. */
  floodSockets: number;
  floodSignIns: number;
  /** Hardening, a big replay: missed messages (against a replay of 1,000), and the clients whose requests are timed meanwhile. */
  bigReplayMessages: number;
  replayObservers: number;
  /** Hardening, a reconnect storm: clients signed in when the server restarts, the addresses they come from, and the wait. */
  stormClients: number;
  stormAddresses: number;
  stormBoundMs: number;
  /** Bounds: each measure, each ramp step, and the whole bench. */
  phaseTimeoutMs: number;
  stepTimeoutMs: number;
  overallTimeoutMs: number;
}

export const FULL: Sizes = {
  mode: 'full',
  agents: 2,
  connectConcurrency: 64,
  clients: 1000,
  bodyBytes: 100,
  warmupMs: 1_500,
  durationMs: 3_000,
  repeats: 3,
  directWindow: 2,
  broadcastSenders: 4,
  broadcastWindow: 2,
  latencyRatePerSec: 500,
  clusterLoadPerSec: 40,
  rampStep: 1_000,
  rampCap: 8_000,
  memoryAt: [1_000, 5_000],
  probeCount: 8,
  probeIntervalMs: 500,
  probeLimitMs: 250,
  signInChunk: 250,
  signInLimitMs: 60_000,
  rampBudgetMs: 480_000,
  quietWaitMs: 30_000,
  maxReruns: 3,
  replayMessages: 1_000,
  replayRepeats: 3,
  catchUpMessages: 10_000,
  channelRowsPosts: 200,
  channelRowsMembers: [10, 1_000],
  startRepeats: 3,
  seededMessages: 100_000,
  storeSequential: 2_000,
  storeConcurrent: 10_000,
  storeRepeats: 3,
  renderMessages: 10_000,
  floodSockets: 64,
  floodSignIns: 40,
  bigReplayMessages: 100_000,
  replayObservers: 20,
  stormClients: 1_000,
  stormAddresses: 50,
  stormBoundMs: 300_000,
  phaseTimeoutMs: 120_000,
  stepTimeoutMs: 300_000,
  overallTimeoutMs: 40 * 60_000,
};

export const QUICK: Sizes = {
  ...FULL,
  mode: 'quick',
  connectConcurrency: 32,
  clients: 100,
  warmupMs: 300,
  durationMs: 700,
  repeats: 2,
  latencyRatePerSec: 200,
  clusterLoadPerSec: 20,
  rampStep: 100,
  rampCap: 300,
  memoryAt: [100, 300],
  probeCount: 4,
  probeIntervalMs: 150,
  signInChunk: 100,
  signInLimitMs: 15_000,
  rampBudgetMs: 40_000,
  quietWaitMs: 0,
  maxReruns: 0,
  replayMessages: 1_000,
  replayRepeats: 2,
  catchUpMessages: 2_000,
  channelRowsPosts: 50,
  channelRowsMembers: [10, 200],
  startRepeats: 1,
  seededMessages: 5_000,
  storeSequential: 300,
  storeConcurrent: 2_000,
  storeRepeats: 2,
  renderMessages: 2_000,
  floodSockets: 16,
  floodSignIns: 3,
  bigReplayMessages: 10_000,
  replayObservers: 5,
  stormClients: 50,
  stormAddresses: 10,
  stormBoundMs: 60_000,
  phaseTimeoutMs: 30_000,
  stepTimeoutMs: 30_000,
  overallTimeoutMs: 110_000,
};
