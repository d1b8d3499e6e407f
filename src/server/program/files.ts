import fs from 'node:fs';
import path from 'node:path';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store';

/**
 * Creates `file` empty and readable by its owner only, refusing one that exists: backups and exports hold everyone's
 * messages, and no moment may pass in which another user could open them.
 */
export function createPrivateFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST')
      throw new Error(`${file} exists; it is left as it is`, { cause: error });
    throw error;
  }
}

/** Flushes `file` and its directory's entry to disk (SQLite does not sync what VACUUM INTO writes). */
export function syncToDisk(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  syncDirectory(path.dirname(file));
}

export function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The store of a data directory no server runs on, claimed for this process; an error if it holds no database. */
export async function openStoppedStore(dataDir: string): Promise<SqliteStore> {
  if (!fs.existsSync(path.join(dataDir, 'parley.db'))) throw new Error(`there is no Parley database in ${dataDir}`);
  return openSqliteStore(dataDir);
}
