/**
 * What a cluster's PostgreSQL spends, for the bench's cluster run: the CPU of all its processes (from /proc, Linux),
 * and the statements run on one database (pg_stat_statements, when the server preloads it).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Fields 3 on of /proc/PID/stat (after the command name, which may hold spaces), or undefined once it has exited. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Microseconds of CPU (user + system) in the given fields of /proc/PID/stat (1-based numbers, as in proc(5)). */
function micros(fields: string[], numbers: number[]): number {
  return (numbers.reduce((t, n) => t + Number(fields[n - 3]), 0) / TICKS_PER_SECOND) * 1e6;
}

/**
 * A reader of the CPU PostgreSQL has used so far, in microseconds: its postmaster's own and that of the children
 * it has reaped (connections closed), plus each live child's (backends, WAL writer, checkpointer...).
 */
export async function postgresCpu(url: string): Promise<() => number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let postmaster: number;
  try {
    // A backend's parent, read while that backend lives.
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    postmaster = Number(statFields(backend)?.[1]);
  } finally {
    await client.end();
  }
  if (!Number.isInteger(postmaster)) throw new Error('cannot read PostgreSQL processes from /proc');
  return () => {
    let total = micros(statFields(postmaster) ?? [], [14, 15, 16, 17]);
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      const fields = statFields(pid);
      if (fields?.[1] === String(postmaster)) total += micros(fields, [14, 15]);
    }
    return total;
  };
}

export interface StatementCounts {
  /** Statements run on the database since the last reset. */
  calls: number;
  /** The most frequent, with their normalized text. */
  top: { query: string; calls: number }[];
}

/** Counts of the statements run on one database, or undefined when pg_stat_statements is not loaded. */
export interface StatementCounter {
  reset(): Promise<void>;
  read(): Promise<StatementCounts>;
  close(): Promise<void>;
}

export async function statementCounter(url: string): Promise<StatementCounter | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await client.query('SELECT count(*) FROM pg_stat_statements');
  } catch {
    await client.end();
    return undefined;
  }
  // This connection's own statements (on pg_stat_statements) are left out of the counts.
  const mine = `dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'`;
  return {
    reset: async () => void (await client.query('SELECT pg_stat_statements_reset()')),
    read: async () => {
      const rows = (
        await client.query<{ query: string; calls: string }>(
          `SELECT query, calls FROM pg_stat_statements WHERE ${mine} ORDER BY calls DESC`,
        )
      ).rows;
      const calls = rows.reduce((t, r) => t + Number(r.calls), 0);
      return { calls, top: rows.slice(0, 12).map((r) => ({ query: r.query.replace(/\s+/g, ' ').slice(0, 160), calls: Number(r.calls) })) };
    },
    close: () => client.end(),
  };
}
