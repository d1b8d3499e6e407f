import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ParleyRequestError } from '../src/client/parley-client';
import { PrivateChatError } from '../src/client/private-channels';
import { generatePeerKeys } from '../src/client/private-crypto';
import { PEER_REFUSALS } from '../src/protocol';
import { eventually, passwordOf, refusedPort, startServer, type TestServer } from './helpers/server';
import {
  assertServerCarriedNoPrivateChat,
  captureServerTraffic,
  closeLeftoverPeers,
  closePeers,
  dial,
  handshake,
  nextPrivate,
  peer,
  recordPrivate,
  type Peer,
} from './private-helpers';

/** Opens a channel from `a` to `b` and waits until both sides call it open. */
async function connect(a: Peer, b: Peer): Promise<void> {
  const opened = nextPrivate(b.channels, 'opened', (info) => info.username === a.name);
  await a.channels.start(b.name);
  await opened;
}

/** Sends from `a` to `b` and returns what `b` received. */
async function exchange(a: Peer, b: Peer, body: string): Promise<string> {
  const got = nextPrivate(b.channels, 'message', (m) => m.from === a.name);
  a.channels.send(b.name, body);
  return (await got)[0].body;
}

const code = (expected: string) => (err: unknown) => {
  assert.ok(err instanceof ParleyRequestError || err instanceof PrivateChatError, String(err));
  assert.equal(err.code, expected, err.message);
  return true;
};

describe('private chat: a direct channel between two clients', () => {
  let t: TestServer;
  let traffic: string[];
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave', 'erin', 'fred', 'gina', 'hal'] });
    traffic = captureServerTraffic(t.server);
  });
  after(async () => {
    await closeLeftoverPeers();
    await t.close();
  });

  test('messages go both ways over the channel; the message center never sees them', async () => {
    const [alice, bob] = [await peer(t, 'alice'), await peer(t, 'bob')];
    const bobOpened = nextPrivate(bob.channels, 'opened');
    assert.deepEqual(await alice.channels.start('bob'), { username: 'bob', already: false });
    const [bobSide] = await bobOpened;
    assert.deepEqual({ ...bobSide, safetyCode: '' }, { username: 'alice', direction: 'incoming', safetyCode: '' });
    assert.match(bobSide.safetyCode, /^\d{4} \d{4} \d{4}$/);
    assert.equal(alice.channels.safetyCodeOf('bob'), bobSide.safetyCode, 'the same safety code on both screens');
    assert.deepEqual(await alice.channels.start('bob'), { username: 'bob', already: true }, 'a second start finds the open chat');

    const mark = traffic.length;
    const toBob = nextPrivate(bob.channels, 'message');
    const sent = alice.channels.send('bob', 'the eagle lands at noon');
    const [received] = await toBob;
    assert.deepEqual([received.private, received.from, received.to, received.body], [true, 'alice', 'bob', 'the eagle lands at noon']);
    assert.equal(sent.body, received.body);
    assert.equal(await exchange(bob, alice, 'copy that, eagle'), 'copy that, eagle');
    for (let i = 0; i < 20; i++) assert.equal(await exchange(i % 2 ? alice : bob, i % 2 ? bob : alice, `eagle ${i}`), `eagle ${i}`);

    const all = traffic.join('\n');
    assert.match(all, /"startprivate",\{"username":"bob"/, 'the capture sees the requests');
    assert.match(all, /"ticket":"/, 'and the replies');
    // bob's sign-in may be announced to alice late (presence comes in batches): not part of the chat.
    assertServerCarriedNoPrivateChat(traffic, { secrets: ['eagle'], mark, allow: ['presence'] });
    assert.deepEqual((await alice.client.history({ with: 'bob' })).messages, [], 'and none was stored');
    await closePeers(alice, bob);
  });

  test('the proof from the server side would catch a relay of encrypted frames, not only of plaintext', () => {
    const quiet = ['ping ', 'pong ', 'message 2["presence",[]]'];
    assert.doesNotThrow(() => assertServerCarriedNoPrivateChat(quiet, { secrets: ['eagle'], mark: 0, allow: ['presence'] }));
    const relayed = ['message 2["frame",{"n":0,"c":"q9Xb3dM0yTt7xQ2w1Lk9Zg"}]'];
    assert.throws(() => assertServerCarriedNoPrivateChat(relayed, { secrets: ['eagle'], mark: 1 }), /a private frame passed/);
    const wrapped = ['message 21["relay",{"to":"bob","blob":"q9Xb3dM0yTt7xQ2w1Lk9Zg"}]'];
    assert.throws(() => assertServerCarriedNoPrivateChat(wrapped, { secrets: ['eagle'], mark: 0 }), /nothing but heartbeats/);
  });

  test('stopprivate closes both ends and tells the peer; sending afterwards is refused, nothing rerouted', async () => {
    const [carol, dave] = [await peer(t, 'carol'), await peer(t, 'dave')];
    await connect(carol, dave);
    const mine = nextPrivate(carol.channels, 'closed');
    const theirs = nextPrivate(dave.channels, 'closed');
    carol.channels.stop('dave');
    assert.deepEqual((await mine)[0], { username: 'dave', reason: 'stopped', byPeer: false });
    assert.deepEqual((await theirs)[0], { username: 'carol', reason: 'stopped', byPeer: true });
    assert.throws(() => dave.channels.send('carol', 'still there?'), code('NO_CHANNEL'));
    assert.throws(() => carol.channels.send('dave', 'hello?'), /"message dave <text>" sends through the server/);
    assert.throws(() => carol.channels.stop('dave'), code('NO_CHANNEL'));
    assert.deepEqual([carol.channels.open, dave.channels.open], [[], []]);

    // It can be opened again, from either side.
    await connect(dave, carol);
    assert.equal(await exchange(carol, dave, 'again'), 'again');
    await closePeers(carol, dave);
  });

  test('signing out closes every channel and tells each peer; the listener goes away with the session', async () => {
    const [erin, fred, gina] = [await peer(t, 'erin'), await peer(t, 'fred'), await peer(t, 'gina')];
    await connect(erin, fred);
    await connect(gina, erin);
    const endpoint = erin.channels.endpoint!;
    const fredSaw = nextPrivate(fred.channels, 'closed');
    const ginaSaw = nextPrivate(gina.channels, 'closed');
    const erinSaw = recordPrivate(erin.channels, 'closed');
    await erin.client.logout();
    assert.deepEqual((await fredSaw)[0], { username: 'erin', reason: 'signed-out', byPeer: true });
    assert.deepEqual((await ginaSaw)[0], { username: 'erin', reason: 'signed-out', byPeer: true });
    assert.deepEqual(erinSaw.map(([c]) => [c.username, c.reason, c.byPeer]).sort(), [
      ['fred', 'signed-out', false],
      ['gina', 'signed-out', false],
    ]);
    await assert.rejects(dial(endpoint, {}), /ECONNREFUSED|websocket error/, 'nothing listens any more');
    await assert.rejects(fred.channels.start('erin'), code('USER_OFFLINE'));
    await closePeers(erin, fred, gina);
  });

  test('a block during a private chat closes it on both sides, and an earlier ticket no longer opens one', async () => {
    const [alice, hal] = [await peer(t, 'alice'), await peer(t, 'hal')];
    await connect(alice, hal);
    // A ticket issued before the block, kept for later.
    const keys = generatePeerKeys();
    const early = await alice.client.request('startprivate', { username: 'hal', publicKey: keys.publicKey });
    const aliceSaw = nextPrivate(alice.channels, 'closed');
    const halSaw = nextPrivate(hal.channels, 'closed');
    await hal.client.block('alice');
    assert.equal((await aliceSaw)[0].reason, 'blocked');
    assert.equal((await halSaw)[0].reason, 'blocked');
    await assert.rejects(alice.channels.start('hal'), code('BLOCKED'));
    await assert.rejects(hal.channels.start('alice'), code('BLOCKED'));

    await hal.client.unblock('alice');
    const refused = nextPrivate(hal.channels, 'refused');
    await assert.rejects(dial(early, handshake(early.ticket, keys.publicKey)), /REVOKED/);
    assert.deepEqual((await refused)[0], { code: 'REVOKED', message: PEER_REFUSALS.REVOKED, address: '127.0.0.1', claimed: 'alice' });
    t.clock.advance(1); // tickets from the very millisecond of the block are void too
    await connect(alice, hal);
    assert.equal(await exchange(hal, alice, 'friends again'), 'friends again');
    await closePeers(alice, hal);
  });

  test('both sides starting at the same moment end with one channel, the one the smaller name dialled', async () => {
    for (let round = 0; round < 5; round++) {
      const [erin, gina] = [await peer(t, 'erin'), await peer(t, 'gina')];
      const closed = [recordPrivate(erin.channels, 'closed'), recordPrivate(gina.channels, 'closed')];
      const [a, b] = await Promise.all([erin.channels.start('gina'), gina.channels.start('erin')]);
      assert.deepEqual([a.username, b.username], ['gina', 'erin']);
      assert.deepEqual([erin.channels.open, gina.channels.open], [['gina'], ['erin']]);
      assert.equal(await exchange(erin, gina, `round ${round}`), `round ${round}`);
      assert.equal(await exchange(gina, erin, `back ${round}`), `back ${round}`);
      assert.deepEqual(closed, [[], []], 'no channel was seen to close');
      await closePeers(erin, gina);
    }
  });

  test('each dial uses a key pair of its own, never the session key its client listens with', async () => {
    const mark = traffic.length;
    const [alice, bob] = [await peer(t, 'alice'), await peer(t, 'bob')];
    await connect(alice, bob);
    const closed = nextPrivate(bob.channels, 'closed');
    alice.channels.stop('bob');
    await closed;
    await connect(alice, bob);
    assert.equal(await exchange(bob, alice, 'second channel'), 'second channel');
    // The keys as the message center received them: registered with `peer`, vouched for with `startprivate`.
    const keysSent = (request: string): string[] =>
      traffic
        .slice(mark)
        .flatMap((p) => [...p.matchAll(new RegExp(`"${request}",\\{[^}]*"publicKey":"([A-Za-z0-9_-]{43})"`, 'g'))].map((m) => m[1]!));
    const sessionKeys = keysSent('peer');
    const dialKeys = keysSent('startprivate');
    assert.equal(sessionKeys.length, 2);
    assert.equal(dialKeys.length, 2);
    assert.notEqual(dialKeys[0], dialKeys[1], 'a new key for each dial');
    for (const key of dialKeys) assert.ok(!sessionKeys.includes(key), 'not the key the session listens with');
    await closePeers(alice, bob);
  });

  test('a peer that cannot be reached is a clear error offering the server; nothing is sent another way', async () => {
    const closedPort = await refusedPort();

    const carol = await peer(t, 'carol');
    const dave = await peer(t, 'dave', { advertise: { port: closedPort } });
    const before = traffic.length;
    await assert.rejects(carol.channels.start('dave'), (err: unknown) => {
      assert.ok(err instanceof PrivateChatError);
      assert.equal(err.code, 'PEER_UNREACHABLE');
      assert.match(
        err.message,
        new RegExp(
          `Cannot reach dave directly at 127\\.0\\.0\\.1:${closedPort} .*Nothing was sent; "message dave <text>" sends through the server instead\\.`,
        ),
      );
      return true;
    });
    assert.equal(carol.channels.stateOf('dave'), 'closed');
    assert.doesNotMatch(traffic.slice(before).join('\n'), /"message"/, 'no message was sent through the server');
    await closePeers(carol, dave);
  });
});

describe('private chat without the message center', () => {
  test('an open chat goes on while the message center is down and after it restarts; new tickets come from the new one', async () => {
    const first = await startServer({ users: ['alice', 'bob'] });
    let second: TestServer | undefined;
    try {
      const [alice, bob] = [await peer(first, 'alice'), await peer(first, 'bob')];
      await connect(alice, bob);
      const oldKeys = generatePeerKeys();
      const oldTicket = await alice.client.request('startprivate', { username: 'bob', publicKey: oldKeys.publicKey });
      await first.stop();
      await eventually(() => alice.client.state !== 'signed-in' && bob.client.state !== 'signed-in', 3000, 'both clients cut off');
      assert.equal(await exchange(alice, bob, 'is the server gone?'), 'is the server gone?');
      assert.equal(await exchange(bob, alice, 'yes, and we are still here'), 'yes, and we are still here');
      assert.deepEqual(alice.channels.open, ['bob']);

      // The same port and data, as a restarted server has: both clients sign in again and register anew.
      const registered = [alice, bob].map((p) => nextPrivate(p.channels, 'ready', () => true, 8000));
      second = await startServer({ dataDir: first.dataDir, port: first.port }, first.clock);
      await Promise.all(registered);
      assert.equal(await exchange(alice, bob, 'still the same chat'), 'still the same chat');
      // A ticket signed by the stopped server means nothing now: its key died with it.
      await assert.rejects(dial(oldTicket, handshake(oldTicket.ticket, oldKeys.publicKey)), /refused: BAD_TICKET/);

      const closed = nextPrivate(bob.channels, 'closed');
      alice.channels.stop('bob');
      assert.equal((await closed)[0].reason, 'stopped');
      await connect(bob, alice);
      assert.equal(await exchange(bob, alice, 'a new chat'), 'a new chat');
      await closePeers(alice, bob);
    } finally {
      await second?.close();
      await first.close();
    }
  });
});

describe('private chat: a block made while neither side had a session', () => {
  test('the first to sign in again learns it from the server and closes the chat on both sides', async () => {
    const t = await startServer({ users: ['alice', 'bob'], timings: { idleTimeoutMs: 60_000 } });
    try {
      const [alice, bob] = [await peer(t, 'alice'), await peer(t, 'bob')];
      await connect(alice, bob);
      const bob2 = await t.signIn('bob'); // bob's other window, which stays active
      t.clock.advance(30_000);
      await bob2.whoelse();
      t.clock.advance(30_000);
      await eventually(() => alice.client.state === 'offline' && bob.client.state === 'offline', 3000, 'both chat sessions timed out');
      assert.deepEqual([alice.channels.open, bob.channels.open], [['bob'], ['alice']], 'the chat goes on without them');

      // bob blocks alice from the other window: no session of the chat hears privateRevoked, and the chat goes on...
      await bob2.block('alice');
      assert.equal(await exchange(alice, bob, 'did you hear anything?'), 'did you hear anything?');

      // ... until alice signs in again: her registration names bob, and the reply says a block stands between them.
      const aliceClosed = nextPrivate(alice.channels, 'closed');
      const bobClosed = nextPrivate(bob.channels, 'closed');
      await alice.client.connect();
      await alice.client.login('alice', passwordOf('alice'));
      assert.deepEqual((await aliceClosed)[0], { username: 'bob', reason: 'blocked', byPeer: false });
      assert.deepEqual((await bobClosed)[0], { username: 'alice', reason: 'blocked', byPeer: true });
      await assert.rejects(alice.channels.start('bob'), code('BLOCKED'));
      await closePeers(alice, bob);
    } finally {
      await closeLeftoverPeers();
      await t.close();
    }
  });
});
