import fs from 'node:fs';
import { resolveFile } from './resolve-settings';
import { envName, SETTINGS } from './settings';
import { valueFromText } from './setting-value';
import { UsageError } from './usage';

/** The options by which the commands that work on a data directory (backup, restore, export) are told which. */
export const DATA_DIR_OPTIONS = { data: { type: 'string' }, config: { type: 'string' } } as const;

export const DATA_DIR_USAGE = '[--data DIR | --config FILE]';

/** As DATA_DIR_OPTIONS, for a command that works on a cluster's database too (users). */
export const STORE_OPTIONS = { ...DATA_DIR_OPTIONS, postgres: { type: 'string' } } as const;

export const STORE_USAGE = '[--data DIR | --postgres URL | --config FILE]';

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

/** Where a command's accounts are: a data directory, or a cluster's PostgreSQL database (its URL). */
export type AdminStore = { dataDir: string } | { postgres: string };

/**
 * The store a command works on: the cluster's database that a server started with the same flags, PARLEY_ variables
 * and `--config` file would be a node of (`--postgres`, else PARLEY_POSTGRES, else the file's `postgres`), else the data
 * directory as dataDirOf finds it. `--data` beside a database named anywhere is refused rather than one of them guessed.
 */
export function storeOf(values: { data?: string; config?: string; postgres?: string }, env: NodeJS.ProcessEnv = process.env): AdminStore {
  const postgres = postgresOf(values, env);
  if (postgres && values.data !== undefined)
    throw new UsageError(`--data names a data directory and ${postgres.from} a cluster's database: give one of them`);
  return postgres ? { postgres: postgres.url } : { dataDir: dataDirOf(values, env) };
}

function postgresOf(values: { config?: string; postgres?: string }, env: NodeJS.ProcessEnv): { url: string; from: string } | undefined {
  const setting = SETTINGS.find((s) => s.name === 'postgres')!;
  const variable = envName(setting);
  // Checked as the server checks them; the check's message never holds the URL (nor so its password).
  if (values.postgres !== undefined) return { url: valueFromText(setting, values.postgres, '--postgres') as string, from: '--postgres' };
  if (env[variable]) return { url: valueFromText(setting, env[variable], variable) as string, from: variable };
  if (values.config === undefined) return undefined;
  const fromFile = resolveFile(values.config).given.postgres?.value;
  return typeof fromFile === 'string' ? { url: fromFile, from: values.config } : undefined;
}
