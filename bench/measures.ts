/**
 * The measures, run by the orchestrator against a Rig (one server and its load agents), or, for
 * replay, start time and the store, on their own.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { ParleyClient } from '../src/client/parley-client';
import type { Sizes } from './config';
import { startChild } from './ipc';
import {
  BENCH_PASSWORD,
  cpuPercent,
  serverLoad,
  type AgentCounters,
  type ConnectResult,
  type FanoutVia,
  type MemorySample,
  type ServerLoad,
  type ServerSample,
  type StoreCommands,
} from './protocol';
import { machineBusyPct, machineSample, track, sleep, type Rig } from './rig';
import { spread, summarizeLatency, type LatencySummary, type Spread } from './stats';
import { errorMessage } from '../src/protocol/errors';

export interface LoadSpreads {
  /** Server process CPU, % of one core. */
  serverCpuPct: Spread;
  /** Server event loop busy (running or blocked in synchronous calls), % of wall time. */
  serverElu: Spread;
  /** Parley: its store thread busy (running SQLite or blocked in its writes and fsyncs), % of wall time. */
  storeElu: Spread;
  /** The load agents' CPU, summed (% of one core): shows whether the load generator was the limit. */
  agentCpuPct: Spread;
  /** Busy CPU on the machine that was neither the server nor the agents (% of one core): other people's work, the kernel's networking. */
  otherCpuPct: Spread;
  /** Runs measured again because other work disturbed them. */
  discardedRuns: number;
}

export interface ThroughputResult extends LoadSpreads {
  clients: number;
  /** Deliveries per second received by the clients, one value per run. */
  perSec: Spread;
  errors: number;
  drops: number;
  undrained: number;
  settings: Record<string, number>;
}

interface Snapshot {
  counters: AgentCounters[];
  server: ServerSample;
  machine: ReturnType<typeof machineSample>;
  at: number;
}

async function snapshot(rig: Rig): Promise<Snapshot> {
  const [counters, server] = await Promise.all([rig.counters(), rig.serverSample()]);
  return { counters, server, machine: machineSample(), at: performance.now() };
}

/** A run during which other work used more than this (% of one core) is measured again, at most sizes.maxReruns times per measure. */
const DISTURBED_PCT = 50;

function loadBetween(a: Snapshot, b: Snapshot): ServerLoad & { agentCpuPct: number; otherCpuPct: number } {
  const server = serverLoad(a.server, b.server);
  const agentCpuPct = b.counters.reduce((s, c, i) => s + cpuPercent(a.counters[i]!.cpu, c.cpu), 0);
  const otherCpuPct = Math.max(0, machineBusyPct(a.machine, b.machine) - server.cpuPct - agentCpuPct);
  return { ...server, agentCpuPct, otherCpuPct };
}

/** Collects the load figures of a series of measured windows. */
class LoadLog {
  private readonly rows: (ServerLoad & { agentCpuPct: number; otherCpuPct: number })[] = [];

  /** Discarded runs: other work on the machine took more than DISTURBED_PCT of a core during them. */
  discarded = 0;

  constructor(private readonly maxReruns: number) {}

  /** Records a window; false when it was disturbed and should be run again (at most maxReruns times per measure). */
  add(a: Snapshot, b: Snapshot): boolean {
    const load = loadBetween(a, b);
    if (load.otherCpuPct > DISTURBED_PCT && this.discarded < this.maxReruns) {
      this.discarded++;
      return false;
    }
    this.rows.push(load);
    return true;
  }

  spreads(): LoadSpreads {
    const of = (key: keyof LoadLog['rows'][number]): Spread => spread(this.rows.map((r) => r[key]));
    return {
      serverCpuPct: of('cpuPct'),
      serverElu: of('eluPct'),
      storeElu: of('storeEluPct'),
      agentCpuPct: of('agentCpuPct'),
      otherCpuPct: of('otherCpuPct'),
      discardedRuns: this.discarded,
    };
  }
}

function sum(counters: AgentCounters[], key: 'directDelivered' | 'broadcastDelivered' | 'errors' | 'drops'): number {
  return counters.reduce((s, c) => s + c[key], 0);
}

/** The per-run loop shared by direct and fan-out: start, settle, count for `durationMs`, stop and drain. */
async function throughputRuns(
  rig: Rig,
  sizes: Sizes,
  start: () => Promise<void>,
  delivered: (c: AgentCounters[]) => number,
): Promise<Omit<ThroughputResult, 'clients' | 'settings'>> {
  const perSec: number[] = [];
  const load = new LoadLog(sizes.maxReruns);
  let undrained = 0;
  const before = await rig.counters();
  // Run 0 is the warm-up and is not counted.
  for (let run = 0; run <= sizes.repeats; run++) {
    await start();
    await sleep(run === 0 ? sizes.warmupMs : Math.min(500, sizes.warmupMs));
    if (run > 0) {
      const a = await snapshot(rig);
      await sleep(sizes.durationMs);
      const b = await snapshot(rig);
      if (load.add(a, b)) perSec.push((delivered(b.counters) - delivered(a.counters)) / ((b.at - a.at) / 1000));
      else run--;
    }
    const stops = await Promise.all(rig.agents.map((agent) => agent.call('stopLoad', { drainMs: 10_000 }, 30_000)));
    undrained += stops.reduce((s, r) => s + r.undrained, 0);
  }
  const after = await rig.counters();
  return {
    perSec: spread(perSec),
    ...load.spreads(),
    errors: sum(after, 'errors') - sum(before, 'errors'),
    drops: sum(after, 'drops') - sum(before, 'drops'),
    undrained,
  };
}

/** 1. Direct messages: pairs 2k -> 2k+1, each sender keeping `directWindow` messages on their way. */
export async function measureDirect(rig: Rig, sizes: Sizes): Promise<ThroughputResult> {
  const result = await throughputRuns(
    rig,
    sizes,
    async () => {
      await Promise.all(rig.agents.map((agent) => agent.call('directStart', { window: sizes.directWindow })));
    },
    (c) => sum(c, 'directDelivered'),
  );
  return { clients: rig.connected, ...result, settings: { pairs: rig.connected / 2, window: sizes.directWindow } };
}

/**
 * 2. Broadcast fan-out: a few senders, each keeping `broadcastWindow` broadcasts not yet received by everyone.
 * 14. The same through a channel (`via` 'channel'): posts to #general, of which every signed-in client is a member.
 */
export async function measureFanout(rig: Rig, sizes: Sizes, via: FanoutVia = 'broadcast'): Promise<ThroughputResult> {
  const senders = Array.from({ length: Math.min(sizes.broadcastSenders, rig.connected) }, (_, i) => i * 2);
  const connected = (await rig.counters()).map((c) => c.connected);
  // The orchestrator hears from each agent when all its clients have a broadcast, and tells the sender.
  const tally = new Map<string, number>();
  rig.agents.forEach((agent) => {
    agent.on('broadcastReceived', ({ sender, seq }) => {
      const owner = rig.owner(sender);
      const waitingFor = connected.filter((n, a) => n - (a === owner ? 1 : 0) > 0).length;
      const key = `${sender}:${seq}`;
      const heard = (tally.get(key) ?? 0) + 1;
      if (heard < waitingFor) return void tally.set(key, heard);
      tally.delete(key);
      rig.agents[owner]!.call('broadcastDone', { sender, seq }).catch(() => undefined);
    });
  });
  const result = await throughputRuns(
    rig,
    sizes,
    async () => {
      await Promise.all(
        rig.agents.map((agent, a) =>
          agent.call('broadcastStart', { senders: senders.filter((s) => rig.owner(s) === a), window: sizes.broadcastWindow, via }),
        ),
      );
    },
    (c) => sum(c, 'broadcastDelivered'),
  );
  return { clients: rig.connected, ...result, settings: { senders: senders.length, window: sizes.broadcastWindow } };
}

export interface LatencyResult extends LoadSpreads {
  ratePerSec: number;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  runs: LatencySummary[];
  errors: number;
  undrained: number;
}

/** 3. Direct-message latency at a fixed offered load, open loop; sender and recipient share an agent's clock. */
export async function measureLatency(rig: Rig, sizes: Sizes): Promise<LatencyResult> {
  const before = await rig.counters();
  await startLatencyLoad(rig, sizes.latencyRatePerSec);
  await sleep(sizes.warmupMs);
  const runs: LatencySummary[] = [];
  const load = new LoadLog(sizes.maxReruns);
  await Promise.all(rig.agents.map((agent) => agent.call('latencyMark', undefined)));
  for (let run = 0; run < sizes.repeats; run++) {
    const a = await snapshot(rig);
    await sleep(sizes.durationMs);
    const b = await snapshot(rig);
    const samples = (await Promise.all(rig.agents.map((agent) => agent.call('samples', { which: 'latency' })))).flat();
    await Promise.all(rig.agents.map((agent) => agent.call('latencyMark', undefined)));
    if (load.add(a, b)) runs.push(summarizeLatency(samples));
    else run--;
  }
  const stops = await Promise.all(rig.agents.map((agent) => agent.call('stopLoad', { drainMs: 10_000 }, 30_000)));
  const after = await rig.counters();
  return {
    ratePerSec: sizes.latencyRatePerSec,
    p50: spread(runs.map((r) => r.p50)),
    p95: spread(runs.map((r) => r.p95)),
    p99: spread(runs.map((r) => r.p99)),
    runs,
    ...load.spreads(),
    errors: sum(after, 'errors') - sum(before, 'errors'),
    undrained: stops.reduce((s, r) => s + r.undrained, 0),
  };
}

/** Starts direct messages at `ratePerSec`, open loop: each agent offers its share, in proportion to the pairs it holds. */
async function startLatencyLoad(rig: Rig, ratePerSec: number): Promise<void> {
  const pairs = rig.connected / 2;
  const pairsOf = (a: number): number => Array.from({ length: pairs }, (_, k) => k).filter((k) => k % rig.agents.length === a).length;
  await Promise.all(
    rig.agents.map((agent, a) => agent.call('latencyStart', { ratePerSec: Math.round((ratePerSec * pairsOf(a)) / pairs) })),
  );
}

export interface LoadedProbeResult {
  /** The direct messages offered per second meanwhile. */
  ratePerSec: number;
  /** Broadcasts, from the sender's send to each recipient's receipt. */
  broadcast: LatencySummary;
  /** The direct messages of the load, sent to received. */
  direct: LatencySummary;
}

/** 3b. Broadcast latency under a moderate load: `count` probe broadcasts while `ratePerSec` direct messages flow (as in measure 3). */
export async function measureLoadedProbe(rig: Rig, sizes: Sizes, count: number, ratePerSec: number): Promise<LoadedProbeResult> {
  await startLatencyLoad(rig, ratePerSec);
  try {
    await sleep(sizes.warmupMs);
    await Promise.all(rig.agents.map((agent) => agent.call('latencyMark', undefined)));
    const { deliveries } = await probe(rig, sizes, rig.connected, count);
    const direct = (await Promise.all(rig.agents.map((agent) => agent.call('samples', { which: 'latency' })))).flat();
    return { ratePerSec, broadcast: deliveries, direct: summarizeLatency(direct) };
  } finally {
    await Promise.all(rig.agents.map((agent) => agent.call('stopLoad', { drainMs: 10_000 }, 30_000)));
  }
}

export interface RampStep {
  clients: number;
  /** Until the server had answered every sign-in of the step (chunk by chunk, see signInStep). */
  connectMs: number;
  /** Clients still connected when memory was read (fewer than `clients` if some dropped). */
  connected: number;
  /** Connections that dropped by themselves during this step (e.g. heartbeat timeouts while the server was busy). */
  drops: number;
  /** Every drop so far, by the client library's reason. */
  dropReasons: Record<string, number>;
  /** The whole step's sign-in, including the waits for the server and the clients to go idle between chunks. */
  stepWallMs: number;
  connectFailed: number;
  firstError?: string;
  /** Waiting for the server and agents to go idle after sign-in. */
  settleMs: number;
  memory: MemorySample;
  /** Broadcast delivery latency, from the sender's send to each recipient's receipt. */
  probe?: LatencySummary;
  /** The same broadcasts from send until the sender's acknowledgement arrived. */
  probeAck?: LatencySummary;
  /** CPU during the (last) probe, % of one core, and how many disturbed probes were taken again. */
  probeLoad?: { serverCpuPct: number; agentCpuPct: number; otherCpuPct: number; reruns: number };
  pass?: boolean;
  error?: string;
}

export type RampStop =
  'cap' | 'latency' | 'clients dropped' | 'sign-in too slow' | 'connect failed' | 'server crashed' | 'error' | 'time budget';

export interface RampResult {
  idle: MemorySample;
  steps: RampStep[];
  /** Largest step passed before the first failure (0 if the first step failed). */
  held: number;
  /** Why the ramp ended. Unless it was `latency` or `connect failed`, `held` is a lower bound. */
  stop: RampStop;
  stopDetail: string;
  /** The same in a few words, for the table. */
  stopShort: string;
  limitMs: number;
  memory: MemoryPerClient;
}

export interface MemoryPerClient {
  /** (usage at N - usage with no clients) / N, for each N in sizes.memoryAt. */
  at: { clients: number; heapPerClient: number; rssPerClient: number }[];
  /** Growth per client between the two memoryAt points: the slope. */
  slope?: { from: number; to: number; heapPerClient: number; rssPerClient: number };
}

/**
 * 4 and 5. Adds clients in steps; at each step reads the server's memory after gc and, until a step
 * has failed, measures broadcast latency at a fixed offered load (probeCount broadcasts, one every
 * probeIntervalMs). Steps up to the last memory point are always taken; past it the ramp ends at the
 * first failing step, when a step's sign-in took longer than signInLimitMs, at the cap, or when its
 * time budget is spent.
 */
export async function measureRamp(rig: Rig, sizes: Sizes, log: (line: string) => void): Promise<RampResult> {
  const t0 = performance.now();
  // Warm-up: sign-in, broadcast and the probe path once, then an idle reading with no clients.
  const warm = Math.min(sizes.rampStep, 100);
  await rig.connectUpTo(warm, sizes.stepTimeoutMs);
  await probe(rig, sizes, warm, 2);
  await rig.closeAll();
  await rig.quiesce(20_000);
  const idle = await rig.memory();

  const steps: RampStep[] = [];
  let dropsBefore = (await rig.counters()).reduce((t, c) => t + c.drops, 0);
  let held = 0;
  let failed = false;
  let stop: RampStop = 'cap';
  let stopDetail = `reached the cap of ${sizes.rampCap} clients`;
  let stopShort = 'cap';
  const lastMemoryPoint = Math.max(...sizes.memoryAt);
  for (let n = sizes.rampStep; n <= sizes.rampCap; n += sizes.rampStep) {
    if (performance.now() - t0 > sizes.rampBudgetMs) {
      stop = 'time budget';
      stopDetail = `the ramp's time budget of ${sizes.rampBudgetMs / 1000} s was spent before the step to ${n}`;
      stopShort = `time budget spent before ${n}`;
      break;
    }
    let connect: ConnectResult & { wallMs: number };
    try {
      connect = await signInStep(rig, sizes, n);
    } catch (error) {
      const message = errorMessage(error);
      stop = !rig.server.alive ? 'server crashed' : /got no answer within/.test(message) ? 'sign-in too slow' : 'connect failed';
      stopDetail = `signing in up to ${n} clients: ${message}`;
      stopShort =
        stop === 'sign-in too slow'
          ? `sign-in to ${n} > ${sizes.stepTimeoutMs / 1000} s`
          : stop === 'server crashed'
            ? `server crashed at ${n}`
            : `sign-in to ${n} failed`;
      log(`  ${rig.kind}: ${stopDetail}`);
      break;
    }
    try {
      const settle = await rig.quiesce(Math.min(60_000, sizes.stepTimeoutMs));
      const memory = await rig.memory();
      const counters = await rig.counters();
      const connected = counters.reduce((t, c) => t + c.connected, 0);
      const dropsNow = counters.reduce((t, c) => t + c.drops, 0);
      const drops = dropsNow - dropsBefore;
      dropsBefore = dropsNow;
      const dropReasons: Record<string, number> = {};
      for (const c of counters) for (const [why, k] of Object.entries(c.dropReasons)) dropReasons[why] = (dropReasons[why] ?? 0) + k;
      const step: RampStep = {
        clients: n,
        connected,
        drops,
        dropReasons,
        connectMs: connect.ms,
        stepWallMs: connect.wallMs,
        connectFailed: connect.failed,
        settleMs: settle.ms,
        memory,
        ...(connect.firstError !== undefined && { firstError: connect.firstError }),
      };
      if (!failed) {
        // A probe during which other work used over half a core is taken again (up to maxReruns times).
        for (let reruns = 0; ; reruns++) {
          const a = await snapshot(rig);
          ({ deliveries: step.probe, acks: step.probeAck } = await probe(rig, sizes, n, sizes.probeCount));
          const load = loadBetween(a, await snapshot(rig));
          step.probeLoad = { serverCpuPct: load.cpuPct, agentCpuPct: load.agentCpuPct, otherCpuPct: load.otherCpuPct, reruns };
          if (!(load.otherCpuPct > DISTURBED_PCT && reruns < sizes.maxReruns)) break;
          log(`  ${rig.kind}: other work used ${load.otherCpuPct.toFixed(0)}% of a core during the probe at ${n}; probing again`);
        }
        step.pass = connect.failed === 0 && drops === 0 && step.probe.lost === 0 && step.probe.p95 <= sizes.probeLimitMs;
        if (step.pass) {
          held = n;
        } else {
          failed = true;
          stop = connect.failed ? 'connect failed' : drops ? 'clients dropped' : 'latency';
          stopDetail = connect.failed
            ? `${connect.failed} of the clients of the step to ${n} could not sign in (${connect.firstError})`
            : drops
              ? `${drops} connections dropped by themselves during the step to ${n} (heartbeat timeouts while the server or the clients were busy)`
              : `broadcast p95 ${step.probe.p95.toFixed(0)} ms at ${n} clients${step.probe.lost ? `, ${step.probe.lost} deliveries lost` : ''}`;
          stopShort = connect.failed
            ? `sign-in to ${n} failed`
            : drops
              ? `${drops} dropped at ${n}`
              : `p95 ${step.probe.p95.toFixed(0)} ms at ${n}`;
        }
      }
      steps.push(step);
      log(
        `  ${rig.kind}: ${n} clients signed in in ${(connect.ms / 1000).toFixed(1)} s (${(connect.wallMs / 1000).toFixed(1)} s with the waits for idle)` +
          (connect.failed ? ` (${connect.failed} failed: ${connect.firstError})` : '') +
          (drops
            ? `, ${drops} dropped (${Object.entries(dropReasons)
                .map(([why, k]) => `${why}: ${k}`)
                .join(', ')})`
            : '') +
          `, heap ${(memory.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(memory.rss / 2 ** 20).toFixed(1)} MiB` +
          (step.probe ? `, broadcast p95 ${step.probe.p95.toFixed(1)} ms${step.pass ? '' : ' (over the limit)'}` : '') +
          (step.probeAck ? ` (ack p95 ${step.probeAck.p95.toFixed(1)} ms)` : ''),
      );
    } catch (error) {
      // The server died (e.g. out of memory) or stopped answering: keep the steps measured so far.
      const message = errorMessage(error);
      stop = rig.server.alive ? 'error' : 'server crashed';
      const { exitCode, signalCode } = rig.server.child;
      stopDetail = `at ${n} clients: ${message}${rig.server.alive ? '' : ` (server process exited: code ${exitCode}, signal ${signalCode})`}`;
      stopShort = `${stop} at ${n}`;
      log(`  ${rig.kind}: ${stop} ${stopDetail}`);
      break;
    }
    if (connect.opened === 0 && connect.failed > 0) break;
    if (n < lastMemoryPoint) continue;
    if (failed) break;
    if (connect.ms > sizes.signInLimitMs && n < sizes.rampCap) {
      stop = 'sign-in too slow';
      stopDetail = `signing in the ${sizes.rampStep} clients of the step to ${n} took ${(connect.ms / 1000).toFixed(0)} s (limit ${sizes.signInLimitMs / 1000} s)`;
      stopShort = `sign-in of step to ${n}: ${(connect.ms / 1000).toFixed(0)} s`;
      break;
    }
  }
  log(`  ${rig.kind}: ramp ended: ${stopDetail}`);
  return {
    idle,
    steps,
    held,
    stop,
    stopDetail,
    stopShort,
    limitMs: sizes.probeLimitMs,
    memory: memoryPerClient(idle, steps, sizes.memoryAt),
  };
}

/**
 * Signs clients in up to `n`, `signInChunk` at a time, waiting for the server and the agents to go
 * idle after each chunk (see Sizes.signInChunk). `ms` adds up the time until the server had answered
 * every sign-in of each chunk (the waits for idle are left out: they hold the clients' side of the
 * work, and a fixed detection delay); `wallMs` is the whole step.
 */
async function signInStep(rig: Rig, sizes: Sizes, n: number): Promise<ConnectResult & { wallMs: number }> {
  const t0 = performance.now();
  const deadline = t0 + sizes.stepTimeoutMs;
  let opened = 0;
  let failed = 0;
  let ms = 0;
  let firstError: string | undefined;
  for (let upTo = Math.min(n, rig.connected + sizes.signInChunk); ; upTo = Math.min(n, upTo + sizes.signInChunk)) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`signing in up to ${n} clients got no answer within ${sizes.stepTimeoutMs} ms`);
    const chunk = await rig.connectUpTo(upTo, left);
    opened += chunk.opened;
    failed += chunk.failed;
    ms += chunk.ms;
    firstError ??= chunk.firstError;
    await rig.quiesce(Math.min(30_000, Math.max(1_000, deadline - performance.now())));
    if (upTo >= n) break;
  }
  return { opened, failed, ms, wallMs: performance.now() - t0, ...(firstError !== undefined && { firstError }) };
}

async function probe(
  rig: Rig,
  sizes: Sizes,
  clients: number,
  count: number,
): Promise<{ deliveries: LatencySummary; acks: LatencySummary }> {
  await Promise.all(rig.agents.map((agent) => agent.call('probeReset', undefined)));
  const base = await rig.counters();
  const delivered = (c: AgentCounters[]): number =>
    c.reduce((s, x) => s + x.probeDelivered, 0) - base.reduce((s, x) => s + x.probeDelivered, 0);
  const connected = base.reduce((t, c) => t + c.connected, 0);
  const expected = count * (Math.min(clients, connected) - 1);
  await rig.agentOf(0).call('probeSend', { sender: 0, count, intervalMs: sizes.probeIntervalMs }, count * sizes.probeIntervalMs + 30_000);
  // Give the last broadcast time to arrive everywhere; what has not arrived by then counts as lost.
  const deadline = performance.now() + Math.max(3_000, sizes.probeLimitMs * 8);
  while (delivered(await rig.counters()) < expected && performance.now() < deadline) await sleep(50);
  const samples = (await Promise.all(rig.agents.map((agent) => agent.call('samples', { which: 'probe' })))).flat();
  const acks = await rig.agentOf(0).call('samples', { which: 'probeAck' });
  return { deliveries: summarizeLatency(samples, expected), acks: summarizeLatency(acks, count) };
}

function memoryPerClient(idle: MemorySample, steps: RampStep[], at: [number, number]): MemoryPerClient {
  // Divided by the clients actually connected when memory was read (fewer than the step's if some dropped).
  const points = at.flatMap((n) => {
    const step = steps.find((s) => s.clients === n);
    return step ? [{ clients: n, connected: step.connected, heap: step.memory.heapUsed, rss: step.memory.rss }] : [];
  });
  const result: MemoryPerClient = {
    at: points.map((p) => ({
      clients: p.clients,
      heapPerClient: (p.heap - idle.heapUsed) / p.connected,
      rssPerClient: (p.rss - idle.rss) / p.connected,
    })),
  };
  const [a, b] = points;
  if (a && b && b.connected > a.connected) {
    result.slope = {
      from: a.clients,
      to: b.clients,
      heapPerClient: (b.heap - a.heap) / (b.connected - a.connected),
      rssPerClient: (b.rss - a.rss) / (b.connected - a.connected),
    };
  }
  return result;
}

export interface ReplayRun {
  /** From starting to reconnect until the last missed message arrived. */
  totalMs: number;
  connectMs: number;
  /** The login request until its reply (the replay itself follows the reply). */
  loginMs: number;
  /** From the login reply until the last missed message arrived. */
  afterLoginMs: number;
  received: number;
}

export interface ReplayResult {
  messages: number;
  totalMs: Spread;
  afterLoginMs: Spread;
  runs: ReplayRun[];
}

/**
 * 6. A real ParleyClient misses `messages` direct messages while signed out, then connects and signs
 * in again; the server replays them at sign-in. Timed until the last one arrives.
 */
export async function measureReplay(url: string, sizes: Sizes, from: string, to: string): Promise<ReplayResult> {
  const options = { requestTimeoutMs: 30_000, socket: { reconnection: false } };
  const sender = new ParleyClient(url, options);
  await sender.connect();
  await sender.login(from, BENCH_PASSWORD);
  const runs: ReplayRun[] = [];
  try {
    // Run 0 is a warm-up with a tenth of the messages.
    for (let run = 0; run <= sizes.replayRepeats; run++) {
      const count = run === 0 ? Math.max(10, Math.round(sizes.replayMessages / 10)) : sizes.replayMessages;
      for (let i = 0; i < count; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, count - i) }, (_, k) => sender.message(to, `missed message ${i + k} of run ${run}`)),
        );
      }
      const recipient = new ParleyClient(url, options);
      let received = 0;
      let lastAt = 0;
      const all = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${received} of ${count} missed messages arrived within 30 s`)), 30_000);
        recipient.on('message', (m) => {
          if (m.from !== from) return;
          received++;
          lastAt = performance.now();
          if (received === count) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const t0 = performance.now();
      try {
        await recipient.connect();
        const t1 = performance.now();
        await recipient.login(to, BENCH_PASSWORD);
        const t2 = performance.now();
        await all;
        if (run > 0) runs.push({ totalMs: lastAt - t0, connectMs: t1 - t0, loginMs: t2 - t1, afterLoginMs: lastAt - t2, received });
        // logout() sends the `received` acknowledgements first, so the next run starts with nothing pending.
        await recipient.logout();
      } finally {
        recipient.close();
      }
    }
  } finally {
    sender.close();
  }
  return {
    messages: sizes.replayMessages,
    totalMs: spread(runs.map((r) => r.totalMs)),
    afterLoginMs: spread(runs.map((r) => r.afterLoginMs)),
    runs,
  };
}

export interface StartResult {
  /** createParleyServer + listen in a fresh process (modules already loaded). */
  startMs: Spread;
  /** Loading the modules in that fresh process, under tsx. */
  importMs: Spread;
}

export interface StartTimes {
  parleyEmpty: StartResult;
  parleySeeded: StartResult & { messages: number; seedMs: number };
  baseline: StartResult;
}

/** 7a. Cold start of the embedded server, each in a fresh process: empty data dir, and one holding stored messages. */
export async function measureStart(sizes: Sizes, tmp: string): Promise<StartTimes> {
  const storeChild = (label: string) => track(startChild<StoreCommands>(path.join(__dirname, 'store-child.ts'), label));
  const once = async (kind: 'parley' | 'baseline', dataDir: string) => {
    const child = storeChild(`${kind} start`);
    try {
      return await child.call('startTime', { kind, dataDir }, 60_000);
    } finally {
      child.kill();
      await child.exited;
    }
  };
  const repeat = async (kind: 'parley' | 'baseline', dir: () => string): Promise<StartResult> => {
    const runs = [];
    // One unrecorded start first: tsx's transform cache and the OS page cache are then warm for all.
    await once(kind, dir());
    for (let i = 0; i < sizes.startRepeats; i++) runs.push(await once(kind, dir()));
    return { startMs: spread(runs.map((r) => r.startMs)), importMs: spread(runs.map((r) => r.importMs)) };
  };

  const parleyEmpty = await repeat('parley', () => mkdtempSync(path.join(tmp, 'start-empty-')));
  const seededDir = mkdtempSync(path.join(tmp, 'start-seeded-'));
  const seeder = storeChild('seeder');
  let seedMs: number;
  try {
    seedMs = (await seeder.call('seed', { dataDir: seededDir, messages: sizes.seededMessages, batch: 1000 }, sizes.phaseTimeoutMs)).ms;
  } finally {
    seeder.kill();
    await seeder.exited;
  }
  const parleySeeded = await repeat('parley', () => seededDir);
  const baseline = await repeat('baseline', () => '');
  return { parleyEmpty, parleySeeded: { ...parleySeeded, messages: sizes.seededMessages, seedMs }, baseline };
}

export interface StoreResult {
  oneAtATimePerSec: Spread;
  groupCommitPerSec: Spread;
  sequential: number;
  concurrent: number;
}

/** 7b. saveMessage calls per second, awaited one at a time (a commit each) and all at once (group commit). */
export async function measureStore(sizes: Sizes, tmp: string): Promise<StoreResult> {
  const child = track(startChild<StoreCommands>(path.join(__dirname, 'store-child.ts'), 'store'));
  try {
    const runs = [];
    for (let i = 0; i < sizes.storeRepeats; i++) {
      const dataDir = mkdtempSync(path.join(tmp, 'store-'));
      runs.push(
        await child.call(
          'storeThroughput',
          { dataDir, sequential: sizes.storeSequential, concurrent: sizes.storeConcurrent },
          sizes.phaseTimeoutMs,
        ),
      );
    }
    return {
      oneAtATimePerSec: spread(runs.map((r) => r.oneAtATimePerSec)),
      groupCommitPerSec: spread(runs.map((r) => r.groupCommitPerSec)),
      sequential: sizes.storeSequential,
      concurrent: sizes.storeConcurrent,
    };
  } finally {
    child.kill();
    await child.exited;
  }
}
