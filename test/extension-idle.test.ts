import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Attention } from '../src/extension/core/attention';
import { ChatSession } from '../src/extension/core/chat-session';
import { describeLastSeen } from '../src/extension/core/chat-state';
import { Auth } from '../src/extension/core/sign-in';
import { ChatViewController } from '../src/extension/core/view-controller';
import { DEFAULT_TIMINGS, type ServerOptions } from '../src/server/options';
import { EVERYONE, directId } from '../src/view-protocol';
import { sessionFor, signedInSession } from './helpers/extension-session';
import { countHashes, eventually, startServer, type TestServer } from './helpers/server';
import { Answers, MemorySecrets } from './helpers/sign-in';
import { openWebview } from './helpers/webview-dom';

/** A server, and an editor signed in as `username` with its password (the token kept), following the user's attention. */
async function editorFor(username: string, others: string[], options: Pick<ServerOptions, 'singleSession'> = {}) {
  const t = await startServer({ users: [username, ...others], ...options });
  const session = sessionFor(t);
  const ui = new Answers({ url: t.url, username }, [`${username}-pw`]);
  const auth = new Auth(new MemorySecrets(), session, ui, ui.log);
  const attention = new Attention(session, (who) => auth.signIn({ ...who, interactive: false }), { awayAfterMs: 100 });
  assert.equal(await auth.signIn({ interactive: true }), username);
  const close = async (...more: ChatSession[]): Promise<void> => {
    attention.dispose();
    auth.dispose();
    for (const s of [session, ...more]) s.dispose();
    await t.close();
  };
  return { t, session, ui, attention, close };
}

/** The server's idle sign-out of every session, as after 30 minutes without activity. */
async function idleSignOut(t: TestServer, session: ChatSession): Promise<void> {
  t.clock.advance(DEFAULT_TIMINGS.idleTimeoutMs);
  await eventually(() => session.state.connection.phase === 'signed-out', 3000, 'the idle sign-out');
}

describe('the editor after an idle sign-out', () => {
  test('the user coming back signs in again with the token, and what arrived meanwhile is shown', async () => {
    const { t, session, ui, attention, close } = await editorFor('alice', ['bob']);
    try {
      attention.back(); // signed in: nothing to do
      await idleSignOut(t, session);
      assert.match(session.state.connection.message ?? '', /signed out after 30 minutes without activity/);

      const bob = await t.signIn('bob');
      await bob.message('alice', 'the build is green');
      const hashes = countHashes(t);
      attention.back();
      await eventually(() => session.state.connection.phase === 'signed-in', 5000, 'signed in again');
      const conversation = directId('bob');
      await eventually(
        () => session.state.messages(conversation).some((m) => m.body === 'the build is green'),
        3000,
        'the message sent while signed out',
      );
      assert.equal(hashes.count, 0, 'with the token: no password checked');
      assert.equal(ui.prompts.length, 1, 'the password was asked for once, at the first sign-in');

      // Live again: a message now arrives as it is sent.
      await bob.message('alice', 'and deployed');
      await eventually(() => session.state.messages(conversation).some((m) => m.body === 'and deployed'), 3000, 'a live message');
    } finally {
      await close();
    }
  });

  test('with --single-session and the user signed in elsewhere meanwhile, it stays signed out and says why', async () => {
    const { t, session, ui, attention, close } = await editorFor('alice', [], { singleSession: true });
    try {
      await idleSignOut(t, session);
      const terminal = await t.signIn('alice');
      attention.back();
      await eventually(() => ui.explained.length === 1, 5000, 'the refusal told');
      assert.equal(ui.explained[0]!.code, 'ALREADY_SIGNED_IN');
      assert.match(ui.explained[0]!.message, /alice is already signed in elsewhere/);
      assert.equal(session.state.connection.phase, 'signed-out');
      assert.match(session.state.connection.message ?? '', /already signed in elsewhere/);

      attention.back(); // once per sign-out: it does not try again at every focus
      attention.focusChanged(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(ui.explained.length, 1);
      assert.equal(session.state.connection.phase, 'signed-out');
      assert.equal(terminal.state, 'signed-in', 'the terminal keeps its session');
      assert.deepEqual((await terminal.whoelse()).users, []);
    } finally {
      await close();
    }
  });
});

describe('idle presence from the editor', () => {
  test('a window without focus for a while makes its user idle to others; focus makes them active again', async () => {
    const { t, session, attention, close } = await editorFor('alice', ['bob', 'carol']);
    const bob = await signedInSession(t, 'bob');
    const onlineNotices = (): number =>
      bob.state.items(EVERYONE).items.filter((i) => i.kind === 'notice' && i.text === 'alice is online').length;
    try {
      await eventually(() => bob.state.presenceOf('alice') === 'online', 3000, 'alice online for bob');
      const notices = onlineNotices();
      attention.focusChanged(false);
      await eventually(() => bob.state.presenceOf('alice') === 'idle', 3000, 'alice idle for bob');
      assert.equal(
        describeLastSeen(
          bob.state.people().find((p) => p.username === 'alice')!,
          t.clock.now,
        ),
        'idle',
      );
      attention.focusChanged(true);
      await eventually(() => bob.state.presenceOf('alice') === 'online', 3000, 'alice back for bob');
      assert.equal(onlineNotices(), notices, 'becoming idle or active again is no "is online" notice');

      // Signing in again (here after a dropped connection) is a new session on the server: a user still away says so again.
      attention.focusChanged(false);
      await eventually(() => bob.state.presenceOf('alice') === 'idle', 3000, 'alice idle again');
      const phases: string[] = [];
      session.state.on('connection', () => phases.push(session.state.connection.phase));
      // The transport closes under the session (not the server's goodbye, after which no client comes back).
      for (const socket of t.server.io.sockets.sockets.values()) if (socket.rooms.has('user:alice')) socket.conn.close();
      await eventually(() => phases.includes('reconnecting') && session.signedIn, 5000, 'alice signed in again');
      const carol = await t.signIn('carol');
      await eventually(
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 100)); // within the request rate
          return (await carol.users()).users.find((u) => u.username === 'alice')?.idle === true;
        },
        3000,
        'alice idle on the new session',
      );
    } finally {
      await close(bob);
    }
  });
});

describe('the chat view says the user is there', () => {
  test('shown, or typed or clicked in (the page tells at most every 10 seconds)', async () => {
    const page = await openWebview({ now: Date.UTC(2026, 11, 3, 12) });
    const input = page.document.querySelector('textarea')!;
    input.dispatchEvent(new page.window.KeyboardEvent('keydown', { key: 'h', bubbles: true }));
    input.dispatchEvent(new page.window.KeyboardEvent('keydown', { key: 'i', bubbles: true }));
    page.document.querySelector('.timeline')!.dispatchEvent(new page.window.MouseEvent('pointerdown', { bubbles: true }));
    const told = page.posted.filter((m) => m.type === 'active');
    page.close();
    assert.deepEqual(told, [{ type: 'active' }], 'once: the page clock stands still');

    const session = new ChatSession();
    let active = 0;
    const ignore = (): void => {};
    const controller = new ChatViewController(session, ignore, {
      openLink: ignore,
      action: ignore,
      signOut: ignore,
      log: ignore,
      viewingChanged: ignore,
      userActive: () => active++,
    });
    controller.setVisible(true);
    controller.setVisible(false);
    assert.equal(active, 1, 'shown, not hidden');
    assert.equal(await controller.receive(told[0]), true);
    assert.equal(active, 2);
    controller.dispose();
    session.dispose();
  });
});
