import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { errorMessage } from '../../protocol/errors';
import type { Setting, SettingValue } from './settings';
import { valueFromToml } from './setting-value';
import { printable, UsageError } from './usage';

/**
 * Reads a `--config` file (TOML, its keys the settings' names) into the values it sets. Every problem in it
 * (a syntax error, an unknown key, a wrong type or range) is told at once, each as `FILE:LINE: key ...`, in one
 * UsageError.
 */
export function readConfigFile(file: string, settings: readonly Setting[]): Map<string, SettingValue> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the configuration file ${file}: ${errorMessage(err)}`);
  }
  let table: Record<string, unknown>;
  try {
    table = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw new UsageError(`${file}:${err.line}:${err.column}: ${reason}`);
  }

  const byName = new Map(settings.map((s) => [s.name, s]));
  const values = new Map<string, SettingValue>();
  const problems: string[] = [];
  for (const [key, value] of Object.entries(table)) {
    // A quoted key may hold any character: shown escaped, so that it cannot forge a line of the report.
    const where = `${file}:${lineOf(text, key) ?? '?'}: ${printable(key)}`;
    const setting = byName.get(key);
    if (!setting) {
      problems.push(`${where} is not a setting of parley-server${suggestion(key, byName)}`);
      continue;
    }
    try {
      values.set(key, valueFromToml(setting, value, where));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return values;
}

/**
 * The line a top-level key is set on (1-based). The parser keeps no positions; a top-level key comes before
 * every table in TOML, so its first appearance as a key (bare or quoted, dotted) or a table's name is the one.
 */
export function lineOf(text: string, key: string): number | undefined {
  const name = `(?:${escape(key)}|"${escape(key)}"|'${escape(key)}')`;
  const pattern = new RegExp(`^\\s*(?:${name}\\s*[=.]|\\[\\[?\\s*${name}\\s*[\\].])`);
  const index = text.split(/\r?\n/).findIndex((line) => pattern.test(line));
  return index < 0 ? undefined : index + 1;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Keys written the way TOML files elsewhere often are (lock_time, LockTime) get the setting's real name. */
function suggestion(key: string, byName: ReadonlyMap<string, Setting>): string {
  const simple = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');
  const match = [...byName.keys()].find((name) => simple(name) === simple(key));
  return match ? ` (did you mean ${match}?)` : '';
}
