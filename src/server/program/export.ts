import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { askRunningServer } from '../admin-socket';
import { exportUser } from '../user-export';
import { createPrivateFile, openStoppedStore } from './files';
import { defaultDataDir, UsageError } from './usage';

export const EXPORT_USAGE = `  parley-server export USER [--data DIR] [--out FILE]`;

/** `parley-server export USER`: that account's data as JSON, on standard output or in a new file only its owner can read. */
export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { data: { type: 'string', default: defaultDataDir() }, out: { type: 'string' } },
  });
  const [username, ...rest] = positionals;
  if (!username) throw new UsageError('export needs a username');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  // Before the work: a file that exists is refused at once.
  if (values.out !== undefined) createPrivateFile(values.out);
  try {
    const running = await askRunningServer(values.data, { action: 'export', username });
    let data = running?.value;
    if (!running) {
      const store = await openStoppedStore(values.data);
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
