import type { Database, RunResult, SQLiteValue, Statement } from 'node-sqlite3-wasm';
import { LONE_SURROGATE } from '../../protocol/limits';
import type { Row } from './sqlite-rows';

/**
 * A statement prepared once and reused. After a failed step, node-sqlite3-wasm refuses to
 * bind it again (sqlite3_reset repeats the step's error), so a statement that failed is
 * replaced by a fresh one; this only happens on the error path.
 */
export class Prepared {
  private stmt: Statement;

  constructor(
    private readonly db: Database,
    private readonly sql: string,
  ) {
    this.stmt = db.prepare(sql);
  }

  run(values: SQLiteValue[] = []): RunResult {
    refuseUnstorable(values);
    return this.guard(() => this.stmt.run(values));
  }

  /** all() rather than get(): get() leaves the statement mid-step, holding its read open. */
  all(values: SQLiteValue[] = []): Row[] {
    refuseUnstorable(values);
    return this.guard(() => this.stmt.all(values) as Row[]);
  }

  finalize(): void {
    this.stmt.finalize();
  }

  private guard<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      try {
        this.stmt.finalize();
      } catch {
        // finalize reports the failed step's error again
      }
      this.stmt = this.db.prepare(this.sql);
      throw error;
    }
  }
}

/**
 * node-sqlite3-wasm binds text as a C string in UTF-8, so a value would be cut at its first U+0000, and a
 * lone surrogate changed: stored otherwise than acknowledged, or matched against another row. Requests
 * are validated before this; this keeps a caller that was not from losing text silently. PostgreSQL refuses U+0000
 * in text too, and its client would store a lone surrogate as U+FFFD: ./pg-store.ts checks the same.
 */
export function refuseUnstorable(values: readonly SQLiteValue[]): void {
  for (const value of values) {
    if (typeof value !== 'string') continue;
    if (value.includes('\0')) throw new Error('the store cannot keep text that contains U+0000 (NUL)');
    if (LONE_SURROGATE.test(value)) throw new Error('the store cannot keep text that contains a lone UTF-16 surrogate');
  }
}
