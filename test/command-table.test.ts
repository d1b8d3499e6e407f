import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { COMMANDS, COMMAND_HELP, formUsage, parseCommand, requestSchemas } from '../src/protocol';
import { formatHelp } from '../src/client/sentences';
import { complete } from '../src/webview/completion';
import { sample } from './helpers/commands';

const usernames = ['bob', 'bella', 'carol'];

interface Manifest {
  contributes: { commands: { command: string; title: string }[]; menus: { commandPalette?: { command: string; when?: string }[] } };
}
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;
const hiddenFromPalette = new Set(
  (manifest.contributes.menus.commandPalette ?? []).filter((m) => m.when === 'false').map((m) => m.command),
);

describe('the command table', () => {
  for (const spec of COMMANDS) {
    const names = [spec.name, ...spec.aliases.map((a) => a.name)];
    test(`${spec.name}: every form parses, is in help and is completed`, () => {
      for (const name of names) {
        for (const form of spec.forms) {
          const line = sample(name, form.tokens);
          const parsed = parseCommand(line);
          assert.ok(parsed.ok, `${line}: ${parsed.ok ? '' : parsed.error}`);
          assert.equal(parsed.command.name, spec.name, line);
          assert.ok(
            COMMAND_HELP.some((h) => h.usage === formUsage(name, form)),
            `help has ${formUsage(name, form)}`,
          );
          // Wherever a form expects a user, completion offers the usernames.
          form.tokens.forEach((token, i) => {
            if ('word' in token || (token.arg !== 'user' && token.arg !== 'users')) return;
            const typed = `/${sample(name, form.tokens.slice(0, i))} b`;
            assert.deepEqual(
              complete(typed, typed.length, usernames)?.items.map((c) => c.label),
              ['bob', 'bella'],
              `completion after "${typed}"`,
            );
          });
        }
        const typed = `/${name.slice(0, -1)}`;
        const offered = complete(typed, typed.length, usernames)?.items.map((c) => c.insert.trim()) ?? [];
        // The panel neither completes nor lists what only the terminal has; the terminal's help does.
        const panel = spec.terminalOnly === undefined;
        assert.equal(offered.includes(`/${name}`), panel, `completion offers /${name} for "${typed}": ${panel}`);
        assert.equal(new RegExp(`^  /${name}\\b`, 'm').test(formatHelp('panel')), panel, `the panel's help lists /${name}: ${panel}`);
        assert.match(formatHelp('terminal'), new RegExp(`^  ${name}\\b`, 'm'), `the terminal's help lists ${name}`);
      }
      if (spec.request !== undefined) assert.ok(spec.request in requestSchemas, `${spec.request} is a request`);
    });

    test(`${spec.name}: its palette entries are in package.json, and a command with a request has one or says why not`, () => {
      const entries = spec.forms.flatMap((form) => form.palette ?? []);
      if (spec.noPalette !== undefined) {
        assert.ok(spec.noPalette.trim(), 'the reason is given');
        assert.deepEqual(entries, [], 'a command without palette entries has none');
      } else if (spec.request !== undefined) {
        assert.ok(entries.length > 0, `${spec.name} has a request: give it a palette entry, or say in noPalette why not`);
      }
      for (const entry of entries) {
        const contributed = manifest.contributes.commands.find((c) => c.command === entry.id);
        assert.ok(contributed, `package.json contributes ${entry.id}`);
        assert.equal(contributed.title, entry.title, entry.id);
        assert.equal(hiddenFromPalette.has(entry.id), entry.contextOnly === true, `${entry.id} is hidden from the palette if context only`);
      }
    });
  }

  test('no two palette entries share an id', () => {
    const ids = COMMANDS.flatMap((c) => c.forms.flatMap((f) => (f.palette ?? []).map((e) => e.id)));
    assert.deepEqual(ids, [...new Set(ids)]);
  });
});
