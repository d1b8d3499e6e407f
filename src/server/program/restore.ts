import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { assertOwnSchema, inspectDatabaseFile } from '../store/sqlite-inspect';
import { MIGRATIONS } from '../store/sqlite-migrations';
import { openClaimedSqliteStore } from '../store/sqlite-store';
import { claimStoppedDir, syncDirectory } from './files';
import { dataDirOf, DATA_DIR_OPTIONS, DATA_DIR_USAGE } from './data-dir-option';
import { UsageError } from './usage';

export const RESTORE_USAGE = `  parley-server restore FILE ${DATA_DIR_USAGE} [--force]`;

/** The database and what SQLite may keep beside it: a restore replaces them all. */
const DATABASE_FILES = ['parley.db', 'parley.db-wal', 'parley.db-journal', 'parley.db-shm'];

/**
 * `parley-server restore FILE`: makes a backup the data directory's database. Never while a server runs on it, and over
 * an existing database only with --force. The file is checked, and migrated to the newest schema, on a copy before
 * anything is replaced.
 */
export async function restoreCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...DATA_DIR_OPTIONS, force: { type: 'boolean', default: false } },
  });
  const dataDir = dataDirOf(values);
  const [file, ...rest] = positionals;
  if (!file) throw new UsageError('restore needs the FILE of a backup');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (!fs.statSync(file).isFile()) throw new Error(`${file} is not a file`);

  // Held until the end, so that no server starts on the directory meanwhile.
  const { dir, release } = claimStoppedDir(
    dataDir,
    'stop it before restoring; a restore never replaces the database under a running server',
  );
  try {
    const existing = DATABASE_FILES.filter((name) => fs.existsSync(path.join(dir, name)));
    if (existing.length > 0 && !values.force) {
      throw new Error(`${dataDir} holds a database already (${existing.join(', ')}); restore replaces it only with --force`);
    }
    // Inside the data directory, so that the rename below stays on one file system; mkdtemp makes it 0700.
    const staging = fs.mkdtempSync(path.join(dir, '.restore-'));
    try {
      const copy = path.join(staging, 'parley.db');
      fs.copyFileSync(file, copy, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(copy, 0o600); // as the store makes its files, whatever the backup's mode
      const found = inspectDatabaseFile(copy, file);
      // Opening it as the server would migrates it and prepares every statement: what fails here would fail at start.
      await openClaimedSqliteStore(staging, {}).close();
      assertOwnSchema(copy, file);
      for (const name of DATABASE_FILES) fs.rmSync(path.join(dir, name), { force: true });
      fs.renameSync(copy, path.join(dir, 'parley.db'));
      syncDirectory(dir);
      const schema = found.schema === MIGRATIONS.length ? `schema ${found.schema}` : `schema ${found.schema}, now ${MIGRATIONS.length}`;
      console.log(`Restored ${file} into ${dataDir}: ${found.users} users, ${found.messages} messages (${schema}).`);
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  } finally {
    release();
  }
  return 0;
}
