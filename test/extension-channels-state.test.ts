import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatState } from '../src/extension/core/chat-state';
import { conversationPicks } from '../src/extension/core/conversation-picks';
import { awayToast } from '../src/extension/core/notifications';
import type { ChannelState, ChatMessage, ReplyBodies } from '../src/protocol';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

function post(id: number, seq: number, from: string, channel = 'dev', mentions?: string[]): ChatMessage {
  return { id, from, to: null, kind: 'channel', body: `c${seq}`, sentAt: T0 + id * 1000, channel, seq, ...(mentions && { mentions }) };
}

function channel(name: string, counts: Partial<ChannelState> = {}): ChannelState {
  const base = { topic: '', private: false, creator: null, members: 3, member: true, lastSeq: 0, readSeq: 0, unread: 0, mentions: 0 };
  return { name, ...base, ...counts };
}

function reply(channels: ChannelState[], directs: ReplyBodies['conversations']['directs'] = []): ReplyBodies['conversations'] {
  return { channels, directs, broadcasts: { with: null, lastId: 0, readId: 0, unread: 0 } };
}

function signedIn(): ChatState {
  const state = new ChatState(() => T0);
  state.reset('alice');
  return state;
}

describe('channels and read positions in the chat state (no VS Code, no network)', () => {
  test('the server’s conversations become the channel list, with its counts; #general first, then by name', () => {
    const state = signedIn();
    const told = state.applyConversations(
      reply(
        [
          channel('zeta', { topic: 'last', lastSeq: 5, readSeq: 2, unread: 3, mentions: 1 }),
          channel('general', { lastSeq: 9, readSeq: 9 }),
          channel('ops', { private: true, lastSeq: 4, readSeq: 0, unread: 4 }),
        ],
        [{ with: 'bob', lastId: 40, readId: 30, unread: 2 }],
      ),
    );
    assert.deepEqual(
      state.conversations().map((c) => [c.id, c.title, c.kind, c.unread, c.mentions ?? 0]),
      [
        ['everyone', 'Everyone', 'everyone', 0, 0],
        ['channel:general', '#general', 'channel', 0, 0],
        ['channel:ops', '#ops', 'channel', 4, 0],
        ['channel:zeta', '#zeta', 'channel', 3, 1],
        ['dm:bob', 'bob', 'direct', 2, 0],
      ],
    );
    const zeta = state.conversations().find((c) => c.id === 'channel:zeta')!;
    assert.equal(zeta.topic, 'last');
    assert.equal(state.conversations().find((c) => c.id === 'channel:ops')!.privateChannel, true);
    assert.equal(state.totalUnread, 9);
    assert.deepEqual(told, [{ conversation: 'channel:zeta', mentions: 1 }]);
    assert.equal(state.readPosition('channel:zeta'), 2);
    assert.equal(state.readPosition('dm:bob'), 30);

    // Asked again (a resume): the same mentions are not told twice; a channel left meanwhile goes.
    const moved: [string, string | undefined][] = [];
    state.on('moved', (from, to) => moved.push([from, to]));
    const again = state.applyConversations(
      reply([channel('general'), channel('zeta', { lastSeq: 6, readSeq: 2, unread: 4, mentions: 1 })]),
    );
    assert.deepEqual(again, []);
    assert.equal(state.has('channel:ops'), false);
    assert.deepEqual(moved, [['channel:ops', undefined]]);
    assert.equal(state.unread('channel:zeta'), 4);
  });

  test('live channel messages count as unread and mentions unless on screen; viewing reads both', () => {
    const state = signedIn();
    state.applyConversations(reply([channel('dev', { lastSeq: 2, readSeq: 2 })]));
    state.addMessages(
      [post(10, 3, 'bob'), post(11, 4, 'carol', 'dev', ['alice']), post(12, 5, 'alice'), post(13, 6, 'bob', 'dev', ['Alice'])],
      true,
    );
    assert.deepEqual(
      state.messages('channel:dev').map((m) => m.seq),
      [3, 4, 5, 6],
    );
    assert.equal(state.unread('channel:dev'), 3, 'not my own');
    assert.equal(state.mentionCount('channel:dev'), 1, 'names match as accounts do, case and all');
    state.setViewing(['channel:dev']);
    assert.equal(state.unread('channel:dev'), 0);
    assert.equal(state.mentionCount('channel:dev'), 0);
    state.addMessages([post(14, 7, 'bob', 'dev', ['alice'])], true);
    assert.equal(state.unread('channel:dev'), 0);
    assert.equal(state.newestPosition('channel:dev'), 7);
  });

  test('counts: messages known here past what the server counted are added; a read up to the newest clears them', () => {
    const state = signedIn();
    state.addMessages([post(10, 3, 'bob'), post(11, 4, 'bob')], false);
    state.applyCounts('channel:dev', { last: 3, read: 1, unread: 2 });
    assert.equal(state.unread('channel:dev'), 3, 'seq 4 arrived after the server counted');
    assert.equal(state.applyRead('channel:dev', 3), false, 'read short of the newest: only the server can tell');
    assert.equal(state.readPosition('channel:dev'), 3);
    assert.equal(state.applyRead('channel:dev', 4), true);
    assert.equal(state.unread('channel:dev'), 0);
    // A channel none of whose messages are here: the server's newest position says whether the read covers it.
    state.applyCounts('channel:far', { last: 50, read: 10, unread: 40 });
    assert.equal(state.applyRead('channel:far', 20), false);
    assert.equal(state.applyRead('channel:far', 50), true);
    assert.equal(state.unread('channel:far'), 0);
  });

  test('the unread line: the first message from someone else after the read position', () => {
    const state = signedIn();
    state.addMessages([post(10, 1, 'bob'), post(11, 2, 'bob'), post(12, 3, 'alice'), post(13, 4, 'carol')], false);
    assert.deepEqual(state.firstUnread('channel:dev', 2), [13, 0], 'my own message is not new to me');
    assert.deepEqual(state.firstUnread('channel:dev', 0), [10, 0]);
    assert.equal(state.firstUnread('channel:dev', 4), undefined);
    assert.equal(state.firstUnread('channel:dev', undefined), undefined, 'no line while the read position is unknown');
  });

  test('a renamed channel keeps its timeline and read position under the new id; a deleted one goes', () => {
    const state = signedIn();
    state.applyConversations(reply([channel('dev', { topic: 't', lastSeq: 2, readSeq: 1, unread: 1 })]));
    state.addMessages([post(10, 1, 'bob'), post(11, 2, 'bob')], false);
    state.setViewing(['channel:dev']);
    const moved: [string, string | undefined][] = [];
    state.on('moved', (from, to) => moved.push([from, to]));
    // A message under the new name can arrive before the news of the rename.
    state.addMessages([post(12, 3, 'bob', 'platform')], true);
    state.renameChannel('dev', 'platform');
    assert.equal(state.has('channel:dev'), false);
    assert.deepEqual(
      state.messages('channel:platform').map((m) => [m.seq, m.channel]),
      [
        [1, 'platform'],
        [2, 'platform'],
        [3, 'platform'],
      ],
    );
    assert.equal(state.readPosition('channel:platform'), 1);
    assert.equal(state.conversations().find((c) => c.id === 'channel:platform')!.topic, 't');
    assert.ok(state.isViewing('channel:platform'));
    state.dropChannel('platform');
    assert.equal(state.has('channel:platform'), false);
    assert.deepEqual(moved, [
      ['channel:dev', 'channel:platform'],
      ['channel:platform', undefined],
    ]);
  });

  test('Go to Conversation: unread first, then the most recently active; people without a conversation too', () => {
    const state = signedIn();
    state.applyConversations(reply([channel('general'), channel('dev', { lastSeq: 1, readSeq: 0, unread: 1, mentions: 1 })]));
    state.addMessages([post(10, 1, 'bob', 'general')], false);
    state.addMessages([{ id: 20, from: 'carol', to: 'alice', kind: 'direct', body: 'hi', sentAt: T0 + 20_000 }], false);
    state.applyUsers([
      { username: 'bob', online: true, lastSeen: T0, blocked: false },
      { username: 'carol', online: false, lastSeen: T0, blocked: false },
    ]);
    const picks = conversationPicks(state);
    assert.deepEqual(
      picks.map((p) => p.label),
      ['#dev', 'carol', '#general', 'Everyone', 'bob'],
    );
    assert.match(picks[0]!.description, /1 unread · 1 mentioning you/);
    assert.equal(picks.at(-1)!.conversation, 'dm:bob');
  });

  test('mentions while away: one notification, with where and how often', () => {
    assert.equal(awayToast([]), undefined);
    assert.equal(awayToast([{ conversation: 'channel:dev', mentions: 1 }])!.text, 'You were mentioned once while away, in #dev.');
    const toast = awayToast([
      { conversation: 'channel:dev', mentions: 1 },
      { conversation: 'channel:ops', mentions: 3 },
    ])!;
    assert.equal(toast.text, 'You were mentioned 4 times while away, in #ops (3), #dev (1).');
    assert.equal(toast.conversation, 'channel:ops');
    assert.deepEqual(toast.actions, ['Open']);
  });
});
