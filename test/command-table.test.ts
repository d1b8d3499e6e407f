import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMMANDS, COMMAND_HELP, formUsage, parseCommand, requestSchemas } from '../src/protocol';
import { complete } from '../src/webview/completion';
import { sample } from './helpers/commands';

const usernames = ['bob', 'bella', 'carol'];

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
            const typed = `${sample(name, form.tokens.slice(0, i))} b`;
            assert.deepEqual(
              complete(typed, typed.length, usernames)?.items.map((c) => c.label),
              ['bob', 'bella'],
              `completion after "${typed}"`,
            );
          });
        }
        const offered = complete(name.slice(0, -1), name.length - 1, usernames)?.items.map((c) => c.insert.trim());
        assert.ok(offered?.includes(name), `completion offers ${name} for "${name.slice(0, -1)}"`);
      }
      if (spec.request !== undefined) assert.ok(spec.request in requestSchemas, `${spec.request} is a request`);
    });
  }
});
