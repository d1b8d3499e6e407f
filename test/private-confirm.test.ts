import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { PeerListener } from '../src/client/peer-listener';
import { PrivateChatError } from '../src/client/private-channels';
import type { FrameSocket } from '../src/client/private-channel';
import { ChannelCipher, channelKeys, generatePeerKeys, type PeerKeyPair } from '../src/client/private-crypto';
import { PEER_REFUSALS, decodeTicket, peerHandshakeSchema, type PeerFrame, type PeerHandshake } from '../src/protocol';
import { startServer, type TestServer } from './helpers/server';
import { closePair, closePeers, startPair, emitFrame, nextPrivate, peer, recordPrivate, ticketFor, type Peer } from './private-helpers';

/** A connection as a hand-written responder sees it: the socket, and a cipher for the channel from any key pair. */
interface Accepted {
  socket: FrameSocket;
  cipher: (keys: PeerKeyPair) => ChannelCipher;
}

/**
 * A listener registered with the message center as `dave`'s that accepts any handshake and then does
 * what the test says: the peer a dialler meets when someone else sits at the address the server handed out.
 */
async function fakeResponder(t: TestServer, keys: PeerKeyPair, behaviour: (accepted: Accepted) => void) {
  const listener = await PeerListener.start<PeerHandshake>('127.0.0.1', {
    admit: (auth) => ({ ok: true, value: peerHandshakeSchema.parse(auth) }),
    connected: (socket, auth) => {
      const nonce = decodeTicket(auth.ticket)!.payload.nonce;
      behaviour({ socket, cipher: (own) => new ChannelCipher(channelKeys(own, auth.publicKey, auth.ticket, nonce, 'responder')) });
    },
  });
  const dave = await t.signIn('dave');
  await dave.request('peer', { host: '127.0.0.1', port: listener.port, publicKey: keys.publicKey });
  return { close: () => listener.close().then(() => dave.close()) };
}

const confirmationFailed = (reason: RegExp) => (err: unknown) => {
  assert.ok(err instanceof PrivateChatError, String(err));
  assert.equal(err.code, 'KEY_CONFIRMATION_FAILED', err.message);
  assert.match(err.message, reason);
  return true;
};

describe('private chat: the key confirmation, from the side that dials', () => {
  let t: TestServer;
  let alice: Peer;
  before(async () => {
    t = await startServer({ users: ['alice', 'dave'] });
    alice = await peer(t, 'alice', { confirmTimeoutMs: 300 });
  });
  after(async () => {
    await closePeers(alice);
    await t.close();
  });

  /** Starts a chat with the fake dave and expects it to fail its key confirmation, opening nothing. */
  async function expectFailure(behaviour: (accepted: Accepted, daveKeys: PeerKeyPair) => void, reason: RegExp): Promise<void> {
    const daveKeys = generatePeerKeys();
    const fake = await fakeResponder(t, daveKeys, (accepted) => behaviour(accepted, daveKeys));
    try {
      const opened = recordPrivate(alice.channels, 'opened');
      await assert.rejects(alice.channels.start('dave'), confirmationFailed(reason));
      assert.deepEqual(opened, [], 'no chat was opened');
      assert.equal(alice.channels.stateOf('dave'), 'closed');
      assert.deepEqual(alice.channels.open, []);
    } finally {
      await fake.close();
    }
  }

  test('a responder without the private key the server vouched for: its confirmation does not open', async () => {
    // Keys derived from another private key: the frame is well formed and numbered right, but does not authenticate.
    await expectFailure(({ socket, cipher }) => socket.send(cipher(generatePeerKeys()).seal({ t: 'confirm', v: 1 })), /\(tampered\)/);
  });

  test('a responder whose first frame is a message instead of its confirmation', async () => {
    await expectFailure(
      ({ socket, cipher }, keys) => socket.send(cipher(keys).seal({ t: 'msg', body: 'trust me', at: 0 })),
      /\(malformed\)/,
    );
  });

  test('a responder that never confirms: the dial gives up after the confirmation timeout', async () => {
    await expectFailure(() => {}, /\(timeout\)/);
  });

  test("the dialler's own confirmation sent back to it (reflected) is refused: each direction has its own key", async () => {
    await expectFailure(({ socket }) => socket.onFrame((frame) => socket.send(frame as PeerFrame)), /\(tampered\)/);
  });
});

describe('private chat: the key confirmation, from the side that is dialled', () => {
  let t: TestServer;
  let alice: Peer, bob: Peer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'] });
    [alice, bob] = [await peer(t, 'alice'), await peer(t, 'bob', { confirmTimeoutMs: 300 })];
  });
  after(async () => {
    await closePeers(alice, bob);
    await t.close();
  });

  /** Dials bob with a genuine ticket and the key it names, lets `act` misbehave, and expects bob to refuse and drop it. */
  async function expectRefusal(act: (socket: Socket, cipher: ChannelCipher) => void): Promise<void> {
    const ticket = await ticketFor(alice, 'bob');
    const cipher = new ChannelCipher(ticket.initiatorKeys());
    const refused = nextPrivate(bob.channels, 'refused');
    const opened = recordPrivate(bob.channels, 'opened');
    const messages = recordPrivate(bob.channels, 'message');
    const socket = await ticket.dial();
    const dropped = new Promise((resolve) => socket.once('disconnect', resolve));
    act(socket, cipher);
    const [info] = await refused;
    assert.deepEqual(
      { ...info },
      { code: 'KEY_CONFIRMATION_FAILED', message: PEER_REFUSALS.KEY_CONFIRMATION_FAILED, address: '127.0.0.1', claimed: 'alice' },
    );
    await dropped;
    assert.deepEqual([opened, messages], [[], []], 'nothing was opened or delivered');
    assert.equal(bob.channels.stateOf('alice'), 'closed');
  }

  test('a message sent before the confirmation is refused, and not delivered', async () => {
    await expectRefusal((socket, cipher) => emitFrame(socket, cipher.seal({ t: 'msg', body: 'skip the formalities', at: 0 })));
  });

  test('a caller that never confirms is dropped after the confirmation timeout', async () => {
    await expectRefusal(() => {});
  });

  test("bob's own confirmation reflected back to him is refused: it was sealed with the other direction's key", async () => {
    await expectRefusal((socket) => socket.on('frame', (frame: PeerFrame) => emitFrame(socket, frame)));
  });
});

describe('private chat: a live chat is replaced only by a caller that proves its key', () => {
  let t: TestServer;
  let alice: Peer, bob: Peer;
  before(async () => ({ t, alice, bob } = await startPair()));
  after(() => closePair({ t, alice, bob }));

  const exchange = async (from: Peer, to: Peer, body: string): Promise<string> => {
    const got = nextPrivate(to.channels, 'message', (m) => m.from === from.name);
    from.channels.send(to.name, body);
    return (await got)[0].body;
  };

  test('a valid ticket with a bad key confirmation leaves the open chat working; a confirmed caller takes its place', async () => {
    const bobOpened = nextPrivate(bob.channels, 'opened');
    await alice.channels.start('bob');
    await bobOpened;
    const closed = [recordPrivate(alice.channels, 'closed'), recordPrivate(bob.channels, 'closed')];

    // Someone on the path grabbed an unused ticket for alice (and the key it names), but holds no private key that confirms.
    const grabbed = await ticketFor(alice, 'bob');
    const refused = nextPrivate(bob.channels, 'refused');
    const intruder = await grabbed.dial();
    const wrong = new ChannelCipher(grabbed.initiatorKeys(generatePeerKeys()));
    emitFrame(intruder, wrong.seal({ t: 'confirm', v: 1 }));
    assert.equal((await refused)[0].code, 'KEY_CONFIRMATION_FAILED');

    assert.deepEqual([alice.channels.open, bob.channels.open], [['bob'], ['alice']]);
    assert.equal(await exchange(alice, bob, 'still ours'), 'still ours');
    assert.equal(await exchange(bob, alice, 'still ours, yes'), 'still ours, yes');
    assert.deepEqual(closed, [[], []], 'neither side saw the chat close');

    // alice's client, having lost the chat (say), calls again with a fresh ticket and confirms: that one replaces it.
    const fresh = await ticketFor(alice, 'bob');
    const derived = fresh.initiatorKeys();
    const cipher = new ChannelCipher(derived);
    const reopened = nextPrivate(bob.channels, 'opened');
    const oldLost = nextPrivate(alice.channels, 'closed');
    const socket = await fresh.dial();
    emitFrame(socket, cipher.seal({ t: 'confirm', v: 1 }));
    assert.deepEqual((await reopened)[0], { username: 'alice', direction: 'incoming', safetyCode: derived.safetyCode });
    // Someone in between holds keys of their own, and so derives another code than the one bob reads out.
    const between = fresh.initiatorKeys(generatePeerKeys());
    assert.notEqual(between.safetyCode, derived.safetyCode);
    assert.deepEqual((await oldLost)[0], { username: 'bob', reason: 'lost', byPeer: true }, 'bob hung up the old channel');
    const got = nextPrivate(bob.channels, 'message');
    emitFrame(socket, cipher.seal({ t: 'msg', body: 'over the new channel', at: 0 }));
    assert.equal((await got)[0].body, 'over the new channel');
    socket.disconnect();
  });
});
