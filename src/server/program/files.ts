import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { claimDataDir, DataDirInUse } from '../store/data-dir';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store';
import type { Store } from '../store/store';

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

/** Where a backup is made before it is copied out: in the data directory, the one place a hardened service may write. */
function backupStaging(dataDir: string): string {
  return path.join(dataDir, `${BACKUP_STAGING_PREFIX}${randomBytes(8).toString('hex')}${BACKUP_STAGING_SUFFIX}`);
}
const BACKUP_STAGING_PREFIX = 'backup-';
const BACKUP_STAGING_SUFFIX = '.partial';

/** Removes what a backup interrupted by a crash left in the data directory (only its claimer may, so no backup is under way). */
export function removeStaleBackups(dataDir: string): void {
  for (const name of fs.readdirSync(dataDir)) {
    if (name.startsWith(BACKUP_STAGING_PREFIX) && name.endsWith(BACKUP_STAGING_SUFFIX))
      fs.rmSync(path.join(dataDir, name), { force: true });
  }
}

/** Makes a backup of `store` in its data directory `dataDir` and returns its path; the caller copies it out and removes it. */
export async function backupInto(store: Pick<Store, 'backupTo'>, dataDir: string): Promise<string> {
  const staging = backupStaging(dataDir);
  createPrivateFile(staging);
  try {
    await store.backupTo(staging);
  } catch (error) {
    fs.rmSync(staging, { force: true });
    throw error;
  }
  return staging;
}

/** Copies `from` into `to`, which createPrivateFile made: through its own descriptor, so a path swapped meanwhile is not followed. */
export function copyInto(from: string, to: string): void {
  const fd = fs.openSync(to, fs.constants.O_WRONLY | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0));
  try {
    const source = fs.openSync(from, 'r');
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (let n; (n = fs.readSync(source, buffer, 0, buffer.length, null)) > 0;) fs.writeSync(fd, buffer, 0, n);
    } finally {
      fs.closeSync(source);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  syncDirectory(path.dirname(to));
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

/** Throws unless `dataDir` holds a database (checked before a claim, which would make the directory). */
export function assertDatabaseIn(dataDir: string): void {
  if (!fs.existsSync(path.join(dataDir, 'parley.db'))) throw new Error(`there is no Parley database in ${dataDir}`);
}

/**
 * Claims a data directory for a command that must not run beside a server; while a server runs on it, throws
 * "a Parley server (process N) is running on DIR: " and then `refusal` (what to do).
 */
export function claimStoppedDir(dataDir: string, refusal: string): { dir: string; release: () => void } {
  try {
    return claimDataDir(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirInUse)) throw error;
    throw new Error(`a Parley server (process ${error.pid}) is running on ${dataDir}: ${refusal}`, { cause: error });
  }
}

/** The store of a data directory no server runs on, claimed for this process; an error if it holds no database. */
export async function openStoppedStore(dataDir: string): Promise<SqliteStore> {
  assertDatabaseIn(dataDir);
  const store = await openSqliteStore(dataDir);
  removeStaleBackups(dataDir);
  return store;
}
