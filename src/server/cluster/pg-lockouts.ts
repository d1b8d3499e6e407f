import type { Pool, PoolClient } from 'pg';
import type { Check, LockoutCounts, LockoutCountsFactory, LockoutRules, Taken } from '../lockout-counts';

/**
 * A check older than this is no longer counted: its node died, or lost the database before it could end it. A
 * live node ends its checks within a wait for a hashing slot (SignInLimits.checkWaitMs) and one hash, seconds
 * at most, so a check still running is never dropped; nodes' clocks may differ by a few seconds of this minute.
 */
export const STALE_CHECK_MS = 60_000;
/** How often a sign-in waiting for a full count looks again: the checks it waits for may be other nodes'. */
const RECHECK_MS = 200;
/** The sweep runs every few seconds on every node: the tables are pruned at most this often by each. */
const PRUNE_EVERY_MS = 30_000;

/**
 * The lockout counts of a cluster, on PostgreSQL: `pool`'s database holds the tables of pg-migrations.ts. Give the
 * pool a `connectionTimeoutMillis`, so that a database out of reach refuses sign-ins rather than holds them.
 */
export function pgLockouts(pool: Pool, node: string): LockoutCountsFactory {
  return (rules) => new PgLockouts(pool, node, rules);
}

interface Row {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

/**
 * Every node counts in two tables: `lockouts`, a row per (username, address) with its failures and lockout, and
 * `lockout_checks`, a row per password check in progress, tagged with its node (`node`).
 *
 * Why at most `maxFailures` passwords of one (username, address) are checked before a lockout, however many
 * nodes check them at once: a check is taken in a transaction that first locks the pair's `lockouts` row, so
 * that the takes and failures of one pair run one at a time across the cluster and each sees the others'
 * commits; it is taken only while failures + checks in progress < maxFailures; and a wrong password turns its
 * check into a failure in one transaction, so that the sum never drops while a guess is recorded. Only a check
 * whose password was not checked (cancel), a right password (the count starts over), or a stale check
 * (STALE_CHECK_MS) frees a place. One guess may slip through per check whose failure the database could not
 * take, as it went down between the check's start and end.
 */
export class PgLockouts implements LockoutCounts {
  readonly recheckMs = RECHECK_MS;
  private prunedAt = -Infinity;

  constructor(
    private readonly pool: Pool,
    private readonly node: string,
    private readonly rules: LockoutRules,
  ) {
    // An idle connection that breaks is dropped from the pool; without a listener its error would end the process.
    pool.on('error', () => {});
  }

  async lockedFor(username: string, address: string, now: number): Promise<number> {
    const { rows } = await this.pool.query<{ locked_until: string }>(
      'SELECT locked_until FROM lockouts WHERE username = $1 AND address = $2',
      [username, address],
    );
    return Math.max(0, Number(rows[0]?.locked_until ?? 0) - now);
  }

  take(username: string, address: string, now: number): Promise<Taken> {
    return this.transaction(async (on) => {
      let row = await lockRow(on, username, address);
      const { rows } = await on.query<{ checking: number }>(
        'SELECT count(*)::int AS checking FROM lockout_checks WHERE username = $1 AND address = $2 AND taken_at > $3',
        [username, address, now - STALE_CHECK_MS],
      );
      const checking = rows[0]!.checking;
      if (checking === 0 && this.expired(row, now)) {
        row = { failures: 0, lastFailureAt: 0, lockedUntil: 0 };
        await writeRow(on, username, address, row);
      }
      if (row.lockedUntil > now) return { lockedForMs: row.lockedUntil - now };
      if (row.failures + checking >= this.rules.maxFailures) return 'full';
      const taken = await on.query<{ id: string }>(
        'INSERT INTO lockout_checks (username, address, node, taken_at) VALUES ($1, $2, $3, $4) RETURNING id',
        [username, address, this.node, now],
      );
      return { check: { username, address, id: Number(taken.rows[0]!.id) } };
    });
  }

  async cancel(check: Check): Promise<void> {
    await this.pool.query('DELETE FROM lockout_checks WHERE id = $1', [check.id]);
  }

  fail({ username, address, id }: Check, now: number): Promise<{ attemptsLeft: number; lockedForMs: number }> {
    const { maxFailures, blockMs } = this.rules;
    return this.transaction(async (on) => {
      const row = await lockRow(on, username, address);
      await on.query('DELETE FROM lockout_checks WHERE id = $1', [id]);
      const failures = (this.expired(row, now) || (row.lockedUntil !== 0 && row.lockedUntil <= now) ? 0 : row.failures) + 1;
      const lockedUntil = failures >= maxFailures ? now + blockMs : 0;
      await writeRow(on, username, address, { failures, lastFailureAt: now, lockedUntil });
      return { attemptsLeft: Math.max(0, maxFailures - failures), lockedForMs: lockedUntil > now ? lockedUntil - now : 0 };
    });
  }

  /** Other checks of the pair stay counted until they end: a success frees only its own place. */
  async succeed({ username, address, id }: Check): Promise<void> {
    await this.pool.query(
      'WITH ended AS (DELETE FROM lockout_checks WHERE id = $3) DELETE FROM lockouts WHERE username = $1 AND address = $2',
      [username, address, id],
    );
  }

  async prune(now: number): Promise<void> {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    await this.pool.query('DELETE FROM lockout_checks WHERE taken_at <= $1', [now - STALE_CHECK_MS]);
    await this.pool.query(
      `DELETE FROM lockouts l WHERE locked_until <= $1 AND last_failure_at <= $2
         AND NOT EXISTS (SELECT 1 FROM lockout_checks c WHERE c.username = l.username AND c.address = l.address)`,
      [now, now - this.rules.blockMs],
    );
  }

  /** Failures older than the lockout no longer count, nor a lockout that has ended. */
  private expired(row: Row, now: number): boolean {
    return row.lockedUntil <= now && now - row.lastFailureAt >= this.rules.blockMs;
  }

  private async transaction<T>(work: (on: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failed: unknown;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failed = error;
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      // A connection that failed may be broken: the pool closes it rather than hand it out again.
      client.release(failed === undefined ? undefined : failed instanceof Error ? failed : true);
    }
  }
}

/** The pair's row, created when missing, locked until the transaction ends (an upsert that updates takes the row's lock). */
async function lockRow(on: PoolClient, username: string, address: string): Promise<Row> {
  const { rows } = await on.query<{ failures: number; last_failure_at: string; locked_until: string }>(
    `INSERT INTO lockouts (username, address) VALUES ($1, $2)
       ON CONFLICT (username, address) DO UPDATE SET failures = lockouts.failures
       RETURNING failures, last_failure_at, locked_until`,
    [username, address],
  );
  const row = rows[0]!;
  return { failures: row.failures, lastFailureAt: Number(row.last_failure_at), lockedUntil: Number(row.locked_until) };
}

async function writeRow(on: PoolClient, username: string, address: string, row: Row): Promise<void> {
  await on.query('UPDATE lockouts SET failures = $3, last_failure_at = $4, locked_until = $5 WHERE username = $1 AND address = $2', [
    username,
    address,
    row.failures,
    row.lastFailureAt,
    row.lockedUntil,
  ]);
}
