import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { askRunningServer } from '../admin-socket';
import { createPrivateFile, openStoppedStore, syncToDisk } from './files';
import { defaultDataDir, UsageError } from './usage';

export const BACKUP_USAGE = `  parley-server backup FILE [--data DIR]`;

/**
 * `parley-server backup FILE`: a consistent copy of the database (SQLite's VACUUM INTO), made by the server running on the
 * data directory between two of its commits, or by this process when none runs.
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
  try {
    const started = performance.now();
    const running = await askRunningServer(values.data, { action: 'backup', file: target });
    if (!running) {
      const store = await openStoppedStore(values.data);
      try {
        await store.backupTo(target);
      } finally {
        await store.close();
      }
    }
    syncToDisk(target);
    const how = running ? 'the running server made it' : 'no server was running';
    const ms = Math.round(performance.now() - started);
    console.log(`Backed up ${values.data} to ${file} (${fs.statSync(target).size} bytes in ${ms} ms; ${how}).`);
    return 0;
  } catch (error) {
    fs.rmSync(target, { force: true }); // ours: created above
    throw error;
  }
}
