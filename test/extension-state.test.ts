import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatState, conversationOf, describeLastSeen, mentions } from '../src/extension/core/chat-state';
import type { ChatMessage } from '../src/protocol';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

function msg(id: number, from: string, to: string | null, body = `m${id}`): ChatMessage {
  return { id, from, to, kind: to === null ? 'broadcast' : 'direct', body, sentAt: T0 + id * 1000 };
}

describe('chat state (no VS Code, no network)', () => {
  test('messages land in their conversation, each id once, ordered by id whatever the arrival order', () => {
    const state = new ChatState(() => T0);
    state.reset('alice');
    state.addMessages([msg(5, 'bob', 'alice'), msg(2, 'bob', 'alice'), msg(9, 'alice', 'bob'), msg(3, 'carol', null)], false);
    state.addMessages([msg(2, 'bob', 'alice'), msg(7, 'bob', 'alice'), msg(5, 'bob', 'alice')], true);
    assert.deepEqual(
      state.messages('dm:bob').map((m) => m.id),
      [2, 5, 7, 9],
    );
    assert.deepEqual(
      state.messages('everyone').map((m) => m.id),
      [3],
    );
    assert.equal(conversationOf(msg(9, 'alice', 'bob'), 'alice'), 'dm:bob');
    assert.equal(conversationOf(msg(9, 'bob', 'alice'), 'alice'), 'dm:bob');
  });

  test('unread counts only live messages from others, not history and not my own, and not what is on screen', () => {
    const state = new ChatState(() => T0);
    state.reset('alice');
    state.addMessages([msg(1, 'bob', 'alice')], false);
    state.addMessages([msg(2, 'bob', 'alice'), msg(3, 'alice', 'bob'), msg(4, 'carol', null)], true);
    assert.equal(state.unread('dm:bob'), 1);
    assert.equal(state.unread('everyone'), 1);
    assert.equal(state.totalUnread, 2);
    state.setViewing(['dm:bob']);
    assert.equal(state.unread('dm:bob'), 0);
    state.addMessages([msg(5, 'bob', 'alice')], true);
    assert.equal(state.unread('dm:bob'), 0, 'a message to the conversation on screen is read');
    state.setViewing([]);
    state.addMessages([msg(6, 'bob', 'alice')], true);
    assert.equal(state.unread('dm:bob'), 1);
    state.markRead('dm:bob');
    assert.equal(state.totalUnread, 1);
  });

  test('conversations: Everyone first, then direct ones by latest activity, with unread and presence', () => {
    const state = new ChatState(() => T0);
    state.reset('alice');
    state.addMessages([msg(1, 'bob', 'alice'), msg(2, 'carol', 'alice')], true);
    state.applyPresence({ username: 'bob', online: true, at: T0 });
    const list = state.conversations();
    assert.deepEqual(
      list.map((c) => [c.id, c.title, c.unread, c.online]),
      [
        ['everyone', 'Everyone', 0, false],
        ['dm:carol', 'carol', 1, false],
        ['dm:bob', 'bob', 1, true],
      ],
    );
  });

  test('notices sit after the newest message at the time, and items page backwards by key', () => {
    const state = new ChatState(() => T0);
    state.reset('alice');
    state.addMessages([msg(1, 'bob', null), msg(2, 'bob', null)], true);
    state.addNotice('everyone', 'bob went offline', 'presence');
    state.addMessages([msg(3, 'carol', null)], true);
    const { items } = state.items('everyone');
    assert.deepEqual(
      items.map((i) => (i.kind === 'message' ? `m${i.message.id}` : i.text)),
      ['m1', 'm2', 'bob went offline', 'm3'],
    );
    const page = state.items('everyone', { before: [3, 0], limit: 2 });
    assert.deepEqual(
      page.items.map((i) => i.key),
      [
        [2, 0],
        [2, 1],
      ],
    );
    assert.equal(page.olderInMemory, true);
  });

  test('people: online first, then by how recently seen, blocked marked; last seen in words', () => {
    let now = T0;
    const state = new ChatState(() => now);
    state.reset('alice');
    state.setOnline(['bob']);
    state.applyPresence({ username: 'dave', online: false, at: T0 - 12 * 60_000 });
    state.applyWholast(5, ['erin', 'bob']);
    state.applyWholast(59, ['frank', 'erin']);
    state.addMessages([msg(1, 'zed', 'alice')], false);
    state.setBlocked(['zed']);
    assert.deepEqual(
      state.people().map((p) => p.username),
      ['bob', 'erin', 'dave', 'frank', 'zed'],
    );
    const people = new Map(state.people().map((p) => [p.username, p]));
    assert.equal(describeLastSeen(people.get('bob')!, now), 'online');
    assert.equal(describeLastSeen(people.get('dave')!, now), 'last seen 12 min ago');
    assert.equal(describeLastSeen(people.get('erin')!, now), 'last seen within 5 min');
    assert.equal(people.get('zed')!.blocked, true);
    assert.equal(state.onlineCount(), 1);
    now += 60 * 60_000;
    assert.equal(describeLastSeen(people.get('dave')!, now), 'last seen 1 h ago');
  });

  test('@mentions match the name as a word, case-insensitively, and not inside addresses or longer names', () => {
    assert.equal(mentions('hey @alice, look', 'alice'), true);
    assert.equal(mentions('@ALICE.', 'alice'), true);
    assert.equal(mentions('mail alice@alice.dev', 'alice'), false);
    assert.equal(mentions('@alicex hi', 'alice'), false);
    assert.equal(mentions('@alice.b hi', 'alice'), false);
    assert.equal(mentions('@a.b.c yes', 'a.b.c'), true);
  });

  test('what older history exists: a conversation’s own pages, or the pages of all history that reach further', () => {
    const state = new ChatState(() => T0);
    state.reset('alice');
    state.recordPage(undefined, [msg(50, 'bob', 'alice'), msg(60, 'carol', null)], undefined, true);
    state.openDirect('dave');
    assert.equal(state.loadedFrom('dm:dave'), 50);
    assert.equal(state.hasOlderOnServer('dm:dave'), true);
    state.recordPage('dm:dave', [], 50, false);
    assert.equal(state.hasOlderOnServer('dm:dave'), false);
    assert.equal(state.hasOlderOnServer('everyone'), true);
    state.recordPage(undefined, [msg(10, 'bob', null)], 50, false);
    assert.equal(state.hasOlderOnServer('everyone'), false);
    assert.equal(state.hasOlderOnServer('dm:bob'), false, 'all history was loaded, so no conversation has more');
  });
});
