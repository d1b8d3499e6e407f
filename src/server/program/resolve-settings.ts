import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readConfigFile } from './config-file';
import { envName, SETTINGS, type ServeSettings, type Setting, type SettingValue } from './settings';
import { valueFromText } from './setting-value';
import { UsageError } from './usage';

/** A value some source gave, and which: `--lock-time`, `PARLEY_LOCK_TIME` or `parley.toml`. */
export interface Given {
  value: SettingValue;
  from: string;
}

export interface Resolved {
  settings: ServeSettings;
  /** The settings that a flag, the environment or the file set, by name: what the start's log line tells. */
  given: Record<string, Given>;
}

/**
 * The server's settings from its command line, the environment and the `--config` file: a flag wins over a
 * PARLEY_ variable, which wins over the file, which wins over the setting's default.
 */
export function resolveSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): Resolved {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: flagOptions() });
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const flags = fromFlags(values);
  if (positionals[0] !== undefined) {
    if (flags.has('port')) throw new UsageError('the port is given twice: as the first argument and with --port');
    flags.set('port', { value: valueFromText(setting('port'), positionals[0], 'port'), from: 'the first argument' });
  }
  const file = values.config as string | undefined;
  const layers = [flags, fromEnv(env), file === undefined ? new Map<string, Given>() : fromFile(file)];
  return build(layers);
}

/** What a configuration file alone makes of the settings (`parley-server config check`): the same checks as a start. */
export function resolveFile(file: string): Resolved {
  return build([fromFile(file)]);
}

function build(layers: ReadonlyMap<string, Given>[]): Resolved {
  const settings: ServeSettings = { server: {}, log: { level: 'info', format: 'text' }, tls: {}, metrics: {}, cluster: {} };
  const given: Record<string, Given> = {};
  for (const s of SETTINGS) {
    const found = layers.map((layer) => layer.get(s.name)).find((g) => g !== undefined);
    if (found) given[s.name] = found;
    const value = found?.value ?? s.default;
    if (value !== undefined) (s.apply as (settings: ServeSettings, value: SettingValue) => void)(settings, value);
  }
  finish(settings);
  return { settings, given };
}

/** The options made of two settings, once both are known. */
function finish(settings: ServeSettings): void {
  const { cert, key } = settings.tls;
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (cert !== undefined && key !== undefined) settings.server.tls = { cert, key };
  // Without a port there are no metrics, whatever their interface.
  const { port, host } = settings.metrics;
  if (port !== undefined) settings.server.metrics = { port, ...(host !== undefined && { host }) };
  const { url, heartbeatMs } = settings.cluster;
  if (url !== undefined) settings.server.cluster = { url, ...(heartbeatMs !== undefined && { heartbeatMs }) };
}

/** The given settings as the start's log line shows them: secrets (a database URL's password) left out. */
export function loggable(given: Record<string, Given>): Record<string, Given> {
  return Object.fromEntries(
    Object.entries(given).map(([name, g]) => {
      const logged = (setting(name).logged as ((value: SettingValue) => string) | undefined)?.(g.value);
      return [name, logged === undefined ? g : { ...g, value: logged }];
    }),
  );
}

function setting(name: string): Setting {
  return SETTINGS.find((s) => s.name === name)!;
}

function flagNames(s: Setting): string[] {
  return [s.name, ...(s.aliases ?? [])];
}

function flagOptions(): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { config: { type: 'string' } };
  for (const s of SETTINGS) {
    for (const name of flagNames(s))
      options[name] = s.type === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: s.type === 'list' };
  }
  return options;
}

function fromFlags(values: Record<string, string | boolean | (string | boolean)[] | undefined>): Map<string, Given> {
  const found = new Map<string, Given>();
  for (const s of SETTINGS) {
    const names = flagNames(s).filter((name) => values[name] !== undefined);
    if (names.length > 1) throw new UsageError(`${names.map((n) => `--${n}`).join(' and ')} are the same setting: give one`);
    const name = names[0];
    if (name === undefined) continue;
    const raw = values[name]!;
    // A list's flag may be repeated, and each one may hold several items.
    const value = typeof raw === 'boolean' ? raw : valueFromText(s, Array.isArray(raw) ? raw.join(',') : raw, `--${name}`);
    found.set(s.name, { value, from: `--${name}` });
  }
  return found;
}

/** PARLEY_ variables; an empty one counts as unset, as systemd's `Environment=NAME=` means. */
function fromEnv(env: NodeJS.ProcessEnv): Map<string, Given> {
  const found = new Map<string, Given>();
  for (const s of SETTINGS) {
    // A flag's alias has its variable too (PARLEY_BLOCK_TIME for --block-time), but only one of them may be set.
    const set = [envName(s), ...(s.aliases ?? []).map((alias) => envName({ name: alias }))].filter((name) => env[name]);
    if (set.length > 1) throw new UsageError(`${set.join(' and ')} set the same setting: keep one`);
    const [name] = set;
    if (name !== undefined) found.set(s.name, { value: valueFromText(s, env[name]!, name), from: name });
  }
  return found;
}

function fromFile(file: string): Map<string, Given> {
  return new Map([...readConfigFile(file, SETTINGS)].map(([name, value]) => [name, { value, from: file }]));
}
