import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LIMITS, parseCommand } from '../src/protocol';
import { parsed, rejected } from './helpers/commands';

describe('parseCommand', () => {
  test('the original commands', () => {
    assert.deepEqual(parsed('whoelse'), { name: 'whoelse' });
    assert.deepEqual(parsed('  wholast 10 '), { name: 'wholast', minutes: 10 });
    assert.deepEqual(parsed('broadcast message hi all'), { name: 'broadcast', body: 'hi all' });
    assert.deepEqual(parsed('broadcast user alice bob message hi'), { name: 'broadcast', body: 'hi', to: ['alice', 'bob'] });
    assert.deepEqual(parsed('message alice hi there'), { name: 'message', to: 'alice', body: 'hi there' });
    assert.deepEqual(parsed('block bob'), { name: 'block', username: 'bob' });
    assert.deepEqual(parsed('unblock bob'), { name: 'unblock', username: 'bob' });
    assert.deepEqual(parsed('logout'), { name: 'logout' });
    assert.deepEqual(parsed('blocklist'), { name: 'blocklist' });
    assert.deepEqual(parsed('help'), { name: 'help' });
  });

  test('command names are case-insensitive, message text keeps its spacing and case', () => {
    assert.deepEqual(parsed('MESSAGE alice  Two  spaces'), { name: 'message', to: 'alice', body: ' Two  spaces' });
    assert.deepEqual(parsed('broadcast message a\nb'), { name: 'broadcast', body: 'a\nb' });
  });

  test('the word "message" may appear inside a broadcast text', () => {
    assert.deepEqual(parsed('broadcast user alice message message me'), { name: 'broadcast', body: 'message me', to: ['alice'] });
  });

  test('repeated recipients are sent to once', () => {
    assert.deepEqual(parsed('broadcast user bob bob message x'), { name: 'broadcast', body: 'x', to: ['bob'] });
  });

  test('wholast needs a number from 1 to 59', () => {
    assert.match(rejected('wholast'), /usage: wholast <minutes>/);
    assert.match(rejected('wholast 0'), /1 to 59/);
    assert.match(rejected('wholast 60'), /1 to 59/);
    assert.match(rejected('wholast ten'), /whole number/);
    assert.match(rejected('wholast -5'), /whole number/);
    assert.match(rejected('wholast 1.5'), /whole number/);
    assert.deepEqual(parsed('wholast 59'), { name: 'wholast', minutes: 59 });
    assert.deepEqual(parsed('wholast 1'), { name: 'wholast', minutes: 1 });
  });

  test('broadcast syntax errors say what is missing', () => {
    assert.match(rejected('broadcast'), /usage: broadcast/);
    assert.match(rejected('broadcast hello'), /usage: broadcast/);
    assert.match(rejected('broadcast user alice bob hi'), /"message" and the text must follow/);
    assert.match(rejected('broadcast user message hi'), /name at least one user/);
    assert.match(rejected('broadcast message   '), /empty/);
    assert.match(rejected('broadcast user al!ce message hi'), /not a valid username/);
  });

  test('message, block and unblock need their arguments', () => {
    assert.match(rejected('message'), /to whom/);
    assert.match(rejected('message alice'), /empty/);
    assert.match(rejected('block'), /whom/);
    assert.match(rejected('block a b'), /one username/);
    assert.match(rejected('unblock'), /whom/);
    assert.match(rejected('whoelse now'), /takes no arguments/);
  });

  test('limits are checked before anything is sent', () => {
    assert.match(rejected(`message alice ${'x'.repeat(LIMITS.messageMax + 1)}`), /at most 4000 characters/);
    assert.ok(parseCommand(`message alice ${'x'.repeat(LIMITS.messageMax)}`).ok);
    assert.match(rejected(`message ${'a'.repeat(LIMITS.usernameMax + 1)} hi`), /longer than/);
    const many = Array.from({ length: LIMITS.broadcastRecipientsMax + 1 }, (_, i) => `u${i}`).join(' ');
    assert.match(rejected(`broadcast user ${many} message hi`), /at most 100 users/);
  });

  test('unknown and empty input', () => {
    assert.match(rejected('dance'), /unknown command "dance"/);
    assert.match(rejected('   '), /type a command/);
  });
});
