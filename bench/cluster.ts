/**
 * npm run bench -- --cluster: Parley on SQLite (one node) against clusters of one, two and three nodes on one
 * PostgreSQL, each node a process of its own, with the clients spread over the nodes (client i on node i % nodes, so
 * that the two clients of a direct pair are on different nodes). Throughput, fan-out and broadcast latency are
 * ratios against the SQLite node; each measure also reports what its messages cost: CPU of every node, of
 * PostgreSQL and of the load agents, and PostgreSQL's statements. See docs/scaling.md ("Sizing a cluster").
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { configurePostgres, createTestDatabase, POSTGRES_MISSING } from '../test/helpers/postgres';
import type { Phase, Sizes } from './config';
import {
  measureDirect,
  measureFanout,
  measureLoadedProbe,
  measureRamp,
  type LoadedProbeResult,
  type RampResult,
  type ThroughputResult,
} from './measures';
import { postgresCpu, statementCounter, type StatementCounter, type StatementCounts } from './postgres-stats';
import { Rig } from './rig';
import { SETUPS, type Setup } from './cluster-setups';

/** What a measure cost over its whole length (warm-up and drain included). */
export interface Cost {
  /** Messages sent (direct messages, posts, broadcasts) and messages received by the clients. */
  sent: number;
  received: number;
  wallMs: number;
  /** CPU milliseconds of each part: `node 0`, `node 1`..., `postgres`, `agents`. */
  cpuMs: Record<string, number>;
  /** Statements PostgreSQL ran on the cluster's database (pg_stat_statements). */
  statements?: StatementCounts;
}

export interface SetupResult {
  setup: Setup;
  direct?: ThroughputResult & { cost: Cost };
  fanout?: ThroughputResult & { cost: Cost };
  latency?: LoadedProbeResult & { cost: Cost };
  ramp?: RampResult;
}

export interface ClusterResult {
  /** Filled in measure by measure, so that a run past its bound still reports what it measured. */
  setups: SetupResult[];
}

export interface ClusterContext {
  sizes: Sizes;
  tmp: string;
  wants: (phase: Phase) => boolean;
  log: (line: string) => void;
  /** Runs a measure with a time bound; on failure records it, calls onFail and returns undefined. */
  bounded: <T>(phase: string, ms: number, fn: () => Promise<T>, onFail?: () => void) => Promise<T | undefined>;
  waitForQuiet: (phase: string) => Promise<void>;
}

let configured = false;

/** A new database on the bench's PostgreSQL, which counts statements (started at the first call, stopped at exit). */
async function clusterDatabase(): Promise<string> {
  if (POSTGRES_MISSING) throw new Error(POSTGRES_MISSING);
  if (!configured) configurePostgres(['shared_preload_libraries=pg_stat_statements']);
  configured = true;
  return createTestDatabase();
}

interface PartSample {
  cpuMicros: Record<string, number>;
  sent: number;
  received: number;
  at: number;
}

async function partSample(rig: Rig, pgCpu: (() => number) | undefined): Promise<PartSample> {
  const [nodes, counters] = await Promise.all([rig.nodeSamples(), rig.counters()]);
  const cpuMicros: Record<string, number> = {};
  nodes.forEach((s, i) => (cpuMicros[`node ${i}`] = s.cpu.cpuMicros));
  if (pgCpu) cpuMicros.postgres = pgCpu();
  cpuMicros.agents = counters.reduce((t, c) => t + c.cpu.cpuMicros, 0);
  return {
    cpuMicros,
    sent: counters.reduce((t, c) => t + c.sent, 0),
    received: counters.reduce((t, c) => t + c.received, 0),
    at: performance.now(),
  };
}

/** Runs `fn` and adds what it cost. */
async function costed<T extends object>(
  rig: Rig,
  pgCpu: (() => number) | undefined,
  statements: StatementCounter | undefined,
  fn: () => Promise<T>,
): Promise<T & { cost: Cost }> {
  await statements?.reset();
  const a = await partSample(rig, pgCpu);
  const result = await fn();
  const b = await partSample(rig, pgCpu);
  const cpuMs = Object.fromEntries(Object.entries(b.cpuMicros).map(([part, us]) => [part, (us - a.cpuMicros[part]!) / 1000]));
  const counted = await statements?.read();
  return {
    ...result,
    cost: { sent: b.sent - a.sent, received: b.received - a.received, wallMs: b.at - a.at, cpuMs, ...(counted && { statements: counted }) },
  };
}

/** A fresh database for one rig of a PostgreSQL setup, with what reads its costs. */
async function database(): Promise<{ url: string; pgCpu: () => number; statements: StatementCounter | undefined }> {
  const url = await clusterDatabase();
  return { url, pgCpu: await postgresCpu(url), statements: await statementCounter(url) };
}

/** Fills in `result` measure by measure. */
async function measureSetup(ctx: ClusterContext, result: SetupResult): Promise<void> {
  const { sizes, wants, log } = ctx;
  const { setup } = result;
  const startRig = async (users: number, name: string): Promise<{ rig: Rig; db: Awaited<ReturnType<typeof database>> | undefined }> => {
    const db = setup.postgres ? await database() : undefined;
    const rig = await Rig.start('parley', sizes, {
      users,
      dataDir: mkdtempSync(path.join(ctx.tmp, `${setup.key}-${name}-`)),
      ...(db && { cluster: { url: db.url, nodes: setup.nodes, cpuMicros: db.pgCpu } }),
    });
    return { rig, db };
  };

  if (wants('direct') || wants('fanout') || wants('latency')) {
    log(`\n${setup.label}: ${sizes.clients} clients`);
    const started = await ctx.bounded(`${setup.key} start`, 180_000, () => startRig(sizes.clients, 'load'));
    if (started) {
      const { rig, db } = started;
      const kill = (): void => rig.kill();
      const connect = await ctx.bounded(
        `${setup.key} connect`,
        sizes.phaseTimeoutMs,
        () => rig.connectUpTo(sizes.clients, sizes.phaseTimeoutMs),
        kill,
      );
      if (connect) {
        if (connect.failed) log(`  ${connect.failed} clients failed to sign in: ${connect.firstError}`);
        await rig.quiesce(30_000).catch(() => undefined);
        const measure = async <T extends object>(phase: Phase, fn: () => Promise<T>): Promise<(T & { cost: Cost }) | undefined> => {
          if (!wants(phase)) return undefined;
          await ctx.waitForQuiet(`${setup.key} ${phase}`);
          return ctx.bounded(`${setup.key} ${phase}`, sizes.phaseTimeoutMs, () => costed(rig, db?.pgCpu, db?.statements, fn), kill);
        };
        result.direct = await measure('direct', () => measureDirect(rig, sizes));
        result.fanout = await measure('fanout', () => measureFanout(rig, sizes, 'channel'));
        result.latency = await measure('latency', () => measureLoadedProbe(rig, sizes, sizes.probeCount * 5, sizes.clusterLoadPerSec));
      }
      await rig.stop().catch(() => rig.kill());
      await db?.statements?.close();
    }
  }

  if (wants('ramp')) {
    log(`\n${setup.label}: ramp to ${sizes.rampCap} clients in steps of ${sizes.rampStep}`);
    const started = await ctx.bounded(`${setup.key} ramp start`, 180_000, () => startRig(sizes.rampCap, 'ramp'));
    if (started) {
      const { rig, db } = started;
      await ctx.waitForQuiet(`${setup.key} ramp`);
      result.ramp = await ctx.bounded(
        `${setup.key} ramp`,
        sizes.rampBudgetMs + sizes.stepTimeoutMs + 120_000,
        () => measureRamp(rig, sizes, log),
        () => rig.kill(),
      );
      await rig.stop().catch(() => rig.kill());
      await db?.statements?.close();
    }
  }
}

export async function measureCluster(ctx: ClusterContext, into: ClusterResult): Promise<void> {
  for (const setup of SETUPS) {
    const result: SetupResult = { setup };
    into.setups.push(result);
    await measureSetup(ctx, result);
  }
}
