import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { ParleyRequestError } from '../src/client/parley-client';
import type { ChatSession, NotifyEvent } from '../src/extension/core/chat-session';
import { describeSignInError, passwordPrompt } from '../src/extension/core/errors';
import { sessionFor, signedInSession } from './helpers/extension-session';
import { collect, eventually, next, startServer, type TestServer } from './helpers/server';

const notices = (s: ChatSession, conversation: string): string[] =>
  s.state.items(conversation).items.flatMap((i) => (i.kind === 'notice' ? [i.text] : []));

describe('extension chat session against a real server', () => {
  let t: TestServer;
  const sessions: ChatSession[] = [];
  const open = async (username: string): Promise<ChatSession> => {
    const s = await signedInSession(t, username);
    sessions.push(s);
    return s;
  };
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave'], rateLimit: { burst: 1000, perSecond: 100 } });
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) s.dispose();
    for (const c of t.clients.splice(0)) c.close();
  });
  after(() => t.close());

  test('signing in fills the state: who is online, conversations from history, connection', async () => {
    const bob = await t.signIn('bob');
    await bob.message('alice', 'before you came');
    await bob.broadcast('hello all', ['alice']);
    const alice = await open('alice');
    const snap = alice.state.snapshot();
    assert.equal(snap.me, 'alice');
    assert.equal(snap.connection.phase, 'signed-in');
    assert.deepEqual(
      snap.people.filter((p) => p.online).map((p) => p.username),
      ['bob'],
    );
    assert.ok(snap.conversations.some((c) => c.id === 'dm:bob'));
    assert.ok(alice.state.messages('dm:bob').some((m) => m.body === 'before you came'));
    assert.ok(alice.state.messages('everyone').some((m) => m.body === 'hello all'));
  });

  test('a direct message while its conversation is not on screen: unread and a notification; on screen: neither', async () => {
    const alice = await open('alice');
    const bob = await t.signIn('bob');
    const notified: NotifyEvent[] = [];
    alice.on('notify', (e) => notified.push(e));
    const before = alice.state.unread('dm:bob');
    await bob.message('alice', 'ping');
    await eventually(() => alice.state.unread('dm:bob') === before + 1, 3000, 'unread');
    assert.equal(notified.length, 1);
    assert.equal(notified[0]!.reason, 'direct');
    assert.equal(notified[0]!.message.body, 'ping');

    alice.state.setViewing(['dm:bob']);
    assert.equal(alice.state.unread('dm:bob'), 0);
    await bob.message('alice', 'seen at once');
    await eventually(() => alice.state.messages('dm:bob').some((m) => m.body === 'seen at once'), 3000, 'message');
    assert.equal(alice.state.unread('dm:bob'), 0);
    assert.equal(notified.length, 1, 'no notification for what is on screen');

    await bob.broadcast('hey @alice, review please', ['alice', 'carol']);
    await eventually(() => notified.length === 2, 3000, 'mention');
    assert.equal(notified[1]!.reason, 'mention');
    assert.equal(notified[1]!.conversation, 'everyone');
  });

  test('the composer runs "/" commands through parseCommand', async () => {
    const alice = await open('alice');
    await t.signIn('bob');
    const who = await alice.runInput('everyone', '/whoelse');
    assert.equal(who.kind, 'command');
    assert.ok(who.kind === 'command' && who.users?.includes('bob'));
    assert.match(notices(alice, 'everyone').at(-1)!, /Online now: .*bob/);

    const last = await alice.runInput('everyone', '/wholast 5');
    assert.ok(last.kind === 'command' && last.users?.includes('bob'));

    const sent = await alice.runInput('everyone', '/message bob hi there');
    assert.equal(sent.kind, 'sent');
    assert.ok(sent.kind === 'sent' && sent.conversation === 'dm:bob');
    assert.equal(alice.state.messages('dm:bob').at(-1)!.body, 'hi there');

    const named = await alice.runInput('everyone', '/broadcast user bob carol message stand-up in 5');
    assert.ok(named.kind === 'sent' && named.message.kind === 'broadcast');
    assert.equal(alice.state.messages('everyone').at(-1)!.body, 'stand-up in 5');
    assert.match(notices(alice, 'everyone').at(-1)!, /Broadcast sent to 2 users/);

    const bad = await alice.runInput('dm:bob', '/wholast 99');
    assert.equal(bad.kind, 'error');
    assert.match(notices(alice, 'dm:bob').at(-1)!, /1 to 59/);

    const help = await alice.runInput('dm:bob', '/help');
    assert.ok(
      help.kind === 'command' && /^ {2}\/whoelse /m.test(help.text) && /^ {2}\/logout /m.test(help.text),
      'help lists "/" commands',
    );
    assert.equal((await alice.runInput('dm:bob', '/logout')).kind, 'logout');
    assert.equal((await alice.runInput('dm:bob', '/LOGOUT')).kind, 'logout', 'command names in any case, as the terminal takes them');

    const refused = await alice.runInput('everyone', '/message nobody-here hello');
    assert.equal(refused.kind, 'error');
    assert.match(notices(alice, 'everyone').at(-1)!, /no user named/);
  });

  test('the composer: plain text is always a message to the open conversation, "//" sends a leading "/"', async () => {
    const alice = await open('alice');
    const bob = await t.signIn('bob');
    const got = collect(bob, 'message');
    const direct = () => got.map(([m]) => m).filter((m) => m.kind === 'direct');
    const lines = [
      'logout',
      'message me when the build is green',
      'whoelse',
      'help',
      '\\help me',
      ' /whoelse is a command only at the start',
    ];
    for (const line of lines) {
      const result = await alice.runInput('dm:bob', line);
      assert.ok(result.kind === 'sent' && result.conversation === 'dm:bob', `"${line}" is a message: ${JSON.stringify(result)}`);
    }
    const escaped = await alice.runInput('dm:bob', '//shrug');
    assert.ok(escaped.kind === 'sent' && escaped.message.body === '/shrug');
    const toEveryone = await alice.runInput('everyone', 'broadcast message stays a message');
    assert.ok(
      toEveryone.kind === 'sent' &&
        toEveryone.message.kind === 'broadcast' &&
        toEveryone.message.body === 'broadcast message stays a message',
    );

    const unknown = await alice.runInput('dm:bob', '/shrug');
    assert.equal(unknown.kind, 'error');
    assert.ok(
      unknown.kind === 'error' && /unknown command "\/shrug"/.test(unknown.error) && /\/help/.test(unknown.error),
      JSON.stringify(unknown),
    );
    assert.equal(notices(alice, 'dm:bob').at(-1), unknown.kind === 'error' ? unknown.error : '');
    const bare = await alice.runInput('dm:bob', '/');
    assert.ok(bare.kind === 'error' && /\/help/.test(bare.error), JSON.stringify(bare));

    // Bob got every message, in order, and nothing of the refused lines; alice is still signed in.
    await alice.runInput('dm:bob', 'last one');
    const expected = [...lines, '/shrug', 'last one'];
    await eventually(() => direct().length >= expected.length, 3000, 'messages');
    assert.deepEqual(
      direct().map((m) => [m.from, m.to, m.body]),
      expected.map((body) => ['alice', 'bob', body]),
    );
    assert.equal(alice.state.snapshot().connection.phase, 'signed-in');
    assert.ok((await alice.whoelse()).includes('bob'), 'the session still answers requests');
  });

  test('blocking and unblocking update people; blocked users cannot be messaged', async () => {
    const alice = await open('alice');
    await alice.runInput('everyone', '/block dave');
    assert.equal(alice.state.people().find((p) => p.username === 'dave')?.blocked, true);
    const refused = await alice.runInput('dm:dave', 'hello?');
    assert.equal(refused.kind, 'error');
    await alice.unblock('dave');
    assert.equal(alice.state.people().find((p) => p.username === 'dave')?.blocked, false);
  });

  test('blocking someone online hides them without saying they went offline; unblocking shows them again', async () => {
    const alice = await open('alice');
    await t.signIn('dave');
    await eventually(() => alice.state.people().some((p) => p.username === 'dave' && p.online), 3000, 'dave online');
    await alice.block('dave');
    assert.equal(alice.state.people().find((p) => p.username === 'dave')?.online, false);
    // The server's hiding event arrives before its answer; both have arrived now.
    assert.ok(!notices(alice, 'everyone').includes('dave went offline'), notices(alice, 'everyone').join(' | '));
    await alice.unblock('dave');
    await eventually(() => notices(alice, 'everyone').includes('dave is online'), 3000, 'dave shown again');
    assert.equal(alice.state.people().find((p) => p.username === 'dave')?.blocked, false);
  });

  test('older history pages in on request, each message once and in order', async () => {
    const carol = await t.signIn('carol');
    // Delivered (and acknowledged) while dave was online: at the next sign-in they are history, not replayed.
    const online = await t.signIn('dave');
    const got = collect(online, 'message');
    for (let i = 1; i <= 130; i++) await carol.message('dave', `n${i}`);
    await eventually(() => got.length === 130, 3000, 'delivery');
    await online.blocklist(); // a round trip after the acknowledgements
    online.close();
    const dave = await signedInSession(t, 'dave', { historyPage: 50 });
    sessions.push(dave);
    const bodies = (): string[] => dave.state.messages('dm:carol').map((m) => m.body);
    const first = bodies().filter((b) => /^n\d+$/.test(b));
    assert.equal(first.length, 50);
    assert.equal(first.at(-1), 'n130');
    assert.equal((await dave.loadOlder('dm:carol')).hasOlder, true);
    await dave.loadOlder('dm:carol');
    assert.equal((await dave.loadOlder('dm:carol')).hasOlder, false);
    const all = bodies().filter((b) => /^n\d+$/.test(b));
    assert.deepEqual(
      all,
      Array.from({ length: 130 }, (_, i) => `n${i + 1}`),
    );
    const ids = dave.state.messages('dm:carol').map((m) => m.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.equal(new Set(ids).size, ids.length);
  });

  test('sign-in problems come back with the client core’s codes and clear words', async () => {
    const s = sessionFor(t);
    sessions.push(s);
    await assert.rejects(s.connect(t.url, 'carol', 'wrong'), (err: ParleyRequestError) => {
      assert.equal(err.code, 'INVALID_CREDENTIALS');
      const problem = describeSignInError(err, t.url, 'carol');
      assert.equal(problem.forgetPassword, true);
      assert.match(problem.message, /Wrong username or password/);
      // The box that asks again says it, with the attempts left (a notification would be hidden behind it).
      assert.equal(passwordPrompt('carol', t.url, problem), `Password for carol on ${t.url} (wrong password: 2 attempts left)`);
      return true;
    });
    assert.equal(passwordPrompt('carol', t.url), `Password for carol on ${t.url}`);
    assert.equal(s.state.connection.phase, 'signed-out');
    await assert.rejects(s.connect(t.url, 'carol', 'wrong'));
    await assert.rejects(s.connect(t.url, 'carol', 'wrong'), (err: ParleyRequestError) => {
      assert.equal(err.code, 'LOCKED_OUT');
      const problem = describeSignInError(err, t.url, 'carol');
      assert.match(problem.message, /locked out for \d+ seconds/);
      return true;
    });
    t.clock.advance(61_000);

    const unreachable = 'http://127.0.0.1:9';
    await assert.rejects(s.connect(unreachable, 'carol', 'x'), (err: ParleyRequestError) => {
      assert.equal(err.code, 'UNREACHABLE');
      assert.match(describeSignInError(err, unreachable, 'carol').message, /Cannot reach a Parley server/);
      return true;
    });
    const mismatch = new ParleyRequestError({ code: 'UNSUPPORTED_VERSION', message: 'This server speaks Parley protocol 2' });
    assert.match(describeSignInError(mismatch, t.url, 'carol').message, /another version of the Parley protocol/);
  });

  test('signing out tells the server (others see it go offline) and forgets the chat', async () => {
    const bob = await t.signIn('bob');
    const alice = await open('alice');
    await alice.sendTo('dm:bob', 'bye');
    const offline = next(bob, 'presence', (e) => e.username === 'alice' && !e.online);
    await alice.signOut();
    await offline;
    const snap = alice.state.snapshot();
    assert.equal(snap.connection.phase, 'signed-out');
    assert.equal(snap.connection.message, 'You have signed out.');
    assert.equal(snap.me, undefined);
    assert.deepEqual(
      snap.conversations.map((c) => c.id),
      ['everyone'],
    );
    await assert.rejects(alice.whoelse(), /Not signed in/);
  });

  test('a session signed out for idling says why and ends', async () => {
    const bob = await open('bob');
    const ended = new Promise<string>((resolve) => bob.once('ended', resolve));
    t.clock.advance(31 * 60_000);
    const message = await ended;
    assert.match(message, /without activity/);
    assert.equal(bob.state.connection.phase, 'signed-out');
    assert.match(bob.state.connection.message ?? '', /without activity/);
  });
});

describe('reconnecting', () => {
  test('a server restart shows the reconnecting state, then messages sent meanwhile arrive once, in order', async () => {
    const first = await startServer({ users: ['alice', 'bob'] });
    const alice = sessionFor(first);
    try {
      await alice.connect(first.url, 'alice', 'alice-pw');
      const phases: string[] = [];
      alice.state.on('connection', () => phases.push(alice.state.connection.phase));
      await first.stop();
      await eventually(() => alice.state.connection.phase === 'reconnecting', 3000, 'reconnecting');

      const second = await startServer({ users: ['alice', 'bob'], dataDir: first.dataDir, port: first.port });
      try {
        const bob = await second.signIn('bob');
        for (const body of ['one', 'two', 'three']) await bob.message('alice', body);
        await eventually(() => alice.state.connection.phase === 'signed-in', 5000, 'signed in again');
        await eventually(() => alice.state.messages('dm:bob').length >= 3, 3000, 'missed messages');
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(
          alice.state.messages('dm:bob').map((m) => m.body),
          ['one', 'two', 'three'],
        );
        assert.ok(phases.includes('reconnecting'));
        assert.equal(phases.at(-1), 'signed-in');
        const next2 = next(bob, 'message');
        await alice.runInput('dm:bob', 'back');
        assert.equal((await next2)[0].body, 'back');
      } finally {
        alice.dispose();
        await second.close();
      }
    } finally {
      alice.dispose();
      await first.close();
    }
  });
});
