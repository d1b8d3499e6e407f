import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { askRunningServer } from '../admin-socket';
import { backupInto, copyInto, createPrivateFile, openStoppedStore } from './files';
import { defaultDataDir, UsageError } from './usage';

export const BACKUP_USAGE = `  parley-server backup FILE [--data DIR]`;

/**
 * `parley-server backup FILE`: a consistent copy of the database (SQLite's VACUUM INTO), made in the data directory by the
 * server running on it between two of its commits, or by this process when none runs, then copied to FILE by this process.
 */
export async function backupCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { data: { type: 'string', default: defaultDataDir() } },
  });
  const [file, ...rest] = positionals;
  if (!file) throw new UsageError('backup needs the FILE to write');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const target = path.resolve(file);
  createPrivateFile(target);
  let staging: string | undefined;
  try {
    const started = performance.now();
    const running = await askRunningServer(values.data, { action: 'backup' });
    if (running) staging = String(running.value);
    else {
      const store = await openStoppedStore(values.data);
      try {
        staging = await backupInto(store, fs.realpathSync(values.data));
      } finally {
        await store.close();
      }
    }
    copyInto(staging, target);
    const how = running ? 'the running server made it' : 'no server was running';
    const ms = Math.round(performance.now() - started);
    console.log(`Backed up ${values.data} to ${file} (${fs.statSync(target).size} bytes in ${ms} ms; ${how}).`);
    return 0;
  } catch (error) {
    fs.rmSync(target, { force: true }); // ours: created above
    throw error;
  } finally {
    if (staging !== undefined) fs.rmSync(staging, { force: true });
  }
}
