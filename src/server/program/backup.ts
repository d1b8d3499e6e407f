import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { askRunningServer } from '../admin-socket';
import { backupInto, copyInto, createPrivateFile, openStoppedStore } from './files';
import { dataDirOf, DATA_DIR_OPTIONS, DATA_DIR_USAGE } from './data-dir-option';
import { UsageError } from './usage';

export const BACKUP_USAGE = `  parley-server backup FILE ${DATA_DIR_USAGE}`;

/**
 * `parley-server backup FILE`: a consistent copy of the database (SQLite's VACUUM INTO), made in the data directory by the
 * server running on it between two of its commits, or by this process when none runs, then copied to FILE by this process.
 */
export async function backupCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...DATA_DIR_OPTIONS },
  });
  const dataDir = dataDirOf(values);
  const [file, ...rest] = positionals;
  if (!file) throw new UsageError('backup needs the FILE to write');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const target = path.resolve(file);
  createPrivateFile(target);
  let staging: string | undefined;
  try {
    const started = performance.now();
    const running = await askRunningServer(dataDir, { action: 'backup' });
    if (running) staging = String(running.value);
    else {
      const store = await openStoppedStore(dataDir);
      try {
        staging = await backupInto(store, fs.realpathSync(dataDir));
      } finally {
        await store.close();
      }
    }
    copyInto(staging, target);
    const how = running ? 'the running server made it' : 'no server was running';
    const ms = Math.round(performance.now() - started);
    console.log(`Backed up ${dataDir} to ${file} (${fs.statSync(target).size} bytes in ${ms} ms; ${how}).`);
    return 0;
  } catch (error) {
    fs.rmSync(target, { force: true }); // ours: created above
    throw error;
  } finally {
    if (staging !== undefined) fs.rmSync(staging, { force: true });
  }
}
