import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { interpret, type Conversation } from '../src/cli/conversation';
import { formatMessage, promptOf } from '../src/cli/format';
import type { ChatMessage } from '../src/protocol';

const general: Conversation = { kind: 'channel', channel: 'general' };
const bob: Conversation = { kind: 'direct', with: 'bob' };
const bobPrivately: Conversation = { kind: 'private', with: 'bob' };

describe('what a typed line becomes', () => {
  test('in command mode: a bare command as in the original, or the same with "/"; "//" has nowhere to go', () => {
    for (const line of ['wholast 5', '/wholast 5'])
      assert.deepEqual(interpret(line, undefined), { parsed: { ok: true, command: { name: 'wholast', minutes: 5 } }, typed: true });
    assert.deepEqual(interpret('hello there', undefined).parsed, { ok: false, error: 'unknown command "hello"; "help" lists them' });
    assert.equal(interpret('//x', undefined).parsed.ok, false);
  });

  test('in a conversation: plain lines and "//" lines are text for it, "/" lines commands', () => {
    assert.deepEqual(interpret('wholast 5', general), {
      parsed: { ok: true, command: { name: 'post', channel: 'general', body: 'wholast 5' } },
      typed: false,
    });
    assert.deepEqual(interpret('//me  waves', bob).parsed, { ok: true, command: { name: 'message', to: 'bob', body: '/me  waves' } });
    assert.deepEqual(interpret('  indented', bobPrivately).parsed, {
      ok: true,
      command: { name: 'private', to: 'bob', body: '  indented' },
    });
    assert.deepEqual(interpret('/close', bobPrivately), { parsed: { ok: true, command: { name: 'close' } }, typed: true });
    assert.equal(interpret('x'.repeat(4001), general).parsed.ok, false, 'the limits of the command it becomes');
  });

  test('the prompt names the conversation, and a private one says it is direct and encrypted', () => {
    assert.deepEqual([undefined, general, bob, bobPrivately].map(promptOf), ['> ', '#general> ', 'bob> ', 'bob (private, encrypted)> ']);
  });
});

describe('a message line in a conversation', () => {
  const at = new Date(2026, 11, 3, 14, 5).getTime();
  const message = (fields: Partial<ChatMessage>): ChatMessage => ({
    id: 1,
    from: 'bob',
    to: null,
    kind: 'channel',
    body: 'hi',
    sentAt: at,
    ...fields,
  });
  const line = (m: ChatMessage, here?: Conversation): string => formatMessage(m, 'ann', at, here);

  test("a channel's lines are marked outside it, a mention of the user everywhere", () => {
    const inGeneral = message({ channel: 'general', seq: 1 });
    assert.equal(line(inGeneral), '[14:05] [#general] bob: hi');
    assert.equal(line(inGeneral, general), '[14:05] bob: hi');
    assert.equal(line(inGeneral, bob), '[14:05] [#general] bob: hi');
    assert.equal(line(message({ channel: 'general', seq: 2, mentions: ['ann'] })), '[14:05] [#general] bob (mentions you): hi');
    assert.equal(line(message({ from: 'ann', channel: 'general', seq: 3, mentions: ['ann'] })), '[14:05] [#general] ann: hi');
  });

  test('a direct message is marked "(direct)" only inside another conversation', () => {
    const direct = message({ kind: 'direct', to: 'ann' });
    assert.equal(line(direct), '[14:05] bob: hi', 'as in the original');
    assert.equal(line(direct, bob), '[14:05] bob: hi');
    assert.equal(line(direct, general), '[14:05] bob (direct): hi');
    assert.equal(line(direct, bobPrivately), '[14:05] bob (direct): hi', 'not to be taken for the private chat');
    assert.equal(line(message({ kind: 'direct', from: 'ann', to: 'bob' }), general), '[14:05] ann -> bob: hi');
  });
});
