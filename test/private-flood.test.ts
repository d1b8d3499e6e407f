import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChannelCipher } from '../src/client/private-crypto';
import { LIMITS } from '../src/protocol';
import type { TestServer } from './helpers/server';
import { closePair, emitFrame, nextPrivate, recordPrivate, startPair, ticketFor, type Peer } from './private-helpers';

describe('private chat: a peer that floods the chat', () => {
  let t: TestServer;
  let alice: Peer, bob: Peer;
  before(async () => ({ t, alice, bob } = await startPair()));
  after(() => closePair({ t, alice, bob }));

  test('is cut off once it sends faster than a person types: what came within the allowance is shown, the rest is not', async () => {
    // A genuine chat from a modified client: a real ticket, the real key, well-formed frames, just far too many.
    const ticket = await ticketFor(alice, 'bob');
    const cipher = new ChannelCipher(ticket.initiatorKeys());
    const opened = nextPrivate(bob.channels, 'opened');
    const closed = nextPrivate(bob.channels, 'closed');
    const messages = recordPrivate(bob.channels, 'message');
    const socket = await ticket.dial();
    const dropped = new Promise((resolve) => socket.once('disconnect', resolve));
    emitFrame(socket, cipher.seal({ t: 'confirm', v: 1 }));
    await opened;
    for (let i = 0; i < 200; i++) emitFrame(socket, cipher.seal({ t: 'msg', body: `spam ${i}`, at: Date.now() }));

    const [info] = await closed;
    assert.deepEqual({ ...info }, { username: 'alice', reason: 'flooded', byPeer: false });
    await dropped;
    // The confirmation took one token of the burst; a few more may have come back while the frames were read.
    assert.ok(messages.length >= LIMITS.privateFramesBurst - 1 && messages.length < LIMITS.privateFramesBurst + 5, String(messages.length));
    assert.deepEqual(
      messages.map(([m]) => m.body),
      Array.from({ length: messages.length }, (_, i) => `spam ${i}`),
    );
    assert.equal(bob.channels.stateOf('alice'), 'closed');
  });

  test('a person typing fast stays well inside the allowance', async () => {
    const chat = nextPrivate(bob.channels, 'opened');
    await alice.channels.start('bob');
    await chat;
    const arrived = recordPrivate(bob.channels, 'message');
    for (let i = 0; i < LIMITS.privateFramesBurst - 2; i++) alice.channels.send('bob', `quick ${i}`);
    const last = `quick ${LIMITS.privateFramesBurst - 3}`;
    await nextPrivate(bob.channels, 'message', (m) => m.body === last);
    assert.equal(arrived.length, LIMITS.privateFramesBurst - 2);
    assert.equal(bob.channels.stateOf('alice'), 'open');
  });
});
