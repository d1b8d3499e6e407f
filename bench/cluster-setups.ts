/** What the bench's cluster run compares (bench/cluster.ts), apart from it: the orchestrator reads it without loading pg. */
import type { Phase } from './config';

export interface Setup {
  key: string;
  label: string;
  nodes: number;
  postgres: boolean;
}

export const SETUPS: readonly Setup[] = [
  { key: 'sqlite', label: 'SQLite, 1 node', nodes: 1, postgres: false },
  ...[1, 2, 3].map((nodes) => ({ key: `pg${nodes}`, label: `PostgreSQL, ${nodes} node${nodes > 1 ? 's' : ''}`, nodes, postgres: true })),
];

/** The phases a cluster run takes (`fanout` is a post to #general). */
export const CLUSTER_PHASES: readonly Phase[] = ['direct', 'fanout', 'latency', 'ramp'];
