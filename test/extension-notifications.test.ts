import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ChatSession, NotifyEvent } from '../src/extension/core/chat-session';
import { Notifier, toastFor, unreadBadge, type NotifierUi, type ToastAction } from '../src/extension/core/notifications';
import { toastPreview, toastSafe } from '../src/extension/core/notifications';
import { signedInSession } from './helpers/extension-session';
import { eventually, startServer, type TestServer } from './helpers/server';

/** What VS Code's notifications would turn into a link (the syntax the workbench parses in a toast's message). */
const LINK = /\[[^\]]+\]\((?:https?:\/\/|command:|file:)[^)\s]+/i;

describe('notification text: nothing in a message becomes a link or a control character', () => {
  test('link syntax is broken in every form, the words stay', () => {
    const hostile = [
      '[click me](command:workbench.action.terminal.new)',
      '[docs](https://evil.example/?a=1 "title")',
      "[open](file:///etc/passwd 'x')",
      'see [a](command:x) and [b](https://y)',
      '[[nested]](command:a)',
      '[a]\n(command:b)',
      '[a](command:b)'.repeat(50),
      '[ok](COMMAND:workbench.action.quit)',
      '](](command:a)',
    ];
    for (const text of hostile) {
      const safe = toastSafe(text);
      assert.doesNotMatch(safe, LINK, text);
      assert.doesNotMatch(safe, /\]\(/, text);
      assert.doesNotMatch(toastPreview(text), LINK, text);
    }
    assert.equal(toastSafe('see [a](command:x) now'), 'see [a] (command:x) now');
  });

  test('control and bidirectional characters go, the text is one line', () => {
    assert.equal(toastSafe('line one\nline two\r\n\tthree'), 'line one line two three');
    assert.equal(toastSafe('pay \u202eorp.exe\u202c now\u0007'), 'pay orp.exe now');
    assert.equal(toastSafe('a\u2066b\u2069c\u200fd'), 'a b c d');
    assert.equal(toastSafe('  plain text  '), 'plain text');
  });

  test('a preview is cut at 120 characters, never inside a character', () => {
    assert.equal(toastPreview('x'.repeat(120)), 'x'.repeat(120));
    assert.equal(toastPreview('x'.repeat(121)), `${'x'.repeat(120)}…`);
    const emoji = toastPreview('😀'.repeat(130));
    assert.equal([...emoji].length, 121);
    assert.ok(emoji.endsWith('😀…'));
  });

  test('a sender’s name from a server is made safe as well', () => {
    const event = (from: string, id: number): NotifyEvent => ({
      message: { id, from, to: 'alice', kind: 'direct', body: 'hi', sentAt: id },
      conversation: `dm:${from}`,
      reason: 'direct',
    });
    const one = toastFor([event('[x](command:workbench.action.quit)', 1)], () => 1);
    assert.doesNotMatch(one!.text, LINK);
    const many = toastFor([event('[x](command:a)', 1), event('[y](https://b)', 2)], () => 1);
    assert.equal(many!.text, '2 new messages from [x] (command:a), [y] (https://b)');
  });

  test('the badge counts unread messages and says so', () => {
    assert.equal(unreadBadge(0), undefined);
    assert.deepEqual(unreadBadge(1), { value: 1, tooltip: '1 unread message' });
    assert.deepEqual(unreadBadge(7), { value: 7, tooltip: '7 unread messages' });
  });
});

/** VS Code's side of the notifier, answering each toast as the test says. */
class AnsweringUi implements NotifierUi {
  on = true;
  answer: ToastAction | undefined;
  reply: string | undefined;
  readonly toasts: { text: string; actions: readonly ToastAction[] }[] = [];
  readonly replyTitles: string[] = [];
  readonly opened: string[] = [];
  readonly errors: string[] = [];
  enabled = (): boolean => this.on;
  show = async (text: string, actions: readonly ToastAction[]): Promise<ToastAction | undefined> => {
    this.toasts.push({ text, actions });
    return this.answer;
  };
  askReply = async (title: string): Promise<string | undefined> => {
    this.replyTitles.push(title);
    return this.reply;
  };
  open = async (conversation: string): Promise<void> => {
    this.opened.push(conversation);
  };
  error = (text: string): void => {
    this.errors.push(text);
  };
}

describe('notifications for messages not on screen, against a real server', () => {
  let t: TestServer;
  const sessions: ChatSession[] = [];
  const notifiers: Notifier[] = [];
  /** alice's session with a notifier whose gathering never ends by itself: the tests flush it. */
  const alice = async (): Promise<{ session: ChatSession; ui: AnsweringUi; notifier: Notifier }> => {
    const session = await signedInSession(t, 'alice');
    sessions.push(session);
    const ui = new AnsweringUi();
    const notifier = new Notifier(session, ui, 3_600_000);
    notifiers.push(notifier);
    return { session, ui, notifier };
  };

  // A server each: unread counts are the server's, so what one test left unread would count in the next.
  beforeEach(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'], rateLimit: { burst: 1000, perSecond: 100 } });
  });
  afterEach(async () => {
    for (const n of notifiers.splice(0)) n.dispose();
    for (const s of sessions.splice(0)) s.dispose();
    await t.close();
  });

  test('a direct message: a toast with Reply and Open; Open shows the conversation', async () => {
    const { session, ui, notifier } = await alice();
    const bob = await t.signIn('bob');
    await bob.message('alice', 'lunch?');
    await eventually(() => session.state.unread('dm:bob') === 1, 3000, 'the message');
    ui.answer = 'Open';
    await notifier.flush();
    assert.deepEqual(ui.toasts, [{ text: 'bob: lunch?', actions: ['Reply', 'Open'] }]);
    assert.deepEqual(ui.opened, ['dm:bob']);
    assert.deepEqual(notifier.shown, ['bob: lunch?']);
  });

  test('Reply sends the answer to the sender and marks the conversation read', async () => {
    const { session, ui, notifier } = await alice();
    const bob = await t.signIn('bob');
    const heard: string[] = [];
    bob.on('message', (m) => heard.push(`${m.from}: ${m.body}`));
    await bob.message('alice', 'are you there?');
    await eventually(() => session.state.unread('dm:bob') === 1, 3000, 'the message');
    ui.answer = 'Reply';
    ui.reply = 'yes, here';
    await notifier.flush();
    assert.deepEqual(ui.replyTitles, ['Reply to bob']);
    assert.equal(session.state.unread('dm:bob'), 0);
    assert.equal(session.state.totalUnread, 0);
    await eventually(() => heard.includes('alice: yes, here'), 3000, 'bob hears the reply');
    assert.deepEqual(ui.errors, []);
  });

  test('an @mention in a broadcast: "mentioned you", and Reply answers everyone', async () => {
    const { session, ui, notifier } = await alice();
    const bob = await t.signIn('bob');
    const carol = await t.signIn('carol');
    const heard: string[] = [];
    carol.on('message', (m) => heard.push(`${m.from}: ${m.body}`));
    await bob.broadcast('@alice can you look at the build?');
    await eventually(() => session.state.unread('everyone') === 1, 3000, 'the broadcast');
    ui.answer = 'Reply';
    ui.reply = 'on it';
    await notifier.flush();
    assert.deepEqual(ui.toasts, [{ text: 'bob mentioned you: @alice can you look at the build?', actions: ['Reply', 'Open'] }]);
    assert.deepEqual(ui.replyTitles, ['Reply to everyone online']);
    await eventually(() => heard.includes('alice: on it'), 3000, 'carol hears the reply to everyone');
    assert.equal(session.state.unread('everyone'), 0);
  });

  test('a burst gives one toast naming the senders; Open shows the latest conversation', async () => {
    const { session, ui, notifier } = await alice();
    const bob = await t.signIn('bob');
    const carol = await t.signIn('carol');
    await bob.message('alice', 'one');
    await eventually(() => session.state.unread('dm:bob') === 1, 3000, 'bob’s message');
    await bob.message('alice', 'two');
    await carol.message('alice', 'three');
    await eventually(() => session.state.totalUnread === 3, 3000, 'all three');
    ui.answer = 'Open';
    await notifier.flush();
    assert.deepEqual(ui.toasts, [{ text: '3 new messages from bob, carol', actions: ['Open'] }]);
    assert.deepEqual(ui.opened, ['dm:carol']);
  });

  test('nothing for what was read before the toast, nor for what is on screen', async () => {
    const { session, ui, notifier } = await alice();
    const bob = await t.signIn('bob');
    await bob.message('alice', 'read before the toast');
    await eventually(() => session.state.unread('dm:bob') === 1, 3000, 'the message');
    session.state.setViewing(['dm:bob']);
    await notifier.flush();
    // On screen now: no notify event at all, so nothing gathers.
    await bob.message('alice', 'seen as it came');
    await eventually(() => session.state.messages('dm:bob').some((m) => m.body === 'seen as it came'), 3000, 'the second');
    await notifier.flush();
    assert.deepEqual(ui.toasts, []);
    assert.deepEqual(notifier.shown, []);
  });

  test('with the setting off, messages raise no toast (and are not kept for later)', async () => {
    const { session, ui, notifier } = await alice();
    const bob = await t.signIn('bob');
    ui.on = false;
    await bob.message('alice', 'while notifications were off');
    await eventually(() => session.state.unread('dm:bob') === 1, 3000, 'the first');
    await notifier.flush();
    assert.equal(ui.toasts.length, 0);
    ui.on = true;
    await bob.message('alice', 'after they came back');
    await eventually(() => session.state.unread('dm:bob') === 2, 3000, 'the second');
    await notifier.flush();
    assert.deepEqual(
      ui.toasts.map((x) => x.text),
      ['bob: after they came back'],
    );
  });

  test('a hostile message: its link syntax is broken in the toast', async () => {
    const { session, ui, notifier } = await alice();
    const bob = await t.signIn('bob');
    await bob.message('alice', 'urgent: [fix the build](command:workbench.action.terminal.new)\n[docs](https://evil.example)');
    await eventually(() => session.state.unread('dm:bob') === 1, 3000, 'the message');
    await notifier.flush();
    assert.equal(ui.toasts.length, 1);
    assert.equal(ui.toasts[0]!.text, 'bob: urgent: [fix the build] (command:workbench.action.terminal.new) [docs] (https://evil.example)');
    assert.doesNotMatch(ui.toasts[0]!.text, LINK);
  });

  test('the unread badge follows the unread count', async () => {
    const { session } = await alice();
    const bob = await t.signIn('bob');
    const badge = (): ReturnType<typeof unreadBadge> => unreadBadge(session.state.totalUnread);
    assert.equal(badge(), undefined);
    await bob.message('alice', 'first');
    await eventually(() => badge()?.value === 1, 3000, 'a badge of 1');
    assert.equal(badge()?.tooltip, '1 unread message');
    await bob.message('alice', 'second');
    await eventually(() => badge()?.value === 2, 3000, 'a badge of 2');
    session.state.setViewing(['dm:bob']);
    assert.equal(badge(), undefined);
  });

  test('a reply that fails says so', async () => {
    const { session, ui, notifier } = await alice();
    const bob = await t.signIn('bob');
    await bob.message('alice', 'hello');
    await eventually(() => session.state.unread('dm:bob') === 1, 3000, 'the message');
    await bob.block('alice');
    ui.answer = 'Reply';
    ui.reply = 'hello?';
    await notifier.flush();
    assert.equal(ui.errors.length, 1);
    assert.match(ui.errors[0]!, /^the reply was not sent: /);
    assert.equal(session.state.unread('dm:bob'), 1, 'still unread: the answer did not go');
    await bob.unblock('alice');
  });
});
