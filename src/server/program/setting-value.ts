import type { Setting, SettingValue } from './settings';
import { UsageError } from './usage';

/**
 * Reading one setting's value, from text (a flag, an environment variable) or from what the TOML parser made
 * of it. A wrong value throws a UsageError that starts with `where`: `--port`, `PARLEY_PORT`, `parley.toml:3: port`.
 */

/** A flag's argument or a variable's text. A list is comma-separated (a flag may also be repeated: see resolve-settings.ts). */
export function valueFromText(setting: Setting, text: string, where: string): SettingValue {
  const wrong = (what: string): never => {
    throw new UsageError(`${where} must be ${what}, not ${JSON.stringify(text)}`);
  };
  switch (setting.type) {
    case 'integer':
      if (!/^\d+$/.test(text)) wrong('a whole number');
      return checked(setting, Number(text), where);
    case 'rate':
      if (!/^\d+(\.\d+)?$/.test(text)) wrong('a number');
      return checked(setting, Number(text), where);
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      return wrong('true or false');
    case 'list':
      return checked(
        setting,
        text
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
        where,
      );
    default:
      return checked(setting, text, where);
  }
}

/** A value of the configuration file, as TOML typed it: a number written as a string is an error, as in the flag's type. */
export function valueFromToml(setting: Setting, value: unknown, where: string): SettingValue {
  const wrong = (what: string): never => {
    throw new UsageError(`${where} must be ${what}, not ${describe(value)}`);
  };
  switch (setting.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) wrong('a whole number');
      return checked(setting, value as number, where);
    case 'rate':
      if (typeof value !== 'number') wrong('a number');
      return checked(setting, value as number, where);
    case 'boolean':
      if (typeof value !== 'boolean') wrong('true or false');
      return value as boolean;
    case 'list':
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) wrong('an array of strings');
      return checked(setting, value as string[], where);
    default:
      if (typeof value !== 'string') wrong('a string');
      return checked(setting, value as string, where);
  }
}

/** The checks past the value's type: ranges, choices and the setting's own. */
function checked<T extends SettingValue>(setting: Setting, value: T, where: string): T {
  const problem = rangeProblem(setting, value) ?? (setting.check as ((v: T) => string | undefined) | undefined)?.(value);
  if (problem !== undefined) throw new UsageError(`${where} ${problem}`);
  return value;
}

function rangeProblem(setting: Setting, value: SettingValue): string | undefined {
  switch (setting.type) {
    case 'integer': {
      const n = value as number;
      if (!Number.isSafeInteger(n)) return `must be a whole number, not ${n}`;
      if (n < setting.min) return `must be at least ${setting.min}`;
      if (setting.max !== undefined && n > setting.max) return `must be at most ${setting.max}`;
      return undefined;
    }
    case 'rate':
      return (value as number) > 0 && Number.isFinite(value) ? undefined : `must be above 0`;
    case 'choice':
      return setting.choices.includes(value as string) ? undefined : `must be one of ${setting.choices.join(', ')}, not "${value}"`;
    default:
      return undefined;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return value instanceof Date ? 'a date' : 'a table';
  return String(value);
}
