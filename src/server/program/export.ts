import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { askRunningServer } from '../admin-socket';
import { exportUser } from '../user-export';
import { createPrivateFile, openStoppedStore } from './files';
import { dataDirOf, DATA_DIR_OPTIONS, DATA_DIR_USAGE } from './data-dir-option';
import { UsageError } from './usage';

export const EXPORT_USAGE = `  parley-server export USER ${DATA_DIR_USAGE} [--out FILE]`;

/** `parley-server export USER`: that account's data as JSON, on standard output or in a new file only its owner can read. */
export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...DATA_DIR_OPTIONS, out: { type: 'string' } },
  });
  const dataDir = dataDirOf(values);
  const [username, ...rest] = positionals;
  if (!username) throw new UsageError('export needs a username');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  // Before the work: a file that exists is refused at once.
  if (values.out !== undefined) createPrivateFile(values.out);
  try {
    const running = await askRunningServer(dataDir, { action: 'export', username });
    let data = running?.value;
    if (!running) {
      const store = await openStoppedStore(dataDir);
      try {
        data = await exportUser(store, username, Date.now());
      } finally {
        await store.close();
      }
    }
    const json = `${JSON.stringify(data, null, 2)}\n`;
    if (values.out === undefined) process.stdout.write(json);
    else fs.writeFileSync(values.out, json);
    return 0;
  } catch (error) {
    if (values.out !== undefined) fs.rmSync(values.out, { force: true });
    throw error;
  }
}
