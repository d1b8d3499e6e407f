import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ChatSession } from '../src/extension/core/chat-session';
import { signedInSession } from './helpers/extension-session';
import type { HostToWebview } from '../src/view-protocol';
import { controllerFor } from './helpers/view-controller';
import { collect, eventually, startServer, type TestServer } from './helpers/server';

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('chat view controller (host side of the webview)', () => {
  let t: TestServer;
  const sessions: ChatSession[] = [];
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'], rateLimit: { burst: 1000, perSecond: 100 } });
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) s.dispose();
    for (const c of t.clients.splice(0)) c.close();
  });
  after(() => t.close());

  test('nothing reaches a webview that is hidden or not ready; on "ready" a snapshot holds it all, then the queued requests', async () => {
    const alice = await signedInSession(t, 'alice');
    sessions.push(alice);
    const bob = await t.signIn('bob');
    const { controller, posted } = controllerFor(alice);
    controller.focusComposer(undefined, 'draft');
    await bob.message('alice', 'while hidden');
    await eventually(() => alice.state.messages('dm:bob').length > 0, 3000, 'message');
    await tick();
    assert.equal(posted.length, 0, 'a hidden webview receives nothing');
    assert.equal(controller.queuedCount, 1);
    assert.equal(alice.state.unread('dm:bob'), 1);

    controller.setVisible(true);
    await controller.receive({ type: 'ready', active: 'dm:bob' });
    assert.equal(posted[0]!.type, 'snapshot');
    const snapshot = posted[0] as Extract<HostToWebview, { type: 'snapshot' }>;
    assert.equal(snapshot.active, 'dm:bob');
    assert.ok(snapshot.items.some((i) => i.kind === 'message' && i.message.body === 'while hidden'));
    assert.equal(posted[1]!.type, 'focusComposer');
    assert.equal(controller.queuedCount, 0);
    assert.equal(controller.viewing, 'dm:bob');
    assert.equal(alice.state.unread('dm:bob'), 0, 'the conversation on screen is read');

    // Live items go straight to a visible, ready webview.
    await bob.message('alice', 'live one');
    await eventually(
      () => posted.some((m) => m.type === 'items' && m.live && m.items.some((i) => i.kind === 'message')),
      3000,
      'live items',
    );
    assert.equal(alice.state.unread('dm:bob'), 0);

    // Hidden again: the page is gone; updates wait for the next "ready".
    controller.setVisible(false);
    const count = posted.length;
    await bob.message('alice', 'hidden again');
    await eventually(() => alice.state.unread('dm:bob') === 1, 3000, 'unread while hidden');
    await tick();
    assert.equal(posted.length, count);
    controller.setVisible(true);
    await controller.receive({ type: 'ready' });
    const again = posted.filter((m) => m.type === 'snapshot').at(-1) as Extract<HostToWebview, { type: 'snapshot' }>;
    assert.equal(again.type, 'snapshot');
    assert.equal(again.active, 'dm:bob', 'the view keeps its conversation');
    assert.ok(again.items.some((i) => i.kind === 'message' && i.message.body === 'hidden again'));

    // "Open" on a notification while the view is hidden: the host's choice beats what the page remembers.
    controller.setVisible(false);
    controller.focusComposer('everyone');
    controller.setVisible(true);
    await controller.receive({ type: 'ready', active: 'dm:bob' });
    const opened = posted.filter((m) => m.type === 'snapshot').at(-1) as Extract<HostToWebview, { type: 'snapshot' }>;
    assert.equal(opened.active, 'everyone');
    assert.deepEqual(posted.filter((m) => m.type === 'focusComposer').at(-1), { type: 'focusComposer', conversation: 'everyone' });
    assert.ok(posted.indexOf(opened) < posted.lastIndexOf(posted.filter((m) => m.type === 'focusComposer').at(-1)!));
    controller.dispose();
  });

  test('malformed messages from the webview are refused and logged, never acted on', async () => {
    const alice = await signedInSession(t, 'alice');
    sessions.push(alice);
    const { controller, posted, logs, actions } = controllerFor(alice);
    const bad: unknown[] = [
      null,
      'ready',
      { type: 'nope' },
      { type: 'send', requestId: 1, conversation: 'everyone' },
      { type: 'send', requestId: 1, conversation: 'dm:../etc', text: 'x' },
      { type: 'send', requestId: -1, conversation: 'everyone', text: 'x' },
      { type: 'openLink', href: 'x'.repeat(5000) },
      { type: 'action', action: 'rm -rf' },
      { type: 'select', conversation: 'everyone', extra: true },
      { type: 'loadOlder', conversation: 'everyone', before: [1] },
    ];
    for (const data of bad) assert.equal(await controller.receive(data), false, JSON.stringify(data));
    assert.equal(logs.length, bad.length);
    assert.deepEqual(actions, []);
    assert.equal(posted.length, 0);
    controller.dispose();
  });

  test('sending from the webview: a message, a command that opens its conversation, an error that keeps the draft', async () => {
    const alice = await signedInSession(t, 'alice');
    sessions.push(alice);
    await t.signIn('bob');
    const { controller, posted, actions } = controllerFor(alice);
    controller.setVisible(true);
    await controller.receive({ type: 'ready' });
    await controller.receive({ type: 'send', requestId: 1, conversation: 'everyone', text: 'hello **all**' });
    assert.deepEqual(posted.at(-1), { type: 'sendResult', requestId: 1, ok: true });
    assert.equal(alice.state.messages('everyone').at(-1)!.body, 'hello **all**');

    await controller.receive({ type: 'send', requestId: 2, conversation: 'everyone', text: '/message bob hi bob' });
    // Opening dm:bob reads what the server counted unread there (from the tests before): the new counts may follow.
    assert.deepEqual(posted.filter((m) => m.type === 'sendResult').at(-1), { type: 'sendResult', requestId: 2, ok: true, open: 'dm:bob' });
    assert.equal(controller.activeConversation, 'dm:bob');
    assert.ok(posted.some((m) => m.type === 'timeline' && m.conversation === 'dm:bob'));

    await controller.receive({ type: 'send', requestId: 3, conversation: 'dm:bob', text: '/wholast 0' });
    const failed = posted.at(-1) as Extract<HostToWebview, { type: 'sendResult' }>;
    assert.equal(failed.ok, false);
    assert.match(failed.error ?? '', /1 to 59/);

    await controller.receive({ type: 'send', requestId: 4, conversation: 'dm:bob', text: '/logout' });
    assert.deepEqual(actions, ['signOut']);

    await controller.receive({ type: 'openLink', href: 'https://example.com/' });
    await controller.receive({ type: 'action', action: 'startLocalServer' });
    assert.deepEqual(actions.slice(1), ['open https://example.com/', 'startLocalServer']);
    controller.dispose();
  });

  test('the composer: a line that starts with a command name is a message; "/logout" signs out, an unknown "/word" sends nothing', async () => {
    const alice = await signedInSession(t, 'alice');
    sessions.push(alice);
    const bob = await t.signIn('bob');
    const got = collect(bob, 'message');
    const { controller, posted, actions } = controllerFor(alice);
    controller.setVisible(true);
    await controller.receive({ type: 'ready', active: 'dm:bob' });
    const send = async (requestId: number, text: string) => {
      await controller.receive({ type: 'send', requestId, conversation: 'dm:bob', text });
      return posted.filter((m) => m.type === 'sendResult').at(-1) as Extract<HostToWebview, { type: 'sendResult' }>;
    };
    assert.deepEqual(await send(1, 'logout'), { type: 'sendResult', requestId: 1, ok: true });
    assert.deepEqual(await send(2, 'message me when the build is green'), { type: 'sendResult', requestId: 2, ok: true });
    assert.deepEqual(await send(3, '//shrug'), { type: 'sendResult', requestId: 3, ok: true });
    const unknown = await send(4, '/me waves');
    assert.equal(unknown.ok, false);
    assert.match(unknown.error ?? '', /unknown command "\/me".*\/help/);
    assert.deepEqual(await send(5, 'last'), { type: 'sendResult', requestId: 5, ok: true });
    assert.equal(controller.activeConversation, 'dm:bob', 'no command opened another conversation');
    assert.deepEqual(actions, [], 'nothing signed out');
    assert.equal(alice.state.snapshot().connection.phase, 'signed-in');
    await eventually(() => got.length === 4, 10_000, 'messages');
    assert.deepEqual(
      got.map(([m]) => [m.from, m.to, m.body]),
      [
        ['alice', 'bob', 'logout'],
        ['alice', 'bob', 'message me when the build is green'],
        ['alice', 'bob', '/shrug'],
        ['alice', 'bob', 'last'],
      ],
    );

    assert.deepEqual(await send(6, '/logout'), { type: 'sendResult', requestId: 6, ok: true });
    assert.deepEqual(actions, ['signOut']);
    controller.dispose();
  });

  test('older items come from memory first, then from the server, with hasOlder', async () => {
    const bob = await t.signIn('bob');
    for (let i = 1; i <= 60; i++) await bob.message('alice', `h${i}`);
    const alice = await signedInSession(t, 'alice', { historyPage: 20 });
    sessions.push(alice);
    const { controller, posted } = controllerFor(alice, 10);
    controller.setVisible(true);
    await controller.receive({ type: 'ready', active: 'dm:bob' });
    const snap = posted[0] as Extract<HostToWebview, { type: 'snapshot' }>;
    assert.equal(snap.items.length, 10);
    assert.equal(snap.hasOlder, true);
    let oldest = snap.items[0]!.key;
    const seen = new Set<string>();
    for (let round = 0; round < 20; round++) {
      await controller.receive({ type: 'loadOlder', conversation: 'dm:bob', before: oldest });
      const reply = posted.at(-1) as Extract<HostToWebview, { type: 'items' }>;
      assert.equal(reply.type, 'items');
      for (const i of reply.items) seen.add(i.kind === 'message' ? i.message.body : i.text);
      if (!reply.hasOlder) break;
      oldest = reply.items[0]!.key;
    }
    for (let i = 1; i <= 50; i++) assert.ok(seen.has(`h${i}`), `h${i} paged in`);
    controller.dispose();
  });

  test('the direct conversation on screen stays in the list after signing out and in again, though it has no messages', async () => {
    // Alice and carol never wrote to each other: nothing in alice's history brings their conversation back.
    const alice = await signedInSession(t, 'alice');
    sessions.push(alice);
    const { controller, posted } = controllerFor(alice);
    controller.setVisible(true);
    await controller.receive({ type: 'ready', active: 'dm:carol' });
    await alice.signOut();
    await alice.connect(t.url, 'alice', 'alice-pw');
    await tick();
    assert.equal(controller.activeConversation, 'dm:carol');
    const listed = posted.filter((m) => m.type === 'conversations').at(-1) as Extract<HostToWebview, { type: 'conversations' }>;
    assert.deepEqual(
      listed.conversations.filter((c) => c.id === 'dm:carol').map((c) => [c.kind, c.title]),
      [['direct', 'carol']],
    );
    controller.dispose();
  });
});
