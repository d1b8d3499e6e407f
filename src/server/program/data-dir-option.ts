import fs from 'node:fs';
import { resolveFile } from './resolve-settings';
import { UsageError } from './usage';

/** The options by which the commands that work on a data directory (users, backup, restore, export) are told which. */
export const DATA_DIR_OPTIONS = { data: { type: 'string' }, config: { type: 'string' } } as const;

export const DATA_DIR_USAGE = '[--data DIR | --config FILE]';

const DEFAULT = '.parley-data';

/**
 * The data directory a command works on: `--data`, else PARLEY_DATA, else the `data` of the `--config` file (as the server
 * ranks them), else ./.parley-data if it exists. Never a new directory by default: an operator who forgot `--data` would
 * otherwise manage accounts in a database no server reads.
 */
export function dataDirOf(values: { data?: string; config?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (values.data !== undefined) return values.data;
  if (env.PARLEY_DATA) return env.PARLEY_DATA;
  if (values.config !== undefined) {
    const fromFile = resolveFile(values.config).given.data?.value;
    if (typeof fromFile === 'string') return fromFile;
  }
  if (fs.existsSync(DEFAULT)) return DEFAULT;
  throw new UsageError(`which data directory? Give --data DIR, --config FILE or PARLEY_DATA (there is no ./${DEFAULT} here)`);
}
