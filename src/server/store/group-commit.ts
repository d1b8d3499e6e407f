import { performance } from 'node:perf_hooks';
import type { Database } from 'node-sqlite3-wasm';
import { errorMessage } from '../../protocol/errors';
import { Prepared } from './sqlite-prepared';
import type { CommitOutcome } from './store';

/** A batch this big is committed at once instead of waiting for the timer. */
const MAX_BATCH = 512;

const TRANSACTION_SQL = {
  begin: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  savepoint: 'SAVEPOINT op',
  release: 'RELEASE op',
  rollbackToSavepoint: 'ROLLBACK TO op',
} as const;

/** A queued write: `run` applies it inside the batch transaction and returns how to settle its promise after COMMIT. */
interface QueuedWrite {
  run(): () => void;
  reject(error: unknown): void;
}

/**
 * The store's writes, queued and committed together in one transaction, so that a burst of sends costs one
 * fsync. A write's promise resolves once the batch holding it is committed.
 */
export class GroupCommit {
  private readonly stmts: Record<keyof typeof TRANSACTION_SQL, Prepared>;
  private queue: QueuedWrite[] = [];
  private cancelScheduledFlush: (() => void) | undefined;

  /** `maxDelayMs`: 0 flushes on the next turn of the event loop; more waits up to this long to gather a bigger batch. */
  constructor(
    private readonly db: Database,
    private readonly maxDelayMs: number,
    /** Hears of each batch's commit, before its writes are settled. */
    private readonly committed: (outcome: CommitOutcome) => void = () => {},
  ) {
    const entries = Object.entries(TRANSACTION_SQL).map(([name, sql]) => [name, new Prepared(db, sql)] as const);
    this.stmts = Object.fromEntries(entries) as Record<keyof typeof TRANSACTION_SQL, Prepared>;
  }

  get hasQueued(): boolean {
    return this.queue.length > 0;
  }

  /** Queues a write; it resolves once the batch holding it is committed and fsynced. */
  write<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run: () => {
          const result = apply();
          return () => resolve(result);
        },
        reject,
      });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else this.scheduleFlush();
    });
  }

  /**
   * Commits every queued write in one transaction. The batch first runs plainly; if a write throws (a
   * constraint, say), the batch is rolled back and run again with a savepoint per write, so that the failing
   * one is undone and rejected alone and the rest still commits. Writes only touch the database, so running
   * one twice is safe.
   */
  flush(): void {
    this.cancelScheduledFlush?.();
    this.cancelScheduledFlush = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;

    let settlers: (() => void)[];
    const start = performance.now();
    try {
      settlers = this.commitBatch(batch, false) ?? this.commitBatch(batch, true) ?? [];
    } catch (error) {
      this.committed({ ok: false, seconds: (performance.now() - start) / 1000, error: errorMessage(error) });
      for (const write of batch) write.reject(error);
      try {
        if (this.db.inTransaction) this.stmts.rollback.run();
      } catch {
        // Nothing more to undo; the next batch's BEGIN reports a broken connection to its writers.
      }
      return;
    }
    this.committed({ ok: true, seconds: (performance.now() - start) / 1000 });
    for (const settle of settlers) settle();
  }

  /** Frees the prepared statements; flush first. */
  finalize(): void {
    for (const stmt of Object.values(this.stmts)) stmt.finalize();
  }

  private scheduleFlush(): void {
    if (this.cancelScheduledFlush) return;
    if (this.maxDelayMs > 0) {
      const timer = setTimeout(() => this.flush(), this.maxDelayMs);
      this.cancelScheduledFlush = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.flush());
      this.cancelScheduledFlush = () => clearImmediate(immediate);
    }
  }

  /**
   * Runs and commits a batch; returns how to settle each write. Without savepoints, a failing write
   * rolls the whole batch back and returns undefined (to be run again with them).
   */
  private commitBatch(batch: QueuedWrite[], savepoints: boolean): (() => void)[] | undefined {
    const { begin, commit, rollback, savepoint, release, rollbackToSavepoint } = this.stmts;
    const settlers: (() => void)[] = [];
    begin.run();
    for (const write of batch) {
      if (!savepoints) {
        try {
          settlers.push(write.run());
        } catch (error) {
          if (!this.db.inTransaction) throw error;
          rollback.run();
          return undefined;
        }
        continue;
      }
      savepoint.run();
      try {
        settlers.push(write.run());
      } catch (error) {
        // Some errors (I/O, disk full) make SQLite roll back the whole transaction.
        if (!this.db.inTransaction) throw error;
        rollbackToSavepoint.run();
        settlers.push(() => write.reject(error));
      }
      release.run();
    }
    commit.run();
    return settlers;
  }
}
