import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMMAND_HELP } from '../src/protocol/commands';
import { complete } from '../src/webview/completion';
import { TimelineWindow } from '../src/webview/timeline-window';

const users = ['bob', 'bella', 'carol'];
const labels = (text: string, cursor = text.length) => complete(text, cursor, users)?.items.map((i) => i.label);

describe('composer completion', () => {
  test('command names only after a leading "/", from the command table', () => {
    assert.deepEqual(labels('/who'), ['/whoelse', '/wholast <minutes>']);
    assert.deepEqual(labels('/bl'), ['/block <user>', '/blocklist']);
    assert.equal(complete('/bl', 3, users)?.items[0]?.insert, '/block ');
    assert.equal(complete('/who', 4, users)?.items[0]?.insert, '/whoelse');
    const panelCommands = new Set(COMMAND_HELP.filter((h) => !h.terminalOnly).map((h) => h.usage.split(' ')[0]));
    assert.equal(labels('/')?.length, panelCommands.size, 'a bare "/" offers every command the panel has');
    assert.equal(labels('/whoelse'), undefined, 'a complete command needs no completion');
    for (const plain of ['who', 'logout', 'message b', 'hello', '', '//who', ' /who', 'see /who']) {
      assert.equal(labels(plain), undefined, `"${plain}" is a message: nothing to complete`);
    }
  });

  test('usernames where a "/" command expects one, and after @ in any line', () => {
    assert.deepEqual(labels('/message b'), ['bob', 'bella']);
    assert.deepEqual(labels('/block c'), ['carol']);
    assert.deepEqual(labels('see @be'), ['@bella']);
    assert.deepEqual(labels('message me @ca'), ['@carol']);
    assert.equal(labels('/message bob hi b'), undefined, 'the text of a message is not completed');
    assert.deepEqual(labels('/broadcast '), ['message <text>', 'user <user> ... message <text>']);
    assert.deepEqual(labels('/broadcast user bob '), ['bella', 'carol', 'message <text>']);
    assert.deepEqual(labels('/broadcast user bob m'), ['message <text>']);
    for (const command of ['/startprivate', '/getaddress', '/stopprivate', '/private', '/unblock', '/UNBLOCK']) {
      assert.deepEqual(labels(`${command} b`), ['bob', 'bella'], command);
    }
    const r = complete('/message b and more', 10, users)!;
    assert.deepEqual([r.from, r.to], [9, 10]);
  });

  test('channels where a "/" command expects one, "#" typed or not', () => {
    const channels = ['general', 'dev', 'design'];
    const offered = (text: string) => complete(text, text.length, users, channels)?.items.map((i) => [i.label, i.insert]);
    assert.deepEqual(offered('/join #de'), [
      ['#dev', '#dev '],
      ['#design', '#design '],
    ]);
    assert.deepEqual(offered('/leave g'), [['#general', '#general ']]);
    assert.deepEqual(offered('/invite #dev b'), [
      ['bob', 'bob '],
      ['bella', 'bella '],
    ]);
    assert.deepEqual(offered('/invite #dev '), [
      ['bob', 'bob '],
      ['bella', 'bella '],
      ['carol', 'carol '],
    ]);
    assert.equal(offered('/topic #dev shipping #d'), undefined, 'no channel inside text');
  });
});

describe('timeline window', () => {
  test('stays within its maximum while sliding and while items are inserted', () => {
    const w = new TimelineWindow(100, 30);
    w.toBottom(1000);
    assert.deepEqual([w.start, w.end], [900, 1000]);
    assert.equal(w.up(), true);
    assert.deepEqual([w.start, w.end], [870, 970]);
    w.inserted([0, 1, 2], 1003, false);
    assert.deepEqual([w.start, w.end], [873, 973]);
    assert.equal(w.down(1003), true);
    assert.deepEqual([w.start, w.end], [903, 1003]);
    assert.equal(w.atBottom(1003), true);
    w.inserted([1003], 1004, true);
    assert.deepEqual([w.start, w.end], [904, 1004]);
    while (w.up());
    assert.deepEqual([w.start, w.end], [0, 100]);
  });
});
