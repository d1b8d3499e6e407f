import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCliArgs } from '../src/cli/args';
import { COMMAND_HELP, COMMAND_NAMES, LIMITS } from '../src/protocol';
import { parsed, rejected } from './helpers/commands';

describe('private chat commands', () => {
  test("the original's syntax: startprivate, getaddress (the same), private, stopprivate", () => {
    assert.deepEqual(parsed('startprivate bob'), { name: 'startprivate', username: 'bob' });
    assert.deepEqual(parsed('getaddress bob'), { name: 'startprivate', username: 'bob' });
    assert.deepEqual(parsed('  StartPrivate  bob '), { name: 'startprivate', username: 'bob' });
    assert.deepEqual(parsed('private bob hi  there'), { name: 'private', to: 'bob', body: 'hi  there' });
    assert.deepEqual(parsed('private bob a\nb'), { name: 'private', to: 'bob', body: 'a\nb' });
    assert.deepEqual(parsed('stopprivate bob'), { name: 'stopprivate', username: 'bob' });
  });

  test('helpful errors', () => {
    assert.match(rejected('startprivate'), /usage: startprivate <user> \(with whom\?\)/);
    assert.match(rejected('getaddress'), /usage: getaddress <user>/);
    assert.match(rejected('startprivate bob hello'), /takes one username; then "private bob <text>" sends/);
    assert.match(rejected('stopprivate bob now'), /^stopprivate takes one username$/);
    assert.match(rejected('private'), /usage: private <user> <text> \(to whom\?\)/);
    assert.match(rejected('private bob'), /empty/);
    assert.match(rejected('private b*b hi'), /not a valid username/);
    assert.match(rejected(`private bob ${'x'.repeat(LIMITS.messageMax + 1)}`), /at most 4000 characters/);
  });

  test('listed in help and completions', () => {
    for (const name of ['startprivate', 'getaddress', 'private', 'stopprivate'] as const) {
      assert.ok(COMMAND_NAMES.includes(name));
      assert.ok(COMMAND_HELP.some((h) => h.usage.startsWith(`${name} <user>`)));
    }
  });

  test('the terminal client takes --peer-host', () => {
    assert.deepEqual(parseCliArgs(['--peer-host', '192.168.1.5', '10.0.0.1', '4000']), {
      kind: 'connect',
      url: 'http://10.0.0.1:4000',
      peerHost: '192.168.1.5',
    });
    assert.deepEqual(parseCliArgs(['10.0.0.1:4000', '--peer-host=0.0.0.0']), {
      kind: 'connect',
      url: 'http://10.0.0.1:4000',
      peerHost: '0.0.0.0',
    });
    assert.deepEqual(parseCliArgs(['10.0.0.1:4000']), { kind: 'connect', url: 'http://10.0.0.1:4000' });
    assert.equal(parseCliArgs(['--peer-host', 'myhost', '10.0.0.1:4000']).kind, 'usage');
    assert.equal(parseCliArgs(['10.0.0.1:4000', '--peer-host']).kind, 'usage');
  });
});
