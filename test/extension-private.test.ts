import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ChatSession, PrivateFailure } from '../src/extension/core/chat-session';
import { ChatViewController } from '../src/extension/core/view-controller';
import { parseHostMessage, privateId, type HostToWebview } from '../src/view-protocol';
import { describeLastSeen } from '../src/extension/core/chat-state';
import { signedInSession } from './helpers/extension-session';
import { eventually, passwordOf, refusedPort, startServer, type TestServer } from './helpers/server';
import { generatePeerKeys } from '../src/client/private-crypto';
import {
  assertServerCarriedNoPrivateChat,
  captureServerTraffic,
  closePeers,
  dial,
  handshake,
  nextPrivate,
  peer,
  ticketFor,
  type Peer,
} from './private-helpers';

const notices = (s: ChatSession, conversation: string): string[] =>
  s.state.items(conversation).items.flatMap((i) => (i.kind === 'notice' ? [i.text] : []));

const bodies = (s: ChatSession, conversation: string): string[] => s.state.messages(conversation).map((m) => m.body);

/** A loopback port where nothing listens. */

describe('extension: private chat against a real server and real peers', () => {
  let t: TestServer;
  let traffic: string[];
  const sessions: ChatSession[] = [];
  const peers: Peer[] = [];
  const open = async (username: string): Promise<ChatSession> => {
    const s = await signedInSession(t, username, { private: { clock: t.clock.read }, peopleRefreshDelayMs: 20 });
    sessions.push(s);
    return s;
  };
  const failures = (s: ChatSession): PrivateFailure[] => {
    const seen: PrivateFailure[] = [];
    s.on('privateFailed', (f) => seen.push(f));
    return seen;
  };
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave', 'erin'], rateLimit: { burst: 1000, perSecond: 100 } });
    traffic = captureServerTraffic(t.server);
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.signOut(500);
    await closePeers(...peers.splice(0));
    for (const c of t.clients.splice(0)) c.close();
  });
  after(() => t.close());

  test('two sessions open a private chat from the composer and talk both ways; the server never sees it; stop closes it', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    const started = await alice.runInput('everyone', '/startprivate bob');
    assert.equal(started.kind, 'command');
    assert.ok(started.kind === 'command' && started.open === 'private:bob', 'the composer switches to the private conversation');
    await eventually(() => bob.state.privateState('alice') === 'direct', 3000, 'bob sees the chat open');
    const summary = alice.state.conversations().find((c) => c.id === 'private:bob');
    assert.deepEqual(summary && { kind: summary.kind, title: summary.title, state: summary.privateState }, {
      kind: 'private',
      title: 'bob',
      state: 'direct',
    });
    assert.equal(bob.state.conversations().find((c) => c.id === 'private:alice')?.privateState, 'direct');
    assert.match(notices(alice, 'private:bob').join('\n'), /direct, encrypted.*not stored on the server/);
    const mark = traffic.length;

    // The composer in the private conversation sends over the channel.
    const sent = await alice.runInput('private:bob', 'the owl flies at midnight');
    assert.ok(sent.kind === 'sent' && sent.conversation === 'private:bob' && sent.message.kind === 'private');
    await eventually(() => bodies(bob, 'private:alice').includes('the owl flies at midnight'), 3000, 'bob got it');
    assert.equal(bob.state.unread('private:alice'), 1, 'unread while not on screen');
    // "private U M" from another conversation sends there too.
    const reply = await bob.runInput('everyone', '/private alice and the fox at dawn');
    assert.ok(reply.kind === 'sent' && reply.conversation === 'private:alice');
    await eventually(() => bodies(alice, 'private:bob').includes('and the fox at dawn'), 3000, 'alice got the reply');
    assert.deepEqual(bodies(alice, 'private:bob'), ['the owl flies at midnight', 'and the fox at dawn']);
    assert.ok(alice.state.messages('private:bob').every((m) => m.kind === 'private'));

    // The server's side: no private text or frame in anything it received or sent (a people list refresh aside,
    // nothing at all while they talked), and none in history.
    assertServerCarriedNoPrivateChat(traffic, { secrets: ['owl flies', 'fox at dawn'], mark, allow: ['users', 'presence'] });
    const history = await (await t.signIn('carol')).history({ limit: 100 });
    assert.ok(!history.messages.some((m) => /owl|fox/.test(m.body)));
    assert.ok(!bodies(alice, 'dm:bob').some((b) => /owl|fox/.test(b)), 'nothing went into the server conversation');

    const stopped = await bob.runInput('private:alice', '/stopprivate alice');
    assert.equal(stopped.kind, 'command');
    await eventually(() => alice.state.privateState('bob') === 'closed', 3000, 'alice sees it closed');
    await eventually(() => bob.state.privateState('alice') === 'closed', 3000, 'bob sees it closed');
    assert.match(notices(alice, 'private:bob').at(-1)!, /closed \(bob stopped it\)/);
    assert.deepEqual(bodies(alice, 'private:bob').length, 2, 'the messages stay in memory after the chat closes');
  });

  test('a terminal-side peer opens a chat with an extension session; blocking closes it on both sides', async () => {
    const alice = await open('alice');
    const carol = await peer(t, 'carol', { clock: t.clock.read });
    peers.push(carol);
    const opened = new Promise<{ username: string; direction: string }>((resolve) => alice.once('privateOpened', resolve));
    await carol.channels.start('alice');
    assert.deepEqual(await opened, { username: 'carol', conversation: 'private:carol', direction: 'incoming' });
    const code = carol.channels.safetyCodeOf('alice');
    assert.match(code ?? '', /^\d{4} \d{4} \d{4}$/);
    assert.ok(
      notices(alice, 'private:carol').some((text) => text.includes(`Safety code ${code}: if carol sees the same`)),
      'the safety code is shown in the conversation',
    );
    assert.equal(alice.state.privateState('carol'), 'direct');

    const got = nextPrivate(carol.channels, 'message');
    await alice.sendTo('private:carol', 'just between us');
    assert.equal((await got)[0].body, 'just between us');
    carol.channels.send('alice', 'agreed');
    await eventually(() => bodies(alice, 'private:carol').includes('agreed'), 3000, 'alice got it');

    const closed = nextPrivate(carol.channels, 'closed');
    await alice.runInput('private:carol', '/block carol');
    assert.equal((await closed)[0].reason, 'blocked');
    await eventually(() => alice.state.privateState('carol') === 'closed', 3000, 'closed on alice’s side');
    assert.match(notices(alice, 'private:carol').join('\n'), /closed \(one of you blocked the other\)/);
    await alice.unblock('carol');
  });

  test('an unreachable peer, an offline user, a blocked user and no open channel: clear words, the offer of the server, nothing rerouted', async () => {
    const alice = await open('alice');
    const failed = failures(alice);
    // erin's listener claims a port where nothing listens (a firewall or NAT, as far as alice can tell).
    const erin = await peer(t, 'erin', { clock: t.clock.read, advertise: { port: await refusedPort() } });
    peers.push(erin);

    const unreachable = await alice.runInput('everyone', '/startprivate erin');
    assert.equal(unreachable.kind, 'error');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.username, 'erin');
    assert.equal(failed[0]!.offerServer, true);
    assert.match(failed[0]!.message, /Cannot reach erin directly/);
    assert.equal(alice.state.privateState('erin'), 'closed');
    assert.match(notices(alice, 'private:erin').at(-1)!, /Cannot reach erin directly/);

    const notSent = await alice.runInput('private:erin', 'are you there?');
    assert.equal(notSent.kind, 'error');
    assert.equal(failed.length, 2);
    assert.deepEqual([failed[1]!.offerServer, failed[1]!.body], [true, 'are you there?']);
    assert.ok(!traffic.some((p) => p.includes('are you there?')), 'not silently sent through the server');
    assert.equal(bodies(alice, 'dm:erin').length, 0);
    // What "Send via Server" does: the user's choice, an ordinary direct message.
    const viaServer = await alice.sendTo('dm:erin', failed[1]!.body!);
    assert.equal(viaServer.kind, 'direct');

    await assert.rejects(alice.startPrivate('dave'), /not online/);
    assert.deepEqual([failed[2]!.username, failed[2]!.offerServer], ['dave', true]);

    await alice.block('bob');
    await assert.rejects(alice.startPrivate('bob'));
    assert.deepEqual([failed[3]!.username, failed[3]!.offerServer], ['bob', false], 'no server fallback to a blocked user');
    await alice.unblock('bob');
  });

  test('the chat view: "startprivate" in the composer opens the private conversation, whose summary and items pass the webview schema', async () => {
    const alice = await open('alice');
    await open('bob');
    const posted: HostToWebview[] = [];
    const view = new ChatViewController(alice, (m) => posted.push(m), {
      openLink: () => {},
      action: () => {},
      signOut: () => {},
      log: (text) => assert.fail(text),
      viewingChanged: () => alice.state.setViewing(view.viewing ? [view.viewing] : []),
    });
    try {
      await view.receive({ type: 'ready' });
      await view.receive({ type: 'send', requestId: 1, conversation: 'everyone', text: '/startprivate bob' });
      const result = posted.find((m) => m.type === 'sendResult');
      assert.deepEqual(result, { type: 'sendResult', requestId: 1, ok: true, open: 'private:bob' });
      assert.equal(view.activeConversation, 'private:bob');
      await view.receive({ type: 'send', requestId: 2, conversation: 'private:bob', text: 'over the channel' });
      const items = posted.filter((m) => m.type === 'items' && m.conversation === 'private:bob');
      assert.ok(items.some((m) => m.type === 'items' && m.items.some((i) => i.kind === 'message' && i.message.kind === 'private')));
      await new Promise((r) => setTimeout(r, 10));
      const summary = posted
        .filter((m) => m.type === 'conversations')
        .at(-1)
        ?.conversations.find((c) => c.id === 'private:bob');
      assert.equal(summary?.privateState, 'direct');
      for (const message of posted) assert.ok(parseHostMessage(message).ok, `${message.type} passes the webview's schema`);
      assert.equal(await view.receive({ type: 'loadOlder', conversation: 'private:bob' }), true);
      const older = posted.at(-1);
      assert.ok(older?.type === 'items' && older.hasOlder === false, 'nothing older on the server for a private chat');
    } finally {
      view.dispose();
    }
  });

  test("a refused direct connection is told in the terminal's words, for the log, and in the Everyone conversation", async () => {
    const alice = await open('alice');
    const logged: string[] = [];
    alice.on('privateRefused', (text) => logged.push(text));
    const carol = await peer(t, 'carol', { clock: t.clock.read });
    peers.push(carol);
    const { reply, keys } = await ticketFor(carol, 'alice');
    const forged = reply.ticket.replace(/\.(.)/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    await assert.rejects(dial(reply, handshake(forged, keys.publicKey)), /BAD_TICKET/);
    await assert.rejects(dial(reply, handshake(reply.ticket, generatePeerKeys().publicKey)), /KEY_MISMATCH/);
    await eventually(() => logged.length === 2, 3000, 'both refusals told');
    assert.deepEqual(logged, [
      'refused a direct connection from 127.0.0.1: the ticket is malformed or its signature is not the message center’s (forged)',
      'refused a direct connection from 127.0.0.1 claiming to be carol: the key presented is not the one the ticket was issued for (impersonation)',
    ]);
    // Presence notices share the conversation and may land in between.
    assert.deepEqual(
      notices(alice, 'everyone').filter((text) => text.startsWith('refused')),
      logged,
    );
  });

  test('signing out closes private chats and tells the peer', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    await alice.startPrivate('bob');
    await eventually(() => bob.state.privateState('alice') === 'direct', 3000, 'open');
    await alice.signOut(1000);
    sessions.splice(sessions.indexOf(alice), 1);
    await eventually(() => bob.state.privateState('alice') === 'closed', 3000, 'bob sees it closed');
    assert.match(notices(bob, 'private:alice').at(-1)!, /alice signed out/);
  });

  test('the people list holds every account, with last seen, including users never seen this session', async () => {
    const dave = await t.signIn('dave');
    dave.close();
    await new Promise((r) => setTimeout(r, 100));
    const alice = await open('alice');
    const people = alice.state.people();
    assert.deepEqual(people.map((p) => p.username).sort(), ['bob', 'carol', 'dave', 'erin']);
    assert.ok(people.every((p) => !p.online));
    const seen = people.find((p) => p.username === 'dave')!;
    assert.notEqual(seen.lastSeenAt, undefined);
    assert.match(describeLastSeen(seen, t.clock.now + 12 * 60_000), /last seen 12 min ago/);

    await alice.block('carol');
    await eventually(() => alice.state.people().find((p) => p.username === 'carol')?.blocked === true, 3000, 'blocked flag');
    await alice.unblock('carol');
    const bob = await t.signIn('bob');
    await eventually(() => alice.state.people().find((p) => p.username === 'bob')?.online === true, 3000, 'bob online');
    bob.close();
    await eventually(() => alice.state.people().find((p) => p.username === 'bob')?.online === false, 3000, 'bob offline');
  });
});

describe('extension: private chats outlive the server session', () => {
  const sessions: ChatSession[] = [];
  const open = async (t: TestServer, username: string): Promise<ChatSession> => {
    const s = await signedInSession(t, username, { private: { clock: t.clock.read } });
    sessions.push(s);
    return s;
  };
  /** Sends from one session's private conversation and waits for the other to have it. */
  const exchange = async (from: ChatSession, to: ChatSession, body: string): Promise<void> => {
    await from.sendTo(privateId(to.state.me!), body);
    await eventually(() => bodies(to, privateId(from.state.me!)).includes(body), 3000, `"${body}" arrived`);
  };
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.signOut(500);
  });

  test('signed out for idleness: the chat goes on both ways, ends with the last chat, and carries over a new sign-in', async () => {
    const t = await startServer({ users: ['alice', 'bob'], timings: { idleTimeoutMs: 60_000 } });
    try {
      const [alice, bob] = [await open(t, 'alice'), await open(t, 'bob')];
      const ended: string[] = [];
      alice.on('ended', (message) => ended.push(message));
      await alice.startPrivate('bob');
      await eventually(() => bob.state.privateState('alice') === 'direct', 3000, 'open');

      t.clock.advance(60_000);
      for (const s of [alice, bob]) {
        await eventually(() => /without activity/.test(s.state.connection.message ?? ''), 3000, 'the server signed them out');
      }
      assert.deepEqual(ended, ['You were signed out after 1 minute without activity.']);
      assert.match(alice.state.connection.message!, /Private chats with bob stay open \(direct\); sign in again for everything else\./);
      assert.equal(alice.state.connection.phase, 'private-only', 'the conversations stay on screen, and nothing claims to reconnect');
      assert.equal(alice.privateStateOf('bob'), 'direct');
      await exchange(alice, bob, 'are we still here?');
      await exchange(bob, alice, 'we are');
      await assert.rejects(alice.whoelse(), /Not signed in/, 'server requests wait for a new sign-in');

      // Signing in again (the same user, the same server) keeps the chat; it registers with the new session.
      await alice.connect(t.url, 'alice', passwordOf('alice'));
      assert.equal(alice.state.connection.phase, 'signed-in');
      assert.equal(alice.privateStateOf('bob'), 'direct');
      await exchange(bob, alice, 'welcome back');
      await exchange(alice, bob, 'thanks');
      assert.deepEqual(await alice.whoelse(), []);

      // bob has no server session: when his last chat closes, his session ends with it.
      await alice.runInput('private:bob', '/stopprivate bob');
      await eventually(() => bob.state.connection.phase === 'signed-out', 3000, 'bob signed out');
      assert.equal(bob.state.connection.message, 'No private chats are left; signed out.');
    } finally {
      for (const s of sessions.splice(0)) await s.signOut(500);
      await t.close();
    }
  });

  test('an explicit sign-out without a server session still closes the chats and tells the peers', async () => {
    const t = await startServer({ users: ['alice', 'bob'], timings: { idleTimeoutMs: 60_000 } });
    try {
      const [alice, bob] = [await open(t, 'alice'), await open(t, 'bob')];
      await alice.startPrivate('bob');
      await eventually(() => bob.state.privateState('alice') === 'direct', 3000, 'open');
      t.clock.advance(60_000);
      await eventually(() => /without activity/.test(alice.state.connection.message ?? ''), 3000, 'signed out by the server');
      await alice.signOut(500);
      await eventually(() => bob.state.privateState('alice') === 'closed', 3000, 'bob sees it closed');
      assert.match(notices(bob, 'private:alice').at(-1)!, /alice signed out/);
      assert.equal(alice.state.connection.phase, 'signed-out');
    } finally {
      for (const s of sessions.splice(0)) await s.signOut(500);
      await t.close();
    }
  });

  test('the server stops: the chat goes on both ways while the sessions wait for it', async () => {
    const t = await startServer({ users: ['alice', 'bob'] });
    try {
      const [alice, bob] = [await open(t, 'alice'), await open(t, 'bob')];
      await bob.startPrivate('alice');
      await eventually(() => alice.state.privateState('bob') === 'direct', 3000, 'open');
      await t.stop();
      for (const s of [alice, bob]) await eventually(() => s.state.connection.phase === 'reconnecting', 3000, 'cut off');
      await exchange(alice, bob, 'the server is gone');
      await exchange(bob, alice, 'and we are not');
      assert.deepEqual([alice.privateStateOf('bob'), bob.privateStateOf('alice')], ['direct', 'direct']);
    } finally {
      for (const s of sessions.splice(0)) await s.signOut(500);
      await t.close();
    }
  });
});
