import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'smol-toml';
import { resolveFile, resolveSettings } from '../src/server/program/resolve-settings';
import { SERVE_OPTIONS_HELP } from '../src/server/program/serve';
import { describeDefault, envName, SETTINGS, type ServeSettings, type Setting, type SettingValue } from '../src/server/program/settings';
import { tempDir } from './helpers/server';

// Every consumer of the settings table must know every entry: a setting added to it and missed by one of them fails here.

/** A valid value for each setting that differs from its default, so that its effect shows. */
function sample(s: Setting): SettingValue {
  switch (s.type) {
    case 'integer':
      return Math.min((s.default ?? s.min) + 1, s.max ?? Infinity);
    case 'rate':
      return (s.default ?? 1) + 0.5;
    case 'boolean':
      return !s.default;
    case 'choice':
      return s.choices.find((c) => c !== s.default)!;
    case 'list':
      return s.example ?? ['https://chat.example.org'];
    default:
      return `${s.example ?? 'sample'}-1`;
  }
}

const asText = (v: SettingValue): string => (Array.isArray(v) ? v.join(',') : String(v));

function blank(): ServeSettings {
  return { server: {}, log: { level: 'info', format: 'text' }, tls: {}, metrics: {}, cluster: {} };
}

describe('the settings table', () => {
  test('names are unique, and so are flags and variables', () => {
    const flags = SETTINGS.flatMap((s) => [s.name, ...(s.aliases ?? [])]);
    assert.equal(new Set(flags).size, flags.length);
    assert.equal(new Set(SETTINGS.map(envName)).size, SETTINGS.length);
  });

  test('every setting changes what the server is given', () => {
    for (const s of SETTINGS) {
      const settings = blank();
      (s.apply as (t: ServeSettings, v: SettingValue) => void)(settings, sample(s));
      assert.notDeepEqual(settings, blank(), `${s.name} changes nothing`);
    }
  });

  test('every setting is a flag, a variable and a key of the file, each read as the same value', () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'all.toml');
      writeFileSync(file, stringify(Object.fromEntries(SETTINGS.map((s) => [s.name, sample(s)]))));
      const flags = resolveSettings(
        SETTINGS.flatMap((s) => (s.type === 'boolean' ? [`--${s.name}`] : [`--${s.name}`, asText(sample(s))])),
        {},
      );
      const env = resolveSettings([], Object.fromEntries(SETTINGS.map((s) => [envName(s), asText(sample(s))])));
      const fromFile = resolveSettings(['--config', file], {});
      for (const s of SETTINGS) {
        assert.equal(flags.given[s.name]?.from, `--${s.name}`);
        assert.equal(env.given[s.name]?.from, envName(s));
        assert.equal(fromFile.given[s.name]?.from, file);
      }
      assert.deepEqual(env.settings, flags.settings);
      assert.deepEqual(fromFile.settings, flags.settings);
      assert.deepEqual(resolveFile(file).settings, flags.settings);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--block-time is --lock-time by its old name; the port is also the first argument, but not twice', () => {
    assert.equal(resolveSettings(['--block-time', '9'], {}).settings.server.timings?.blockMs, 9000);
    // The alias's variable too, though never beside the setting's own.
    assert.equal(resolveSettings([], { PARLEY_BLOCK_TIME: '8' }).settings.server.timings?.blockMs, 8000);
    assert.throws(() => resolveSettings([], { PARLEY_BLOCK_TIME: '8', PARLEY_LOCK_TIME: '7' }), /PARLEY_LOCK_TIME and PARLEY_BLOCK_TIME/);
    assert.deepEqual(resolveSettings(['4100'], {}).given.port, { value: 4100, from: 'the first argument' });
    assert.throws(() => resolveSettings(['4100', '--port', '4200'], {}), /the port is given twice/);
    assert.throws(() => resolveSettings(['4100', '4200'], {}), /unexpected arguments: 4200/);
  });

  test("a configuration file's keys are shown escaped in its errors: a quoted key cannot forge a line", () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'hostile.toml');
      writeFileSync(file, '"port\\u001b[2K\\nparley.toml is valid" = 1\n');
      assert.throws(
        () => resolveFile(file),
        (err: Error) =>
          !err.message.includes('\u001b') && err.message.split('\n').length === 1 && err.message.includes('\\x1b[2K\\x0aparley.toml'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every flag and alias is in --help, with its default', () => {
    for (const s of SETTINGS) {
      for (const flag of [s.name, ...(s.aliases ?? [])]) assert.match(SERVE_OPTIONS_HELP, new RegExp(`--${flag}\\b`));
      const entry = SERVE_OPTIONS_HELP.slice(SERVE_OPTIONS_HELP.indexOf(`--${s.name}`));
      assert.ok(entry.includes(`${s.help} (default ${describeDefault(s)})`), `--help on ${s.name}`);
    }
  });

  test('docs/configuration.md has one row per setting: flags, key, variable, default and meaning', () => {
    const doc = readFileSync('docs/configuration.md', 'utf8');
    const section = doc.slice(doc.indexOf('## Settings'), doc.indexOf('## Logs'));
    const rows = [...section.matchAll(/^\| (`--.+)\|$/gm)].map((m) => m[1]!.split('|').map((cell) => cell.trim()));
    const expected = SETTINGS.map((s) => [
      [s.name, ...(s.aliases ?? [])].map((n) => `\`--${n}${s.arg ? ` ${s.arg}` : ''}\``).join(', '),
      `\`${s.name}\``,
      `\`${envName(s)}\``,
      describeDefault(s),
      s.help,
    ]);
    assert.deepEqual(rows, expected);
  });

  test('deploy/parley.toml has every key, commented out at its default or example, and passes the check uncommented', () => {
    const example = readFileSync('deploy/parley.toml', 'utf8');
    assert.deepEqual(Object.keys(parse(example)), [], 'the example sets nothing as it comes');
    const keys = [...example.matchAll(/^# ([a-z-]+ = .*)$/gm)].map((m) => m[1]!);
    const uncommented = { ...parse(keys.join('\n')) };
    assert.deepEqual(
      uncommented,
      Object.fromEntries(SETTINGS.map((s) => [s.name, s.example ?? s.default])),
      'each key at its example, or else its default',
    );
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'parley.toml'), keys.join('\n'));
      assert.equal(Object.keys(resolveFile(join(dir, 'parley.toml')).given).length, SETTINGS.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
