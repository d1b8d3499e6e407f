/**
 * npm run bench [-- --quick] — Parley's server against a bare Socket.IO server (and plain ws).
 * Each server runs in its own process, driven by load-agent processes holding real connections;
 * results go to the terminal and to .bench/<mode>.json, .svg and .md. See docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureActivation } from './activation';
import { measureCatchUp, measureChannelRows } from './channels';
import { measureClient } from './client';
import { FULL, PHASES, QUICK, type Phase, type Sizes } from './config';
import { fileLimits } from './ipc';
import { measureReconnectStorm, measureReplayBound, measureSignInFlood } from './hardening';
import { measureDirect, measureFanout, measureLatency, measureRamp, measureReplay, measureStart, measureStore } from './measures';
import { BENCH_RATE_LIMIT, BENCH_SCRYPT, isDurable, SERVER_LABELS, type ServerKind } from './protocol';
import { clusterTable } from './cluster-report';
import { CLUSTER_PHASES, SETUPS } from './cluster-setups';
import { buildTable, renderMarkdown, renderTerminal } from './report';
import type { BenchResults, KindResult } from './results';
import { killAll, machineBusyPct, machineSample, Rig, sleep } from './rig';
import { renderSvg } from './svg';

const USAGE = `usage: npm run bench [-- options]

  --quick              reduced sizes, under a minute (also: npm run bench:quick)
  --only LIST          some of: ${PHASES.join(',')}
  --clients N          clients for direct, fan-out and latency (default 1000; quick 100)
  --repeats N          measured runs per throughput/latency measure (default 3)
  --duration-ms N      length of one measured run
  --cap N              largest ramp step (default 8000)
  --agents N           load agent processes (default 2)
  --ws                 also measure the plain ws floor under both (adds about 2 minutes)
  --durable            also measure the durable relay: the baseline with Parley's store (about 3 more minutes)
  --servers LIST       measure only some of: ws,baseline,durable,parley (ratios need baseline and parley)
  --cluster            instead: Parley on SQLite against 1, 2 and 3 nodes on PostgreSQL (direct, fanout, latency,
                       ramp; --only picks some), with each message's CPU and statements: into <out>/cluster-<mode>.*
  --profile            CPU-profile the server during each measure, into <out>/profiles/*.cpuprofile
                       (summarise with: node --import tsx bench/profile-summary.ts FILE)
  --set KEY=N[,KEY=N]  override any size in bench/config.ts, e.g. --set directWindow=4,probeCount=5
  --out DIR            where results go (default .bench)`;

const REPLAY_FROM = 'replay-from';
const REPLAY_TO = 'replay-to';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number`);
  return n;
}

/** Runs `fn` with a bound; on timeout or error, records it, calls `onFail` (which kills its processes) and goes on. */
async function bounded<T>(
  results: BenchResults,
  phase: string,
  ms: number,
  fn: () => Promise<T>,
  onFail?: () => void,
): Promise<T | undefined> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
    log(`  ${phase}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return value;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    results.errors.push({ phase, error: message });
    log(`  ${phase}: FAILED: ${message}`);
    onFail?.();
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Writes a cluster run's results: <out>/cluster-<mode>.json and .md. */
function finishCluster(results: BenchResults, out: string, notes: string[]): void {
  const name = `cluster-${results.meta.mode}`;
  const { date, loadAverage, cpus } = results.meta;
  const heading = `Parley cluster bench, ${date}, ${cpus} cores, load average ${loadAverage.start.map((l) => l.toFixed(1)).join(' ')} at the start, ${loadAverage.end?.map((l) => l.toFixed(1)).join(' ')} at the end`;
  const markdown = [heading, '', clusterTable(results.cluster!.setups), '', ...notes.map((n) => `- ${n}`)].join('\n');
  writeFileSync(path.join(out, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(out, `${name}.md`), markdown + '\n');
  log('');
  log(markdown);
  for (const e of results.errors) log(`! ${e.phase}: ${e.error}`);
  log(`\nresults in ${path.join(out, `${name}.json`)} and .md`);
}

function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      clients: { type: 'string' },
      repeats: { type: 'string' },
      'duration-ms': { type: 'string' },
      cap: { type: 'string' },
      agents: { type: 'string' },
      ws: { type: 'boolean' },
      durable: { type: 'boolean', default: false },
      servers: { type: 'string' },
      cluster: { type: 'boolean', default: false },
      set: { type: 'string' },
      'no-ws': { type: 'boolean' },
      profile: { type: 'boolean', default: false },
      out: { type: 'string', default: '.bench' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const base = values.quick ? QUICK : FULL;
  const clients = int(values.clients, '--clients');
  const cap = int(values.cap, '--cap');
  const sizes: Sizes = {
    ...base,
    ...(clients !== undefined && { clients: clients + (clients % 2) }),
    ...(int(values.repeats, '--repeats') !== undefined && { repeats: int(values.repeats, '--repeats')! }),
    ...(int(values['duration-ms'], '--duration-ms') !== undefined && { durationMs: int(values['duration-ms'], '--duration-ms')! }),
    ...(int(values.agents, '--agents') !== undefined && { agents: int(values.agents, '--agents')! }),
    ...(cap !== undefined && { rampCap: cap }),
  };
  for (const pair of values.set?.split(',') ?? []) {
    const [key = '', value = ''] = pair.split('=');
    if (!(key in sizes) || typeof sizes[key as keyof Sizes] !== 'number' || !Number.isFinite(Number(value))) {
      throw new Error(`--set ${pair}: not a numeric size in bench/config.ts`);
    }
    (sizes as unknown as Record<string, number>)[key] = Number(value);
  }
  const phases = (values.only?.split(',').map((s) => s.trim()) ?? [...(values.cluster ? CLUSTER_PHASES : PHASES)]) as Phase[];
  const unknown = phases.filter((p) => !PHASES.includes(p));
  if (unknown.length) throw new Error(`unknown phase ${unknown.join(', ')}; choose from ${PHASES.join(', ')}`);
  if (values.cluster && phases.some((p) => !CLUSTER_PHASES.includes(p)))
    throw new Error(`--cluster takes only ${CLUSTER_PHASES.join(', ')}`);
  const wants = (p: Phase): boolean => phases.includes(p);
  const withWs = values['no-ws'] ? false : (values.ws ?? false);
  const allKinds: ServerKind[] = [
    ...(withWs ? (['ws'] as const) : []),
    'baseline',
    ...(values.durable ? (['durable'] as const) : []),
    'parley',
  ];
  const chosen = values.servers?.split(',').map((s) => s.trim());
  if (chosen?.some((k) => !(k in SERVER_LABELS))) throw new Error(`--servers takes some of ${Object.keys(SERVER_LABELS).join(', ')}`);
  const kinds = chosen ? (Object.keys(SERVER_LABELS) as ServerKind[]).filter((k) => chosen.includes(k)) : allKinds;

  const out = path.resolve(values.out);
  mkdirSync(out, { recursive: true });
  // Data directories on the same disk as the project (not a tmpfs): fsync must cost what it costs.
  const tmp = mkdtempSync(path.join(out, 'tmp-'));
  const profiles = path.join(out, 'profiles');
  if (values.profile) mkdirSync(profiles, { recursive: true });

  // File descriptors: the server and each agent need one per client, raised per child when possible.
  const limits = fileLimits();
  const needed = Math.max(sizes.rampCap, sizes.clients) + 512;
  const notes = [
    `Parley's seeded users are hashed with scrypt N=${BENCH_SCRYPT.N}, r=${BENCH_SCRYPT.r}, p=${BENCH_SCRYPT.p} instead of the shipped N=2^17: the cost is stored in each hash, so this changes only what a sign-in costs, not messaging.`,
    `Parley's per-connection rate limit is raised to ${BENCH_RATE_LIMIT.burst.toExponential(0)} requests so that the rate limiter is not what is measured (shipped: burst 30, 10/s); its limit of connections per address (shipped: 256) and its per-address bounds on sign-in attempts and waiting password checks are lifted, as every load client comes from 127.0.0.1.`,
    'Parley runs with its embedded SQLite store as shipped (WAL, synchronous=FULL, group commit); its log is silenced. Load clients acknowledge received messages as ParleyClient does.',
    `Each server runs alone in its own process (node --expose-gc); ${sizes.agents} load-agent processes hold the clients; all on 127.0.0.1 on ${os.cpus().length} cores, so the load generator shares the machine with the server (see the agents' CPU rows).`,
    `Open files: soft ${limits.soft}, hard ${limits.hard}; needed per process about ${needed}${needed > limits.soft ? (needed > limits.hard ? ' — MORE THAN THE HARD LIMIT: raise it (ulimit -Hn) or lower --cap' : ', raised for the children with ulimit -n') : ''}.`,
  ];
  if (values.cluster) {
    notes.push(
      `Cluster run: each node is a process of its own, on one PostgreSQL of this machine (from Debian's packages, with pg_stat_statements); client i connects to node i % nodes, so a direct pair spans two nodes. "Server CPU" is the nodes' and PostgreSQL's added up; broadcast latency is measured while ${sizes.clusterLoadPerSec} direct messages/s flow.`,
    );
  }
  if (needed > limits.hard) sizes.rampCap = Math.max(sizes.rampStep, Math.floor((limits.hard - 512) / sizes.rampStep) * sizes.rampStep);

  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      mode: sizes.mode,
      phases,
      kinds: values.cluster ? ['parley'] : kinds,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      totalMemGiB: Math.round(os.totalmem() / 2 ** 30),
      openFiles: limits,
      ...(commit() !== undefined && { commit: commit()! }),
      sizes,
      notes,
      loadAverage: { start: os.loadavg() },
    },
    kinds: {},
    errors: [],
    quiet: [],
  };
  const started = performance.now();
  const compared = values.cluster ? SETUPS.map((s) => `Parley on ${s.label}`) : kinds.map((k) => SERVER_LABELS[k]);
  log(`Parley bench, ${sizes.mode} run: ${compared.join(', ')}; phases ${phases.join(', ')}`);
  for (const note of notes) log(`  * ${note}`);

  const finish = (): void => {
    results.meta.elapsedMs = performance.now() - started;
    results.meta.loadAverage.end = os.loadavg();
    if (results.cluster) {
      finishCluster(results, out, notes);
      rmSync(tmp, { recursive: true, force: true });
      return;
    }
    const rows = buildTable(results);
    results.table = rows;
    const name = sizes.mode;
    writeFileSync(path.join(out, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(path.join(out, `${name}.svg`), renderSvg(results, rows));
    const markdown = renderMarkdown(results, rows);
    writeFileSync(path.join(out, `${name}.md`), markdown + '\n\n' + notes.map((n) => `- ${n}`).join('\n') + '\n');
    log('');
    log(renderTerminal(results, rows));
    log('');
    for (const note of notes) log(`* ${note}`);
    const rerun = kinds.flatMap((k) =>
      (['direct', 'fanout', 'latency'] as const).flatMap((m) => {
        const n = results.kinds[k]?.[m]?.discardedRuns ?? 0;
        return n ? [`${k} ${m} (${n})`] : [];
      }),
    );
    if (rerun.length) log(`* runs measured again because other work used over half a core meanwhile: ${rerun.join(', ')}`);
    const busy = results.quiet.filter((q) => !(q.busyPct < 25));
    if (busy.length) {
      log('');
      log(
        `! other work kept the machine busy before: ${busy.map((q) => `${q.phase} (${q.busyPct.toFixed(0)}%)`).join(', ')}; those numbers are less trustworthy`,
      );
    }
    if (results.errors.length) {
      log('');
      for (const e of results.errors) log(`! ${e.phase}: ${e.error}`);
    }
    log('');
    log(
      `${sizes.mode} run took ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${path.join(out, `${name}.json`)}, .svg and .md`,
    );
    rmSync(tmp, { recursive: true, force: true });
  };

  // The whole bench is bounded too: past the deadline everything is killed and what was measured is written.
  const overallMs = sizes.overallTimeoutMs * (values.cluster ? SETUPS.length : 1);
  const overall = setTimeout(() => {
    results.errors.push({ phase: 'bench', error: `the whole bench passed its bound of ${overallMs / 1000} s` });
    killAll();
    finish();
    process.exit(2);
  }, overallMs);
  process.on('SIGINT', () => {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profileFile = (kind: ServerKind, phase: Phase): string | undefined =>
    values.profile ? path.join(profiles, `${stamp}-${kind}-${phase}.cpuprofile`) : undefined;
  /** Waits (bounded) until the machine is quiet apart from the bench, and records what it saw. */
  const waitForQuiet = async (phase: string): Promise<void> => {
    const t0 = performance.now();
    let busyPct: number;
    do {
      const a = machineSample();
      await sleep(sizes.quietWaitMs > 0 ? 1_000 : 200);
      busyPct = machineBusyPct(a, machineSample());
    } while (!(busyPct < 25) && performance.now() - t0 < sizes.quietWaitMs);
    const waitedMs = performance.now() - t0;
    results.quiet.push({ phase, busyPct, waitedMs });
    if (busyPct >= 25) log(`  (the machine is busy with other work: ${busyPct.toFixed(0)}% of a core; measuring anyway)`);
  };
  if (values.cluster) {
    // Loaded only here: it starts a PostgreSQL.
    const { measureCluster } = await import('./cluster');
    // Set at once, so that a run past its bound is written as a cluster run too.
    results.cluster = { setups: [] };
    await measureCluster(
      {
        sizes,
        tmp,
        wants,
        log,
        bounded: (phase, ms, fn, onFail) => bounded(results, phase, ms, fn, onFail),
        waitForQuiet,
      },
      results.cluster,
    );
    clearTimeout(overall);
    finish();
    return results.errors.length ? 1 : 0;
  }

  const kindResult = (kind: ServerKind): KindResult => (results.kinds[kind] ??= { kind, label: SERVER_LABELS[kind] });

  // Block A: one server per kind with `clients` signed in: direct, fan-out, latency, then (Parley) replay.
  if (wants('direct') || wants('fanout') || wants('latency') || wants('replay') || wants('channels')) {
    for (const kind of kinds) {
      const k = kindResult(kind);
      log(`\n${SERVER_LABELS[kind]}: ${sizes.clients} clients`);
      const rig = await bounded(results, `${kind} start`, 180_000, () =>
        Rig.start(kind, sizes, {
          users: sizes.clients,
          ...(kind === 'parley' && { extraUsers: [REPLAY_FROM, REPLAY_TO] }),
          ...(isDurable(kind) && { dataDir: mkdtempSync(path.join(tmp, `${kind}-`)) }),
        }),
      );
      if (!rig) continue;
      const kill = (): void => rig.kill();
      const connect = await bounded(
        results,
        `${kind} connect`,
        sizes.phaseTimeoutMs,
        () => rig.connectUpTo(sizes.clients, sizes.phaseTimeoutMs),
        kill,
      );
      if (connect) {
        k.connect = {
          clients: sizes.clients,
          ms: connect.ms,
          failed: connect.failed,
          ...(connect.firstError !== undefined && { firstError: connect.firstError }),
        };
        await rig.quiesce(30_000).catch(() => undefined);
        const measure = async <T>(phase: Phase, fn: () => Promise<T>): Promise<T | undefined> => {
          await waitForQuiet(`${kind} ${phase}`);
          return bounded(results, `${kind} ${phase}`, sizes.phaseTimeoutMs, () => rig.profiled(profileFile(kind, phase), fn), kill);
        };
        if (wants('direct')) k.direct = await measure('direct', () => measureDirect(rig, sizes));
        if (wants('fanout')) k.fanout = await measure('fanout', () => measureFanout(rig, sizes));
        if (wants('latency')) k.latency = await measure('latency', () => measureLatency(rig, sizes));
        // The channel rows compare with the baseline's broadcast fan-out and with Parley's replay: they need both.
        if (wants('channels') && kind === 'baseline' && !k.fanout) k.fanout = await measure('fanout', () => measureFanout(rig, sizes));
        if (wants('channels') && kind === 'parley') k.channelFanout = await measure('channels', () => measureFanout(rig, sizes, 'channel'));
        if ((wants('replay') || wants('channels')) && kind === 'parley') {
          k.replay = await bounded(
            results,
            'parley replay',
            sizes.phaseTimeoutMs,
            async () => {
              await rig.closeAll();
              await rig.quiesce(30_000);
              await waitForQuiet('parley replay');
              return rig.profiled(profileFile(kind, 'replay'), () => measureReplay(rig.url, sizes, REPLAY_FROM, REPLAY_TO));
            },
            kill,
          );
        }
        if (wants('channels') && kind === 'parley') {
          k.catchUp = await bounded(
            results,
            'parley catch-up',
            sizes.phaseTimeoutMs,
            async () => {
              await waitForQuiet('parley catch-up');
              return measureCatchUp(rig.url, sizes, REPLAY_FROM, REPLAY_TO);
            },
            kill,
          );
        }
      }
      await rig.stop().catch(() => rig.kill());
    }
  }

  // Block B: a fresh server per kind for the ramp: memory per client and clients held under the latency limit.
  if (wants('ramp')) {
    for (const kind of kinds) {
      log(`\n${SERVER_LABELS[kind]}: ramp to ${sizes.rampCap} clients in steps of ${sizes.rampStep}`);
      const rig = await bounded(results, `${kind} ramp start`, 180_000, () =>
        Rig.start(kind, sizes, {
          users: sizes.rampCap,
          ...(isDurable(kind) && { dataDir: mkdtempSync(path.join(tmp, `${kind}-ramp-`)) }),
        }),
      );
      if (!rig) continue;
      await waitForQuiet(`${kind} ramp`);
      const ramp = await bounded(
        results,
        `${kind} ramp`,
        // measureRamp keeps to rampBudgetMs itself; this outer bound only catches a hang.
        sizes.rampBudgetMs + sizes.stepTimeoutMs + 120_000,
        () => rig.profiled(profileFile(kind, 'ramp'), () => measureRamp(rig, sizes, log)),
        () => rig.kill(),
      );
      if (ramp) kindResult(kind).ramp = ramp;
      await rig.stop().catch(() => rig.kill());
    }
  }

  if (wants('start')) {
    log('\nServer start time');
    await waitForQuiet('start time');
    const start = await bounded(results, 'start time', sizes.phaseTimeoutMs * 2, () => measureStart(sizes, tmp), killAll);
    if (start) results.start = start;
  }
  if (wants('store')) {
    log('\nStore throughput');
    await waitForQuiet('store throughput');
    const store = await bounded(results, 'store throughput', sizes.phaseTimeoutMs, () => measureStore(sizes, tmp), killAll);
    if (store) results.store = store;
  }
  if (wants('channels')) {
    log('\nRows per channel message');
    const rows = await bounded(results, 'channel rows', sizes.phaseTimeoutMs * 2, () => measureChannelRows(sizes, tmp), killAll);
    if (rows) results.channelRows = rows;
  }
  const hardening = async <T>(phase: Phase, title: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!wants(phase)) return undefined;
    log(`\n${title}`);
    await waitForQuiet(title);
    return bounded(results, title, sizes.phaseTimeoutMs * 10, fn, killAll);
  };
  const flood = await hardening('flood', 'Hardening: sign-in under a login flood', () => measureSignInFlood(sizes, tmp));
  const bigReplay = await hardening('bigreplay', 'Hardening: a big replay', () => measureReplayBound(sizes, tmp));
  const storm = await hardening('storm', 'Hardening: a reconnect storm', () => measureReconnectStorm(sizes, tmp));
  if (flood || bigReplay || storm) {
    results.hardening = { ...(flood && { flood }), ...(bigReplay && { replay: bigReplay }), ...(storm && { storm }) };
  }
  if (wants('client')) {
    log('\nClient side: bundles and rendering');
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'ignore' }); // what the .vsix would ship
    await waitForQuiet('client');
    const client = await bounded(
      results,
      'client',
      sizes.phaseTimeoutMs,
      () => measureClient(sizes.renderMessages, sizes.repeats),
      killAll,
    );
    if (client) results.client = client;
  }
  // A real VS Code per window: about 20 s each, so --quick takes it only when asked for by name.
  if (wants('activation') && (sizes.mode === 'full' || values.only !== undefined)) {
    log('\nExtension activation in a real VS Code (code-server)');
    await waitForQuiet('activation');
    const activation = await bounded(
      results,
      'activation',
      sizes.phaseTimeoutMs * 5,
      () => measureActivation(sizes.repeats, out, log),
      killAll,
    );
    if (activation) results.activation = activation;
  }

  clearTimeout(overall);
  finish();
  return results.errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAll();
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
