/** The cluster run's table (bench/cluster.ts): each setup's figures, with ratios against the first, the SQLite node. */
import type { Cost, SetupResult } from './cluster';

/** Infinity is a percentile past deliveries that never arrived within the wait. */
const fixed = (n: number | undefined, digits = 0): string =>
  n === Infinity ? 'lost' : n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);

/** Every node's CPU added up, and PostgreSQL's, per unit. */
function cpuPer(cost: Cost | undefined, units: number | undefined): { nodes: number; postgres: number; agents: number } | undefined {
  if (!cost || !units) return undefined;
  const nodes = Object.entries(cost.cpuMs)
    .filter(([part]) => part.startsWith('node'))
    .reduce((t, [, ms]) => t + ms, 0);
  return { nodes: nodes / units, postgres: (cost.cpuMs.postgres ?? 0) / units, agents: (cost.cpuMs.agents ?? 0) / units };
}

/** PostgreSQL's statements per message sent, when they were counted. */
function statementsPer(cost: Cost | undefined): number | undefined {
  return cost?.statements && cost.sent ? cost.statements.calls / cost.sent : undefined;
}

export function clusterTable(setups: SetupResult[]): string {
  const base = setups[0];
  const row = (measure: string, value: (r: SetupResult) => number | undefined, digits = 0, ratio = true): string => {
    const cells = setups.map((r) => {
      const v = value(r);
      const b = base && value(base);
      const x = ratio && r !== base && v !== undefined && Number.isFinite(v) && b ? ` (${(v / b).toFixed(2)}x)` : '';
      return `${fixed(v, digits)}${x}`;
    });
    return `| ${measure} | ${cells.join(' | ')} |`;
  };
  const text = (measure: string, value: (r: SetupResult) => string): string => `| ${measure} | ${setups.map(value).join(' | ')} |`;
  const nodeCpu = (cost: Cost | undefined, units: number | undefined): string => {
    if (!cost || !units) return '–';
    return Object.entries(cost.cpuMs)
      .filter(([part]) => part.startsWith('node'))
      .map(([, ms]) => (ms / units).toFixed(2))
      .join(' + ');
  };
  return [
    `| measure | ${setups.map((r) => r.setup.label).join(' | ')} |`,
    `| --- | ${setups.map(() => '---:').join(' | ')} |`,
    row('direct messages/s (to another node)', (r) => r.direct?.perSec.median),
    row('#general fan-out, deliveries/s', (r) => r.fanout?.perSec.median),
    row(`broadcast p95 with ${setups[0]?.latency?.ratePerSec ?? '–'} direct msg/s, ms`, (r) => r.latency?.broadcast.p95, 1),
    row('direct p95 under that load, ms', (r) => r.latency?.direct.p95, 1),
    row('ramp: clients held at p95 <= limit', (r) => r.ramp?.held),
    text('ramp: why it ended', (r) => r.ramp?.stopShort ?? '–'),
    text('CPU ms per direct message: each node', (r) => nodeCpu(r.direct?.cost, r.direct?.cost.sent)),
    row('CPU ms per direct message: nodes', (r) => cpuPer(r.direct?.cost, r.direct?.cost.sent)?.nodes, 2, false),
    row('CPU ms per direct message: PostgreSQL', (r) => cpuPer(r.direct?.cost, r.direct?.cost.sent)?.postgres, 2, false),
    row('CPU ms per direct message: load agents', (r) => cpuPer(r.direct?.cost, r.direct?.cost.sent)?.agents, 2, false),
    row('statements per direct message', (r) => statementsPer(r.direct?.cost), 1, false),
    row('CPU ms per post: nodes', (r) => cpuPer(r.fanout?.cost, r.fanout?.cost.sent)?.nodes, 2, false),
    row('CPU ms per post: PostgreSQL', (r) => cpuPer(r.fanout?.cost, r.fanout?.cost.sent)?.postgres, 2, false),
    row('CPU ms per delivery of a post: nodes', (r) => cpuPer(r.fanout?.cost, r.fanout?.cost.received)?.nodes, 3, false),
    row('statements per post', (r) => statementsPer(r.fanout?.cost), 1, false),
  ].join('\n');
}
