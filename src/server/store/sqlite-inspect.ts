import { Database } from 'node-sqlite3-wasm';
import { errorMessage } from '../../protocol/errors';
import { MIGRATIONS, migrate } from './sqlite-migrations';
import { int, text, type Row } from './sqlite-rows';

export interface DatabaseSummary {
  /** Its schema version: older ones are migrated when a store opens the file. */
  schema: number;
  users: number;
  messages: number;
}

/**
 * Throws, saying why, unless `copy` is an intact Parley database of a schema this server can open (the newest, or one it
 * migrates from). A copy, since opening a file may roll back a journal left beside it; errors name the original, `name`.
 */
export function inspectDatabaseFile(copy: string, name: string): DatabaseSummary {
  const db = new Database(copy);
  try {
    let rows: Row[];
    try {
      // A copy of a database in WAL mode opens only so (the VFS has no shared memory), as in sqlite-store.ts.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      rows = db.all('PRAGMA quick_check') as Row[];
    } catch (error) {
      throw new Error(`${name} is not an SQLite database (${errorMessage(error)})`, { cause: error });
    }
    const problems = rows.map((row) => text(row, 'quick_check')).filter((line) => line !== 'ok');
    if (problems.length > 0) throw new Error(`${name} is damaged: ${problems.slice(0, 3).join('; ')}`);
    const orphans = db.all('PRAGMA foreign_key_check').length;
    if (orphans > 0) throw new Error(`${name} is damaged: ${orphans} rows refer to rows that are not there`);
    const [version] = db.all('PRAGMA user_version') as Row[];
    const schema = version ? int(version, 'user_version') : 0;
    const tables = new Set((db.all("SELECT name FROM sqlite_master WHERE type = 'table'") as Row[]).map((row) => text(row, 'name')));
    if (schema < 1 || !tables.has('users') || !tables.has('messages')) throw new Error(`${name} is an SQLite database, but not Parley's`);
    if (schema > MIGRATIONS.length) {
      throw new Error(`${name} has schema version ${schema}; this server knows up to ${MIGRATIONS.length}: restore it with a newer Parley`);
    }
    const count = (table: string): number => int((db.all(`SELECT count(*) AS n FROM ${table}`) as Row[])[0] ?? {}, 'n');
    return { schema, users: count('users'), messages: count('messages') };
  } finally {
    db.close();
  }
}

/**
 * Throws unless the tables, views and triggers of `file` (brought up to date) are exactly those Parley makes: a backup
 * edited to hold a trigger of its own would run it on every write of the restored server.
 */
export function assertOwnSchema(file: string, name: string): void {
  const fresh = new Database(); // in memory
  const db = new Database(file);
  try {
    migrate(fresh, ':memory:');
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    const objects = (on: Database): Set<string> =>
      new Set(
        (
          on.all("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') AND name NOT LIKE 'sqlite_%'") as Row[]
        ).map((row) => `${text(row, 'type')} ${text(row, 'name')}`),
      );
    const ours = objects(fresh);
    const foreign = [...objects(db)].filter((object) => !ours.has(object));
    if (foreign.length > 0) throw new Error(`${name} holds what Parley does not make (${foreign.join(', ')}): it is refused`);
  } finally {
    db.close();
    fresh.close();
  }
}
