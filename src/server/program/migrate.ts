import path from 'node:path';
import { parseArgs } from 'node:util';
import { Database } from 'node-sqlite3-wasm';
import { redactUrl } from '../redact';
import { openClaimedSqliteStore } from '../store/sqlite-store';
import type { CopyProgress } from '../store/sqlite-to-pg';
import { assertDatabaseIn, claimStoppedDir } from './files';
import { UsageError } from './usage';

export const MIGRATE_USAGE = '  parley-server migrate --from DATA_DIR --to URL';

/** At most one progress line a second per table, and always its last. */
const PROGRESS_EVERY_MS = 1_000;

/**
 * `parley-server migrate --from DATA_DIR --to postgres://...`: copies a stopped single server's database into an empty
 * PostgreSQL database, for a cluster's nodes to start on. The data directory is held meanwhile, so that no server starts on it.
 */
export async function migrateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const { from, to: url } = values;
  if (from === undefined) throw new UsageError("migrate needs --from DATA_DIR, the single server's data directory");
  if (url === undefined) throw new UsageError('migrate needs --to URL, the PostgreSQL database (postgres://...)');
  // Only ever printed redacted: the URL may carry the database's password.
  const target = redactUrl(url);
  if (!isPostgresUrl(url)) throw new UsageError(`--to must be a postgres:// URL, not ${target}`);

  assertDatabaseIn(from);
  const { dir, release } = claimStoppedDir(from, 'stop it before migrating, so that the copy holds everything it acknowledged');
  try {
    // Brings an older schema up to date as a server start would, so that the copy starts from the newest.
    await openClaimedSqliteStore(dir, {}).close();
    const source = new Database(path.join(dir, 'parley.db'), { fileMustExist: true });
    try {
      source.exec('PRAGMA locking_mode = EXCLUSIVE'); // a WAL database opens only so (see sqlite-store.ts)
      console.log(`Migrating ${from} into ${target}`);
      // Loaded here: the PostgreSQL client is for cluster mode and this command only.
      const { copyToPostgres } = await import('../store/sqlite-to-pg');
      const report = await copyToPostgres(source, url, progressPrinter());
      const counts = Object.entries(report.rows).map(([label, n]) => `${label} ${n}`);
      console.log(`Migrated ${from} into ${target}: ${counts.join(', ')}. New messages take ids from ${report.nextMessageId}.`);
    } finally {
      source.close();
    }
  } finally {
    release();
  }
  return 0;
}

function isPostgresUrl(text: string): boolean {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

function progressPrinter(): CopyProgress {
  let printed = 0;
  return (label, done, total) => {
    const now = performance.now();
    if (done < total && now - printed < PROGRESS_EVERY_MS) return;
    printed = now;
    console.log(`  ${label}: ${done} of ${total}`);
  };
}
