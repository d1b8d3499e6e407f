import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ChatSession, NotifyEvent } from '../src/extension/core/chat-session';
import { Notifier } from '../src/extension/core/notifications';
import { statusText } from '../src/extension/core/status';
import type { HostToWebview, ShownMessage } from '../src/view-protocol';
import { SessionsOf, sessionFor } from './helpers/extension-session';
import { eventually, startServer, type TestServer } from './helpers/server';
import { controllerFor } from './helpers/view-controller';

const GENERAL = 'channel:general';
type Timeline = Extract<HostToWebview, { type: 'timeline' }>;

const bodies = (s: ChatSession, conversation: string): string[] => s.state.messages(conversation).map((m) => m.body);

/** A chat view that is visible and ready, showing `conversation` (what a focused window shows). */
async function showing(session: ChatSession, conversation: string): Promise<ReturnType<typeof controllerFor>> {
  const view = controllerFor(session);
  view.controller.setVisible(true);
  await view.controller.receive({ type: 'ready', active: conversation });
  return view;
}

const timelines = (posted: readonly HostToWebview[], conversation: string): Timeline[] =>
  posted.filter((m): m is Timeline => m.type === 'timeline' && m.conversation === conversation);

const messagesOf = (timeline: Timeline): ShownMessage[] => timeline.items.flatMap((i) => (i.kind === 'message' ? [i.message] : []));

describe('channels in the extension against a real server', () => {
  let t: TestServer;
  const sessions = new SessionsOf(() => t);
  const open = (username: string): Promise<ChatSession> => sessions.signIn(username);
  beforeEach(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'], rateLimit: { burst: 1000, perSecond: 1000 } });
  });
  afterEach(async () => {
    sessions.dispose();
    await t.close();
  });

  test('signing in lists #general beside Everyone, and a channel’s messages go to its conversation', async () => {
    const bob = await t.signIn('bob');
    const alice = await open('alice');
    assert.deepEqual(
      alice.state.conversations().map((c) => [c.id, c.title, c.kind]),
      [
        ['everyone', 'Everyone', 'everyone'],
        [GENERAL, '#general', 'channel'],
      ],
    );
    await bob.post('general', 'morning');
    await eventually(() => bodies(alice, GENERAL).includes('morning'), 3000, 'the channel message');
    assert.equal(alice.state.unread(GENERAL), 1);
    assert.deepEqual(bodies(alice, 'everyone'), []);
    // Plain text in a channel's composer is a message to the channel.
    const got = new Promise<string>((resolve) => bob.on('message', (m) => m.kind === 'channel' && resolve(m.body)));
    const sent = await alice.runInput(GENERAL, 'hello channel');
    assert.equal(sent.kind, 'sent');
    assert.equal(await got, 'hello channel');
  });

  test('a member signed out while 50 messages are posted sees all 50 and the unread line on signing in, in order and once', async () => {
    const bob = await t.signIn('bob');
    const before = await open('alice');
    await showing(before, GENERAL);
    await bob.post('general', 'before 1');
    const { seq: read } = await bob.post('general', 'before 2');
    // Shown in a visible view: read up to there on the server.
    await eventually(() => before.state.readPosition(GENERAL) === read, 3000, 'the read position');
    await before.signOut();

    for (let i = 1; i <= 50; i++) await bob.post('general', `away ${i}`);
    const alice = await open('alice');
    assert.equal(alice.state.unread(GENERAL), 50);
    assert.equal(alice.state.totalUnread, 50);
    const { posted } = await showing(alice, GENERAL);
    await eventually(() => timelines(posted, GENERAL).some((tl) => messagesOf(tl).length === 52), 3000, 'the channel’s newest page');
    const timeline = timelines(posted, GENERAL).at(-1)!;
    const messages = messagesOf(timeline);
    const expected = ['before 1', 'before 2', ...Array.from({ length: 50 }, (_, i) => `away ${i + 1}`)];
    assert.deepEqual(
      messages.map((m) => m.body),
      expected,
    );
    assert.deepEqual(
      messages.map((m) => m.seq),
      expected.map((_, i) => i + 1),
    );
    assert.deepEqual(timeline.firstUnread, [messages[2]!.id, 0], 'the line goes before the first message posted while away');
    // Now read: the counts go, here and on the server.
    assert.equal(alice.state.unread(GENERAL), 0);
    await eventually(() => alice.state.readPosition(GENERAL) === 52, 3000, 'read up to the newest');
    const later = await open('alice');
    assert.equal(later.state.unread(GENERAL), 0);
    assert.deepEqual(bodies(alice, GENERAL), expected, 'each message once');
  });

  test('a view left on a channel while signed out shows what came meanwhile, with the line, on signing in again', async () => {
    const bob = await t.signIn('bob');
    const alice = await open('alice');
    const { posted } = await showing(alice, GENERAL);
    const { seq } = await bob.post('general', 'seen');
    await eventually(() => alice.state.readPosition(GENERAL) === seq, 3000, 'read');
    await alice.signOut();
    for (const body of ['new 1', 'new 2']) await bob.post('general', body);
    await alice.connect(t.url, 'alice', 'alice-pw');
    await eventually(() => messagesOf(timelines(posted, GENERAL).at(-1)!).length === 3, 3000, 'the channel again');
    const timeline = timelines(posted, GENERAL).at(-1)!;
    assert.deepEqual(
      messagesOf(timeline).map((m) => m.body),
      ['seen', 'new 1', 'new 2'],
    );
    assert.deepEqual(timeline.firstUnread, [messagesOf(timeline)[1]!.id, 0]);
  });

  test('read in one window clears the other: channel, direct conversation and Everyone; the counts agree', async () => {
    const bob = await t.signIn('bob');
    const one = await open('alice');
    const two = await open('alice');
    for (const body of ['c1', 'c2', 'c3']) await bob.post('general', body);
    await bob.message('alice', 'd1');
    await bob.broadcast('b1');
    for (const s of [one, two]) {
      await eventually(
        () => s.state.unread(GENERAL) === 3 && s.state.unread('dm:bob') === 1 && s.state.unread('everyone') === 1,
        3000,
        'unread',
      );
    }
    assert.equal(statusText(two.state).text, statusText(one.state).text);
    assert.match(statusText(two.state).text, /5 unread/);

    const view = await showing(one, GENERAL);
    await eventually(() => two.state.unread(GENERAL) === 0, 3000, 'the channel read elsewhere');
    view.controller.show('dm:bob');
    await eventually(() => two.state.unread('dm:bob') === 0, 3000, 'the direct conversation read elsewhere');
    view.controller.show('everyone');
    await eventually(() => two.state.unread('everyone') === 0, 3000, 'the broadcasts read elsewhere');
    assert.equal(two.state.totalUnread, 0);
    assert.doesNotMatch(statusText(two.state).text, /unread/);

    // A window signing in now gets the same counts from the server.
    view.controller.show(GENERAL);
    const { seq } = await bob.post('general', 'c4');
    await eventually(() => one.state.readPosition(GENERAL) === seq, 3000, 'c4 read where it is on screen');
    const three = await open('alice');
    assert.equal(three.state.unread(GENERAL), 0);
    assert.equal(three.state.totalUnread, 0);
    assert.equal(two.state.unread(GENERAL), 0);
  });

  test('a read elsewhere short of the newest message: the counts come from the server', async () => {
    const bob = await t.signIn('bob');
    const alice = await open('alice');
    for (let i = 1; i <= 5; i++) await bob.post('general', `m${i}`);
    await eventually(() => alice.state.unread(GENERAL) === 5, 3000, 'unread');
    // The terminal, say, read up to the second.
    const terminal = await t.signIn('alice');
    await terminal.request('read', { conversation: { channel: 'general' }, upTo: 2 });
    await eventually(() => alice.state.unread(GENERAL) === 3, 3000, 'the server’s count');
    assert.equal(alice.state.readPosition(GENERAL), 2);
  });

  test('mentions while away make one notification at sign-in; live ones a notification each', async () => {
    const bob = await t.signIn('bob');
    await bob.post('general', '@alice please look');
    await bob.post('general', 'no one in particular');
    await bob.post('general', 'and again, @alice.');
    const alice = sessions.add(sessionFor(t));
    const away: { conversation: string; mentions: number }[][] = [];
    alice.on('mentionsAway', (m) => away.push(m));
    const notifier = new Notifier(
      alice,
      {
        enabled: () => true,
        show: async () => undefined,
        askReply: async () => undefined,
        open: async () => {},
        error: () => {},
      },
      10,
    );
    await alice.connect(t.url, 'alice', 'alice-pw');
    assert.deepEqual(away, [[{ conversation: GENERAL, mentions: 2 }]]);
    assert.equal(alice.state.mentionCount(GENERAL), 2);
    assert.equal(alice.state.unread(GENERAL), 3);
    assert.deepEqual(notifier.shown, ['You were mentioned 2 times while away, in #general.']);

    const notified: NotifyEvent[] = [];
    alice.on('notify', (e) => notified.push(e));
    await bob.post('general', 'not @alicex');
    await bob.post('general', 'hey @alice');
    await eventually(() => notified.length === 1 && alice.state.unread(GENERAL) === 5, 3000, 'the live mention');
    assert.equal(notified[0]!.reason, 'mention');
    assert.equal(notified[0]!.conversation, GENERAL);
    assert.equal(alice.state.mentionCount(GENERAL), 3);
    await eventually(() => notifier.shown.length === 2, 3000, 'the toast');
    assert.equal(notifier.shown[1], 'bob mentioned you: hey @alice');
    notifier.dispose();
  });

  test('joining, a rename that keeps the timeline, and a deleted channel that goes', async () => {
    const bob = await t.signIn('bob');
    await bob.request('createchannel', { name: 'dev', topic: 'builds' });
    const alice = await open('alice');
    assert.equal(alice.state.has('channel:dev'), false, 'not a member yet');
    assert.equal(await alice.joinChannel('dev'), 'channel:dev');
    assert.equal(alice.state.conversations().find((c) => c.id === 'channel:dev')?.topic, 'builds');
    await bob.post('dev', 'one');
    await bob.post('dev', 'two');
    const { posted } = await showing(alice, 'channel:dev');
    await eventually(() => bodies(alice, 'channel:dev').join() === 'one,two', 3000, 'the channel');

    await bob.request('renamechannel', { channel: 'dev', to: 'platform' });
    await eventually(() => alice.state.has('channel:platform'), 3000, 'the rename');
    assert.equal(alice.state.has('channel:dev'), false);
    assert.deepEqual(bodies(alice, 'channel:platform'), ['one', 'two']);
    const renamed = timelines(posted, 'channel:platform').at(-1)!;
    assert.deepEqual(
      messagesOf(renamed).map((m) => m.body),
      ['one', 'two'],
      'the view follows it',
    );
    await bob.post('platform', 'three');
    await eventually(() => bodies(alice, 'channel:platform').join() === 'one,two,three', 3000, 'the next message');
    assert.equal(alice.state.conversations().find((c) => c.id === 'channel:platform')?.title, '#platform');

    await bob.request('deletechannel', { channel: 'platform' });
    await eventually(() => !alice.state.has('channel:platform'), 3000, 'the delete');
    assert.equal(timelines(posted, 'everyone').length > 0, true, 'the view goes back to Everyone');
    const notices = alice.state.items('everyone').items.flatMap((i) => (i.kind === 'notice' ? [i.text] : []));
    assert.ok(notices.includes('bob deleted #platform.'), notices.join('\n'));
  });
});

describe('channels after a dropped connection', () => {
  test('a server restart: the loaded channel catches up and the counts come from the server again, each message once', async () => {
    const options = { users: ['alice', 'bob'], rateLimit: { burst: 1000, perSecond: 1000 } };
    const first = await startServer(options);
    const alice = sessionFor(first);
    let second: TestServer | undefined;
    try {
      await alice.connect(first.url, 'alice', 'alice-pw');
      await (await first.signIn('bob')).post('general', 'before');
      // Opened once (its page loaded), then the view goes elsewhere: what comes next is unread.
      const view = await showing(alice, GENERAL);
      await eventually(() => alice.state.readPosition(GENERAL) === 1, 3000, 'read');
      view.controller.show('everyone');
      await first.stop();
      await eventually(() => alice.state.connection.phase === 'reconnecting', 3000, 'reconnecting');
      second = await startServer({ ...options, dataDir: first.dataDir, port: first.port });
      const bob = await second.signIn('bob');
      for (const body of ['one', 'two', 'three']) await bob.post('general', body);
      await eventually(() => alice.state.connection.phase === 'signed-in', 5000, 'signed in again');
      await eventually(() => bodies(alice, GENERAL).length >= 4 && alice.state.unread(GENERAL) === 3, 3000, 'caught up');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(bodies(alice, GENERAL), ['before', 'one', 'two', 'three']);
      assert.equal(alice.state.unread(GENERAL), 3);
    } finally {
      alice.dispose();
      await second?.close();
      await first.close();
    }
  });
});

describe('the chat view’s conversation commands against a real server', () => {
  let t: TestServer;
  const sessions = new SessionsOf(() => t);
  beforeEach(async () => {
    t = await startServer({ users: ['alice', 'bob'], rateLimit: { burst: 1000, perSecond: 1000 } });
  });
  afterEach(async () => {
    sessions.dispose();
    await t.close();
  });

  test('/join, /create, /query, /post and /history open their conversation; /close says the view has no command mode', async () => {
    const alice = await sessions.signIn('alice');
    const bob = await sessions.signIn('bob');
    await bob.runInput('everyone', '/create #ops');

    const joined = await alice.runInput('everyone', '/join #ops');
    assert.deepEqual(joined.kind === 'command' && joined.open, 'channel:ops');
    const created = await alice.runInput('everyone', '/create #dev');
    assert.deepEqual(created.kind === 'command' && created.open, 'channel:dev');
    const query = await alice.runInput('channel:dev', '/query bob');
    assert.deepEqual(query.kind === 'command' && query.open, 'dm:bob');

    const posted = await alice.runInput('dm:bob', '/post #ops deploy at noon');
    assert.deepEqual(posted.kind === 'command' && posted.open, 'channel:ops');
    assert.deepEqual(bodies(alice, 'channel:ops'), ['deploy at noon']);
    await eventually(() => bodies(bob, 'channel:ops').join() === 'deploy at noon', 3000, 'bob gets the post');

    const history = await alice.runInput('everyone', '/history #ops');
    assert.deepEqual(history.kind === 'command' && history.open, 'channel:ops');

    const close = await alice.runInput('channel:ops', '/close');
    assert.ok(close.kind === 'command' && /no command mode/.test(close.text), JSON.stringify(close));
    assert.equal(alice.state.messages('channel:ops').length, 1, 'nothing was sent');
  });
});
