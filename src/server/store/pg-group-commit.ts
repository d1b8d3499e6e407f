import type { Pool, PoolClient } from 'pg';
import type { CommitOutcome } from './store';

/** A batch this big is committed without taking more writes into it. */
const MAX_BATCH = 512;

/** Deadlock and serialization failures: PostgreSQL undid the whole transaction, which may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/** A write's answer whose statements must leave nothing behind (a refused or repeated send): they are rolled back. */
export class Undone<T> {
  constructor(readonly value: T) {}
}

/** A write: statements on the batch's connection, inside its transaction. Run again if the batch is, so only statements. */
export type Apply<T> = (client: PoolClient) => Promise<T | Undone<T>>;

interface QueuedWrite {
  apply: Apply<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The PostgreSQL store's writes, committed in the order they were queued, several to a transaction: one batch at
 * a time on one connection, so that a burst of sends costs one commit and a write queued before another commits
 * no later. The batch first runs plainly; if a write throws or is undone, the batch is rolled back and run again
 * with a savepoint per write, so that it alone is undone and the rest still commits (as ./group-commit.ts does).
 */
export class PgGroupCommit {
  private queue: QueuedWrite[] = [];
  private draining: Promise<void> | undefined;
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly committed: (outcome: CommitOutcome) => void = () => {},
  ) {}

  /** Queues a write; it resolves once the batch holding it is committed. */
  write<T>(apply: Apply<T>): Promise<T> {
    const written = new Promise<T>((resolve, reject) => {
      this.queue.push({ apply, resolve: resolve as (value: unknown) => void, reject });
    });
    this.last = written.catch(() => undefined);
    this.draining ??= this.drain();
    return written;
  }

  /** Resolves once every write queued so far has settled (not those queued later). */
  settled(): Promise<unknown> {
    return this.last;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      let client: PoolClient;
      try {
        client = await this.pool.connect(); // meanwhile, the writes of this turn join the batch
      } catch (error) {
        for (const write of this.queue.splice(0)) write.reject(error);
        break;
      }
      const batch = this.queue.splice(0, MAX_BATCH);
      let broken: Error | undefined;
      try {
        await this.commit(client, batch);
      } catch (error) {
        broken = error instanceof Error ? error : new Error(String(error));
      } finally {
        client.release(broken);
      }
    }
    this.draining = undefined;
  }

  /** Commits a batch and settles its writes; throws only if the connection can no longer be trusted. */
  private async commit(client: PoolClient, batch: QueuedWrite[]): Promise<void> {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    for (let attempt = 1; ; attempt++) {
      let settlers: (() => void)[] | undefined;
      try {
        settlers = (await this.run(client, batch, false)) ?? (await this.run(client, batch, true));
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackFailed: unknown) => {
          for (const write of batch) write.reject(error);
          this.committed({ ok: false, seconds: seconds(), error: String(rollbackFailed) });
          throw rollbackFailed;
        });
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has(codeOf(error))) continue;
        for (const write of batch) write.reject(error);
        this.committed({ ok: false, seconds: seconds(), error: String(error) });
        return;
      }
      this.committed({ ok: true, seconds: seconds() });
      for (const settle of settlers ?? []) settle();
      return;
    }
  }

  /** Runs and commits a batch; returns how to settle each write. Without savepoints, undefined if one failed or was undone. */
  private async run(client: PoolClient, batch: QueuedWrite[], savepoints: boolean): Promise<(() => void)[] | undefined> {
    const settlers: (() => void)[] = [];
    await client.query('BEGIN');
    for (const write of batch) {
      if (savepoints) await client.query('SAVEPOINT w');
      let result: unknown;
      try {
        result = await write.apply(client);
      } catch (error) {
        if (RETRYABLE.has(codeOf(error))) throw error;
        if (!savepoints) return this.rollback(client);
        await client.query('ROLLBACK TO SAVEPOINT w');
        settlers.push(() => write.reject(error));
        continue;
      }
      if (result instanceof Undone) {
        if (!savepoints) return this.rollback(client);
        await client.query('ROLLBACK TO SAVEPOINT w');
        settlers.push(() => write.resolve(result.value));
      } else {
        if (savepoints) await client.query('RELEASE SAVEPOINT w');
        settlers.push(() => write.resolve(result));
      }
    }
    await client.query('COMMIT');
    return settlers;
  }

  private async rollback(client: PoolClient): Promise<undefined> {
    await client.query('ROLLBACK');
    return undefined;
  }
}

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}
