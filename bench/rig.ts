/**
 * The orchestrator's handle on one server under test and its load agents, each a process of its own.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Sizes } from './config';
import { startChild, type Rpc } from './ipc';
import {
  cpuPercent,
  type AgentCommands,
  type AgentCounters,
  type AgentEvents,
  type ConnectResult,
  type ServerSample,
  type MemorySample,
  type ServerCommands,
  type ServerKind,
} from './protocol';

export type ServerRpc = Rpc<ServerCommands>;
export type AgentRpc = Rpc<AgentCommands, AgentEvents>;

/** Every child process the bench started, so that a timeout or Ctrl-C can end them all. */
const children = new Set<{ kill(): void }>();

export function track<T extends { kill(): void; exited: Promise<unknown> }>(child: T): T {
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

export function killAll(): void {
  for (const child of children) child.kill();
}

/** Machine-wide CPU time from /proc/stat (Linux), to tell how busy the machine was besides the bench. */
export function machineSample(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Busy CPU of the whole machine between two samples, in % of one core. */
export function machineBusyPct(a: ReturnType<typeof machineSample>, b: ReturnType<typeof machineSample>): number {
  if (!a || !b || b.total === a.total) return NaN;
  return ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length * 100;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RigOptions {
  /** Parley's users u0..u(users-1) are seeded; also sizes the file-descriptor limit. */
  users: number;
  extraUsers?: string[];
  dataDir?: string;
  /**
   * Parley in cluster mode: `nodes` server processes on the PostgreSQL database `url` (each with a data directory
   * under dataDir); `cpuMicros` reads that PostgreSQL's CPU, which counts as the server's with the nodes'.
   */
  cluster?: { url: string; nodes: number; cpuMicros: () => number };
}

export class Rig {
  private connectedUpTo = 0;

  private constructor(
    readonly kind: ServerKind,
    readonly sizes: Sizes,
    /** One, or the nodes of a cluster. */
    readonly servers: ServerRpc[],
    readonly agents: AgentRpc[],
    /** Each server's; client i connects to urls[i % urls.length]. */
    readonly urls: string[],
    readonly seedMs: number,
    private readonly extraCpuMicros?: () => number,
  ) {}

  /** The server, or a cluster's first node. */
  get server(): ServerRpc {
    return this.servers[0]!;
  }

  get url(): string {
    return this.urls[0]!;
  }

  static async start(kind: ServerKind, sizes: Sizes, options: RigOptions): Promise<Rig> {
    const { cluster } = options;
    const servers = Array.from({ length: cluster?.nodes ?? 1 }, (_, i) =>
      track(
        startChild<ServerCommands>(path.join(__dirname, 'server-child.ts'), cluster ? `${kind} node ${i}` : `${kind} server`, {
          nodeFlags: ['--expose-gc'],
          files: options.users + 512,
        }),
      ),
    );
    const agents = Array.from({ length: sizes.agents }, (_, a) =>
      track(
        startChild<AgentCommands, AgentEvents>(path.join(__dirname, 'agent.ts'), `${kind} load agent ${a}`, {
          files: Math.ceil(options.users / sizes.agents) + 512,
        }),
      ),
    );
    try {
      // One after the other: the first seeds the users, which every node then loads as it starts.
      const started = [];
      for (const [i, server] of servers.entries()) {
        const dataDir = cluster && options.dataDir !== undefined ? path.join(options.dataDir, `node-${i}`) : options.dataDir;
        if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
        started.push(
          await server.call(
            'start',
            {
              kind,
              users: i === 0 ? options.users : 0,
              extraUsers: i === 0 ? (options.extraUsers ?? []) : [],
              ...(dataDir !== undefined && { dataDir }),
              ...(cluster && { postgres: cluster.url }),
            },
            120_000,
          ),
        );
      }
      const urls = started.map((s) => `http://127.0.0.1:${s.port}`);
      await Promise.all(
        agents.map((agent, agentIndex) =>
          agent.call(
            'init',
            {
              kind,
              url: urls[0]!,
              urls,
              agentIndex,
              agents: agents.length,
              bodyBytes: sizes.bodyBytes,
              connectConcurrency: sizes.connectConcurrency,
            },
            60_000,
          ),
        ),
      );
      return new Rig(kind, sizes, servers, agents, urls, started[0]!.seedMs, cluster?.cpuMicros);
    } catch (error) {
      for (const server of servers) server.kill();
      for (const agent of agents) agent.kill();
      throw error;
    }
  }

  get connected(): number {
    return this.connectedUpTo;
  }

  /** The agent that holds client `index`: pairs (2k, 2k+1) stay together. */
  owner(index: number): number {
    return Math.floor(index / 2) % this.agents.length;
  }

  agentOf(index: number): AgentRpc {
    return this.agents[this.owner(index)]!;
  }

  /** Connects and signs in clients until `n` are (clients connectedUpTo..n-1). */
  async connectUpTo(n: number, timeoutMs: number): Promise<ConnectResult> {
    const byAgent: number[][] = this.agents.map(() => []);
    for (let i = this.connectedUpTo; i < n; i++) byAgent[this.owner(i)]!.push(i);
    const t0 = performance.now();
    const results = await Promise.all(this.agents.map((agent, a) => agent.call('connect', { indexes: byAgent[a]! }, timeoutMs)));
    this.connectedUpTo = Math.max(this.connectedUpTo, n);
    const firstError = results.find((r) => r.firstError !== undefined)?.firstError;
    return {
      opened: results.reduce((s, r) => s + r.opened, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      ms: performance.now() - t0,
      ...(firstError !== undefined && { firstError }),
    };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.call('closeAll', undefined, 60_000)));
    this.connectedUpTo = 0;
  }

  counters(): Promise<AgentCounters[]> {
    return Promise.all(this.agents.map((agent) => agent.call('counters', undefined, 30_000)));
  }

  /** Each server's (each node's) own sample. */
  nodeSamples(): Promise<ServerSample[]> {
    return Promise.all(this.servers.map((server) => server.call('sample', undefined, 30_000)));
  }

  /**
   * The server's CPU and event loop; of a cluster, the nodes' CPU and PostgreSQL's added up (% of one core
   * each, so it may pass 100) and their event loops' time added up (their mean utilization).
   */
  async serverSample(): Promise<ServerSample> {
    const samples = await this.nodeSamples();
    if (samples.length === 1 && !this.extraCpuMicros) return samples[0]!;
    const total = (pick: (s: ServerSample) => number): number => samples.reduce((t, s) => t + pick(s), 0);
    return {
      cpu: { cpuMicros: total((s) => s.cpu.cpuMicros) + (this.extraCpuMicros?.() ?? 0), at: samples[0]!.cpu.at },
      elu: { idle: total((s) => s.elu.idle), active: total((s) => s.elu.active) },
    };
  }

  /** The server's memory after gc; of a cluster, its nodes' added up. */
  async memory(): Promise<MemorySample & { gc: boolean }> {
    const all = await Promise.all(this.servers.map((server) => server.call('memory', undefined, 60_000)));
    const total = (key: keyof MemorySample): number => all.reduce((t, m) => t + m[key], 0);
    return {
      heapUsed: total('heapUsed'),
      heapTotal: total('heapTotal'),
      rss: total('rss'),
      external: total('external'),
      arrayBuffers: total('arrayBuffers'),
      gc: all.every((m) => m.gc),
    };
  }

  /**
   * Waits until the server and the agents are idle (server under 5% of a core, agents under 15%,
   * twice in a row over 300 ms), so that memory is read after sign-in work has finished.
   */
  async quiesce(maxMs: number): Promise<{ ms: number; quiet: boolean }> {
    const t0 = performance.now();
    let calm = 0;
    let server = (await this.serverSample()).cpu;
    let agents = (await this.counters()).map((c) => c.cpu);
    while (performance.now() - t0 < maxMs) {
      await sleep(300);
      const server2 = (await this.serverSample()).cpu;
      const agents2 = (await this.counters()).map((c) => c.cpu);
      const quiet = cpuPercent(server, server2) < 5 && agents2.every((a, i) => cpuPercent(agents[i]!, a) < 15);
      if (process.env.BENCH_DEBUG) {
        const agentPct = agents2.map((a, i) => cpuPercent(agents[i]!, a).toFixed(0)).join('/');
        console.error(`quiesce: server ${cpuPercent(server, server2).toFixed(0)}%, agents ${agentPct}%`);
      }
      server = server2;
      agents = agents2;
      calm = quiet ? calm + 1 : 0;
      if (calm >= 2) return { ms: performance.now() - t0, quiet: true };
    }
    return { ms: performance.now() - t0, quiet: false };
  }

  /** Ends the server (it exits by itself, so that a profile is written), then the agents. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop(10_000, 'stop')));
    for (const agent of this.agents) agent.kill();
    await Promise.all(this.agents.map((agent) => agent.exited));
  }

  /** Runs `fn` under the server's CPU profiler when `file` is given. */
  async profiled<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (!file) return fn();
    await this.server.call('profileStart', undefined);
    try {
      return await fn();
    } finally {
      await this.server.call('profileStop', { file }, 120_000).catch(() => undefined);
    }
  }

  kill(): void {
    for (const agent of this.agents) agent.kill();
    for (const server of this.servers) server.kill();
  }
}
