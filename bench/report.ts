/** Turns results into the table: rows with a value per server, the Parley/baseline ratio and the goal. */
import type { BenchResults, KindResult, Row } from './results';
import { SERVER_LABELS, type ServerKind } from './protocol';
import { ratio, spread, type Spread } from './stats';
import type { ThroughputResult } from './measures';

const KiB = 1024;

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
const ms = (n: number): string =>
  !Number.isFinite(n) ? String(n) : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US');
const kib = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / KiB).toFixed(1) : String(bytes));

function spreadText(s: Spread | undefined, format: (n: number) => string): string | undefined {
  if (!s) return undefined;
  if (s.runs.length <= 1 || s.min === s.max) return format(s.median);
  return `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

interface Spec {
  measure: string;
  get: (k: KindResult) => Spread | number | undefined;
  format: (n: number) => string;
  /** 'higher': the ratio should be at least `goal`; 'lower': at most `goal`. */
  better?: 'higher' | 'lower';
  goal?: number;
  goalText?: string;
  chartLabel?: string;
}

function median(v: Spread | number | undefined): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? v : v.median;
}

function kindRow(results: BenchResults, spec: Spec): Row {
  const values: Row['values'] = {};
  for (const kind of results.meta.kinds) {
    const k = results.kinds[kind];
    const v = k ? spec.get(k) : undefined;
    if (v === undefined) continue;
    values[kind] = typeof v === 'number' ? spec.format(v) : spreadText(v, spec.format);
  }
  const p = results.kinds.parley ? median(spec.get(results.kinds.parley)) : undefined;
  const b = results.kinds.baseline ? median(spec.get(results.kinds.baseline)) : undefined;
  const r = ratio(p, b);
  const d = results.kinds.durable ? ratio(p, median(spec.get(results.kinds.durable))) : null;
  let met: boolean | null = null;
  if (r !== null && spec.goal !== undefined) met = spec.better === 'lower' ? r <= spec.goal : r >= spec.goal;
  return {
    measure: spec.measure,
    values,
    ratio: spec.better ? r : null,
    ratioText: r === null || !spec.better ? '—' : `${r.toFixed(2)}x`,
    ...(d !== null && spec.better && { durableRatioText: `${d.toFixed(2)}x` }),
    goal: spec.goalText ?? '',
    met,
    ...(spec.chartLabel !== undefined && {
      chart: { label: spec.chartLabel, lowerIsBetter: spec.better === 'lower', ...(spec.goal !== undefined && { goal: spec.goal }) },
    }),
  };
}

/** A spread of a figure that a server does not have (all NaN) is left out. */
function measured(s: Spread | undefined): Spread | undefined {
  return s && Number.isFinite(s.median) ? s : undefined;
}

/** Deliveries per second of server CPU, run by run: throughput with the load generator's limit taken out. */
function perCpuSecond(t: ThroughputResult | undefined): Spread | undefined {
  if (!t) return undefined;
  return spread(t.perSec.runs.map((v, i) => v / ((t.serverCpuPct.runs[i] ?? NaN) / 100)));
}

/** What the machine was doing during a throughput measure: who was busy, the server's threads included. */
function loadRows(get: (k: KindResult) => ThroughputResult | undefined, what: string): Spec[] {
  return [
    {
      measure: `   ${what} per server CPU-second`,
      get: (k) => perCpuSecond(get(k)),
      format: int,
      better: 'higher',
      chartLabel: `${what === 'direct messages' ? 'direct msgs' : 'broadcast deliv.'} per server CPU-s`,
    },
    { measure: '   server CPU (% of one core)', get: (k) => get(k)?.serverCpuPct, format: int },
    { measure: '   server event loop busy (% of time, incl. blocked in sync I/O)', get: (k) => get(k)?.serverElu, format: int },
    {
      measure: '   server store thread busy (% of time, incl. blocked in writes and fsync)',
      get: (k) => measured(get(k)?.storeElu),
      format: int,
    },
    { measure: '   load agents CPU (% of one core, summed)', get: (k) => get(k)?.agentCpuPct, format: int },
    { measure: '   other CPU on the machine (% of one core)', get: (k) => get(k)?.otherCpuPct, format: int },
  ];
}

export function buildTable(results: BenchResults): Row[] {
  const { sizes } = results.meta;
  const rows: Row[] = [];
  const clients = sizes.clients.toLocaleString('en-US');
  const [m1, m2] = sizes.memoryAt.map((n) => n.toLocaleString('en-US'));

  const specs: Spec[] = [
    {
      measure: `1. Direct messages/s delivered (${clients} clients, ${sizes.clients / 2} pairs)`,
      get: (k) => k.direct?.perSec,
      format: int,
      better: 'higher',
      goal: 0.8,
      goalText: '>= 0.8x',
      chartLabel: 'direct msgs/s',
    },
    ...loadRows((k) => k.direct, 'direct messages'),
    {
      measure: `2. Broadcast deliveries/s (${clients} clients)`,
      get: (k) => k.fanout?.perSec,
      format: int,
      better: 'higher',
      goal: 0.8,
      goalText: '>= 0.8x',
      chartLabel: 'broadcast deliveries/s',
    },
    ...loadRows((k) => k.fanout, 'broadcast deliveries'),
    ...(['p50', 'p95', 'p99'] as const).map((p): Spec => ({
      measure: `${p === 'p50' ? '3.' : '  '} Direct latency ${p} at ${sizes.latencyRatePerSec.toLocaleString('en-US')} msg/s offered (ms)`,
      get: (k) => k.latency?.[p],
      format: ms,
      better: 'lower',
      chartLabel: `direct latency ${p}`,
    })),
    ...sizes.memoryAt.map((n, i): Spec => ({
      measure: `${i === 0 ? '4.' : '  '} Heap per signed-in client at ${[m1, m2][i]} (KiB)`,
      get: (k) => k.ramp?.memory.at.find((a) => a.clients === n)?.heapPerClient,
      format: kib,
      better: 'lower',
      goal: 1.3,
      goalText: '<= 1.3x',
      chartLabel: `heap/client @${n}`,
    })),
    {
      measure: `   heap slope ${m1} -> ${m2} (KiB per added client)`,
      get: (k) => k.ramp?.memory.slope?.heapPerClient,
      format: kib,
      better: 'lower',
      goal: 1.3,
      goalText: '<= 1.3x',
      chartLabel: 'heap slope/client',
    },
    ...sizes.memoryAt.map((n, i): Spec => ({
      measure: `   RSS per signed-in client at ${[m1, m2][i]} (KiB)`,
      get: (k) => k.ramp?.memory.at.find((a) => a.clients === n)?.rssPerClient,
      format: kib,
      better: 'lower',
    })),
    {
      measure: `   RSS slope ${m1} -> ${m2} (KiB per added client)`,
      get: (k) => k.ramp?.memory.slope?.rssPerClient,
      format: kib,
      better: 'lower',
      chartLabel: 'RSS slope/client',
    },
    {
      measure: `   time to sign in ${m2} clients (s, until the server had answered each)`,
      get: (k) => {
        const steps = k.ramp?.steps.filter((s) => s.clients <= sizes.memoryAt[1]);
        return steps?.length && steps.at(-1)?.clients === sizes.memoryAt[1] ? steps.reduce((s, x) => s + x.connectMs, 0) : undefined;
      },
      format: (n) => (n / 1000).toFixed(1),
      better: 'lower',
    },
    {
      measure: `5. Clients held, broadcast p95 <= ${sizes.probeLimitMs} ms (steps of ${sizes.rampStep.toLocaleString('en-US')}, cap ${sizes.rampCap.toLocaleString('en-US')})`,
      get: (k) => k.ramp?.held,
      format: int,
      better: 'higher',
      goal: 1,
      goalText: ">= baseline's",
      chartLabel: 'clients held',
    },
  ];
  const at = (k: KindResult, n: number) => k.ramp?.steps.find((s) => s.clients === n);
  specs.push(
    {
      measure: `   broadcast p95 at ${m1} clients, send to each delivery (ms)`,
      get: (k) => at(k, sizes.memoryAt[0])?.probe?.p95,
      format: ms,
      better: 'lower',
    },
    {
      measure: `   broadcast p95 at ${m1} clients, send to the sender's ack (ms)`,
      get: (k) => at(k, sizes.memoryAt[0])?.probeAck?.p95,
      format: ms,
      better: 'lower',
    },
  );
  for (const spec of specs) rows.push(kindRow(results, spec));
  // A ramp that ended for another reason than the latency limit gives a lower bound: say so.
  const held = rows.find((r) => r.measure.startsWith('5.'));
  const why: Row = { measure: '   why the ramp ended', values: {}, ratio: null, ratioText: '—', goal: '', met: null };
  for (const kind of results.meta.kinds) {
    const ramp = results.kinds[kind]?.ramp;
    if (!ramp) continue;
    const lowerBound = ramp.stop === 'cap' || ramp.stop === 'sign-in too slow' || ramp.stop === 'time budget';
    if (held && lowerBound && held.values[kind]) held.values[kind] = `>= ${held.values[kind]}`;
    why.values[kind] = ramp.stopShort;
  }
  const dropped: Row = {
    measure: '   connections that dropped by themselves during the ramp',
    values: {},
    ratio: null,
    ratioText: '—',
    goal: '',
    met: null,
  };
  for (const kind of results.meta.kinds) {
    const ramp = results.kinds[kind]?.ramp;
    if (ramp) dropped.values[kind] = int(ramp.steps.reduce((t, s) => t + s.drops, 0));
  }
  if (held) rows.splice(rows.indexOf(held) + 1, 0, why, dropped);

  const replay = results.kinds.parley?.replay;
  const replayMs = replay?.totalMs.median;
  rows.push({
    measure: `6. Deliver ${sizes.replayMessages.toLocaleString('en-US')} missed messages on reconnect (ms, connect + sign-in + replay)`,
    values: {
      ...(results.kinds.ws && { ws: 'n/a' }),
      ...(results.kinds.baseline && { baseline: 'n/a' }),
      ...(replay && { parley: spreadText(replay.totalMs, ms)! }),
    },
    ratio: null,
    ratioText: '—',
    goal: '< 1000 ms',
    met: replayMs === undefined || !Number.isFinite(replayMs) ? null : replayMs < 1000,
  });

  const start = results.start;
  const startRow = (measure: string, parley: Spread | undefined, baseline: Spread | undefined, goal = true): Row => {
    const r = ratio(parley?.median, baseline?.median);
    return {
      measure,
      values: {
        ...(baseline && { baseline: spreadText(baseline, ms)! }),
        ...(parley && { parley: spreadText(parley, ms)! }),
      },
      ratio: r,
      ratioText: r === null ? '—' : `${r.toFixed(1)}x`,
      goal: goal ? '< 300 ms' : '',
      met: goal && parley ? parley.median < 300 : null,
    };
  };
  rows.push(
    startRow('7. Server start, empty data dir (ms, create + listen, fresh process)', start?.parleyEmpty.startMs, start?.baseline.startMs),
  );
  rows.push(
    startRow(
      `   Server start, ${(start?.parleySeeded.messages ?? sizes.seededMessages).toLocaleString('en-US')} stored messages (ms)`,
      start?.parleySeeded.startMs,
      start?.baseline.startMs,
    ),
  );
  rows.push(
    startRow('   module load before that (ms, under tsx; informative)', start?.parleyEmpty.importMs, start?.baseline.importMs, false),
  );
  const store = results.store;
  const storeRow = (measure: string, s: Spread | undefined): Row => ({
    measure,
    values: s ? { parley: spreadText(s, int)! } : {},
    ratio: null,
    ratioText: '—',
    goal: '',
    met: null,
  });
  rows.push(
    storeRow(
      `   Store saveMessage/s, group commit (${(store?.concurrent ?? sizes.storeConcurrent).toLocaleString('en-US')} at once)`,
      store?.groupCommitPerSec,
    ),
  );
  rows.push(
    storeRow(
      `   Store saveMessage/s, one at a time (${(store?.sequential ?? sizes.storeSequential).toLocaleString('en-US')} awaited)`,
      store?.oneAtATimePerSec,
    ),
  );

  rows.push(...hardeningRows(results));
  rows.push(...channelRows(results));

  const client = results.client;
  for (const b of client?.bundles ?? []) {
    rows.push({
      measure: `8. Size of ${b.file} (KiB, minified; gzipped)`,
      values: { parley: `${(b.bytes / 1024).toFixed(0)}; ${(b.gzipBytes / 1024).toFixed(0)}` },
      ratio: null,
      ratioText: '—',
      goal: '',
      met: null,
    });
  }
  if (client) {
    const { render } = client;
    const ratio = render.parleyMs.median / render.naiveMs.median;
    rows.push({
      measure: `9. Chat view render of ${render.messages.toLocaleString('en-US')} messages (ms, jsdom; baseline: one element per message)`,
      values: { baseline: spreadText(render.naiveMs, (n) => n.toFixed(0))!, parley: spreadText(render.parleyMs, (n) => n.toFixed(0))! },
      ratio,
      ratioText: `${ratio.toFixed(2)}x`,
      goal: '',
      met: null,
    });
    rows.push({
      measure: '   elements in the page after that render',
      values: { baseline: render.naiveNodes.toLocaleString('en-US'), parley: render.parleyNodes.toLocaleString('en-US') },
      ratio: render.parleyNodes / render.naiveNodes,
      ratioText: `${(render.parleyNodes / render.naiveNodes).toFixed(2)}x`,
      goal: '',
      met: null,
    });
    const { switcher } = client;
    const team = `${switcher.channels} channels and ${switcher.people} people`;
    rows.push({
      measure: `   Conversation switcher, ${team}: opening its list of ${switcher.rows} (ms, jsdom)`,
      values: { parley: spreadText(switcher.openMs, (n) => n.toFixed(1))! },
      ratio: null,
      ratioText: '—',
      goal: '',
      met: null,
    });
    rows.push({
      measure: `   Conversation switcher, ${team}: filtering, per keystroke (ms, jsdom)`,
      values: { parley: spreadText(switcher.filterMs, (n) => n.toFixed(2))! },
      ratio: null,
      ratioText: '—',
      goal: '',
      met: null,
    });
  }
  const activation = results.activation;
  if (activation) {
    const ratio = activation.parleyMs.median / activation.baselineMs.median;
    rows.push({
      measure: '10. Extension activation in VS Code (ms, code loading + activate; baseline: an extension that only registers a command)',
      values: { baseline: spreadText(activation.baselineMs, int)!, parley: spreadText(activation.parleyMs, int)! },
      ratio,
      ratioText: `${ratio.toFixed(1)}x`,
      goal: '',
      met: null,
    });
    const toSocketIo = activation.parleyMs.median / activation.socketIoMs.median;
    rows.push({
      measure: '   against an extension that loads socket.io-client and nothing else (bundled as Parley is), same windows',
      values: { baseline: spreadText(activation.socketIoMs, int)!, parley: spreadText(activation.parleyMs, int)! },
      ratio: toSocketIo,
      ratioText: `${toSocketIo.toFixed(1)}x`,
      goal: '<= 1.5x',
      met: toSocketIo <= 1.5,
    });
  }
  return rows;
}

function columns(results: BenchResults): { kinds: ServerKind[]; header: string[] } {
  const kinds = results.meta.kinds;
  const durable = kinds.includes('durable') ? ['Parley/durable relay'] : [];
  return { kinds, header: ['Measure', ...kinds.map((k) => SERVER_LABELS[k]), 'Parley/baseline', ...durable, 'Goal', 'Met'] };
}

function cells(row: Row, kinds: ServerKind[]): string[] {
  const met = row.met === null ? '' : row.met ? 'yes' : 'NO';
  const durable = kinds.includes('durable') ? [row.durableRatioText ?? '—'] : [];
  return [row.measure, ...kinds.map((k) => row.values[k] ?? '—'), row.ratioText, ...durable, row.goal, met];
}

export function renderTerminal(results: BenchResults, rows: Row[]): string {
  const { kinds, header } = columns(results);
  const body = rows.map((r) => cells(r, kinds));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  return out.join('\n');
}

export function renderMarkdown(results: BenchResults, rows: Row[]): string {
  const { kinds, header } = columns(results);
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows)
    out.push(
      `| ${cells(row, kinds)
        .map((c) => escape(c.trim()) || ' ')
        .join(' | ')} |`,
    );
  return out.join('\n');
}

/** Rows 11-13: Parley against a reference of its own kind, shown in the baseline column (the measure says which). */
function hardeningRows(results: BenchResults): Row[] {
  const { flood, replay, storm } = results.hardening ?? {};
  const row = (measure: string, parley: number, reference: number, goal: number, format: (n: number) => string): Row => {
    const r = ratio(parley, reference);
    return {
      measure,
      values: { baseline: format(reference), parley: format(parley) },
      ratio: r,
      ratioText: r === null ? '—' : `${r.toFixed(2)}x`,
      goal: `<= ${goal}x`,
      met: r === null ? null : r <= goal,
    };
  };
  const rows: Row[] = [];
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  const secs = (n: number) => (n / 1000).toFixed(1);
  if (flood) {
    const failed = flood.failed.quiet + flood.failed.flooded;
    rows.push(
      row(
        `11. Sign-in p95 while ${flood.floodSockets} sockets flood login from another address (ms, N=2^17; baseline column: no flood)${failed ? `; ${failed} sign-ins failed` : ''}`,
        flood.floodedMs.p95,
        flood.quietMs.p95,
        2,
        ms,
      ),
    );
  }
  if (replay) {
    const n = replay.big.messages.toLocaleString('en-US');
    rows.push(
      row(
        `12. Server peak RSS replaying ${n} missed messages (MiB; baseline column: replaying 1,000)`,
        replay.big.peakRssBytes,
        replay.small.peakRssBytes,
        1.2,
        mib,
      ),
      row(
        `    other clients' request p95 during that replay (ms, ${replay.observers} clients; baseline column: during 1,000)`,
        replay.big.latency.p95,
        replay.small.latency.p95,
        2,
        ms,
      ),
    );
  }
  if (storm) {
    const missing = storm.parley.missing + storm.baseline.missing;
    rows.push(
      row(
        `13. ${storm.clients.toLocaleString('en-US')} clients signed in again after a server restart (s, N=2^17; baseline: bare Socket.IO)${missing ? `; ${storm.parley.missing} Parley and ${storm.baseline.missing} baseline clients never did` : ''}`,
        storm.parley.againMs,
        storm.baseline.againMs,
        3,
        secs,
      ),
    );
  }
  return rows;
}

/** Issue 16's channel measures: fan-out through a channel, rows per message, catch-up against the replay. */
function channelRows(results: BenchResults): Row[] {
  const { sizes } = results.meta;
  const rows: Row[] = [];
  const parley = results.kinds.parley;
  if (parley?.channelFanout) {
    rows.push(
      kindRow(results, {
        measure: `14. Channel fan-out deliveries/s (#general, ${sizes.clients.toLocaleString('en-US')} members, ${sizes.broadcastSenders} senders; baseline: its broadcast)`,
        get: (k) => (k.kind === 'parley' ? k.channelFanout?.perSec : k.fanout?.perSec),
        format: int,
        better: 'higher',
        goal: 0.8,
        goalText: '>= 0.8x',
        chartLabel: 'channel deliveries/s',
      }),
    );
  }
  const perSize = results.channelRows?.perSize;
  if (perSize && perSize.length >= 2) {
    const [small, big] = [perSize[0]!, perSize.at(-1)!];
    const r = ratio(big.rowsPerMessage, small.rowsPerMessage);
    rows.push({
      measure: `15. Rows written per channel message, ${perSize.map((p) => p.members.toLocaleString('en-US')).join(' / ')} members (ratio: largest / smallest)`,
      values: { parley: perSize.map((p) => p.rowsPerMessage.toFixed(2)).join(' / ') },
      ratio: r,
      ratioText: r === null ? '—' : `${r.toFixed(2)}x`,
      goal: 'constant (1.00x)',
      met: r === null ? null : Math.abs(r - 1) < 0.01,
    });
  }
  const catchUp = parley?.catchUp;
  const replay = parley?.replay;
  if (catchUp) {
    const r = ratio(catchUp.totalMs.median, replay?.totalMs.median);
    rows.push({
      measure: `16. Catch up on ${catchUp.messages.toLocaleString('en-US')} missed channel messages (ms, connect + sign-in + unread count + latest page; against 6.)`,
      values: { parley: spreadText(catchUp.totalMs, ms)! },
      ratio: r,
      ratioText: r === null ? '—' : `${r.toFixed(2)}x`,
      goal: '<= 1x of 6.',
      met: r === null ? null : r <= 1,
    });
  }
  return rows;
}
