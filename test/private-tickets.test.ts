import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, connect as tcpConnect, type Server, type Socket as TcpSocket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ChannelCipher, generatePeerKeys } from '../src/client/private-crypto';
import { DEFAULT_TIMINGS } from '../src/server/options';
import { PEER_REFUSALS, decodeTicket, encodeTicket } from '../src/protocol';
import { startServer, type TestServer } from './helpers/server';
import {
  closePair,
  closePeers,
  startPair,
  dial,
  emitFrame,
  handshake,
  nextPrivate,
  pause,
  peer,
  recordPrivate,
  ticketFor,
  type Peer,
} from './private-helpers';

/** Expects the listener to refuse the handshake with `code`, and its owner to report it. */
async function refused(
  target: Peer,
  endpoint: { host: string; port: number },
  auth: unknown,
  code: string,
  claimed?: string,
): Promise<void> {
  const report = nextPrivate(target.channels, 'refused', (r) => r.code === code);
  await assert.rejects(dial(endpoint, auth), (err: Error & { code?: string }) => err.code === code);
  const [info] = await report;
  assert.equal(info.code, code);
  assert.equal(info.message, PEER_REFUSALS[code as keyof typeof PEER_REFUSALS]);
  assert.equal(info.address, '127.0.0.1');
  assert.equal(info.claimed, claimed);
}

describe('private chat: tickets and frames a peer must refuse', () => {
  let t: TestServer;
  let alice: Peer, bob: Peer, carol: Peer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'] });
    [alice, bob, carol] = [await peer(t, 'alice'), await peer(t, 'bob'), await peer(t, 'carol')];
  });
  after(async () => {
    await closePeers(alice, bob, carol);
    await t.close();
  });

  test('forged tickets are refused and logged: an altered payload, another signing key, nonsense', async () => {
    const { reply, keys } = await ticketFor(alice, 'bob');
    const [payload, signature] = reply.ticket.split('.') as [string, string];
    const decoded = decodeTicket(reply.ticket)!.payload;

    const altered = `${Buffer.from(JSON.stringify({ ...decoded, exp: decoded.exp + 3_600_000 })).toString('base64url')}.${signature}`;
    await refused(bob, reply, handshake(altered, keys.publicKey), 'BAD_TICKET');
    const otherKey = generateKeyPairSync('ed25519').privateKey;
    const selfSigned = encodeTicket({ ...decoded, from: 'carol' }, (input) => sign(null, input, otherKey));
    await refused(bob, reply, handshake(selfSigned, keys.publicKey), 'BAD_TICKET');
    await refused(bob, reply, handshake(`${payload}.${'A'.repeat(86)}`, keys.publicKey), 'BAD_TICKET');
    await refused(bob, reply, handshake('not a ticket', keys.publicKey), 'BAD_TICKET');
    await refused(bob, reply, { ticket: reply.ticket }, 'BAD_HANDSHAKE');
    await refused(bob, reply, undefined, 'BAD_HANDSHAKE');

    // None of that used the real ticket up.
    const socket = await dial(reply, handshake(reply.ticket, keys.publicKey));
    socket.disconnect();
  });

  test('an expired ticket is refused; one a little past expiry passes within the clock-skew allowance', async () => {
    const late = await ticketFor(alice, 'bob');
    const slightlyLate = await ticketFor(alice, 'bob');
    t.clock.advance(DEFAULT_TIMINGS.ticketTtlMs + 2_000);
    (await dial(slightlyLate.reply, handshake(slightlyLate.reply.ticket, slightlyLate.keys.publicKey))).disconnect();
    t.clock.advance(4_000);
    await refused(bob, late.reply, handshake(late.reply.ticket, late.keys.publicKey), 'EXPIRED', 'alice');
  });

  test('a ticket is single-use: presenting it again is refused as a replay', async () => {
    const { reply, keys } = await ticketFor(alice, 'bob');
    const auth = handshake(reply.ticket, keys.publicKey);
    (await dial(reply, auth)).disconnect();
    await refused(bob, reply, auth, 'REPLAYED', 'alice');
    await pause(50);
    await refused(bob, reply, auth, 'REPLAYED', 'alice');
  });

  test('impersonation: another key, another recipient, another session, or no private key is refused', async () => {
    const ticket = await ticketFor(alice, 'bob');
    const { reply, keys } = ticket;
    // carol holds alice's ticket (say, copied off the network) but presents her own key.
    await refused(bob, reply, handshake(reply.ticket, generatePeerKeys().publicKey), 'KEY_MISMATCH', 'alice');
    // ... or takes it to someone else.
    await refused(carol, carol.channels.endpoint!, handshake(reply.ticket, keys.publicKey), 'WRONG_RECIPIENT', 'alice');

    // ... or presents alice's public key too: the gate lets her in, but she cannot confirm a key she does not hold.
    const report = nextPrivate(bob.channels, 'refused');
    const opened = recordPrivate(bob.channels, 'opened');
    const socket = await ticket.dial();
    const wrong = new ChannelCipher(ticket.initiatorKeys(generatePeerKeys()));
    const dropped = new Promise((resolve) => socket.once('disconnect', resolve));
    emitFrame(socket, wrong.seal({ t: 'confirm', v: 1 }));
    const [info] = await report;
    assert.deepEqual([info.code, info.claimed, info.address], ['KEY_CONFIRMATION_FAILED', 'alice', '127.0.0.1']);
    await dropped;
    assert.equal(opened.length, 0, 'no chat was opened');

    // A ticket for another session of bob's (one that has since signed in elsewhere) names another key.
    const bob2 = await peer(t, 'bob');
    t.clock.advance(1);
    await bob2.client.whoelse(); // the most recently active session is chosen
    const forBob2 = await ticketFor(alice, 'bob');
    assert.equal(forBob2.reply.port, bob2.channels.endpoint!.port);
    await refused(bob, bob.channels.endpoint!, handshake(forBob2.reply.ticket, forBob2.keys.publicKey), 'STALE_KEY', 'alice');
    await closePeers(bob2);
    t.clock.advance(1);
    await bob.client.whoelse();
  });

  test('a replayed, reordered or tampered frame closes the channel at once', async () => {
    for (const attack of ['replay', 'skip', 'tamper'] as const) {
      const ticket = await ticketFor(carol, 'bob');
      const cipher = new ChannelCipher(ticket.initiatorKeys());
      const opened = nextPrivate(bob.channels, 'opened', (o) => o.username === 'carol');
      const socket = await ticket.dial();
      emitFrame(socket, cipher.seal({ t: 'confirm', v: 1 }));
      await opened;

      const first = cipher.seal({ t: 'msg', body: 'one', at: t.clock.now });
      const got = nextPrivate(bob.channels, 'message', (m) => m.from === 'carol');
      emitFrame(socket, first);
      assert.equal((await got)[0].body, 'one');

      const messages = recordPrivate(bob.channels, 'message');
      const closed = nextPrivate(bob.channels, 'closed', (c) => c.username === 'carol');
      const dropped = new Promise((resolve) => socket.once('disconnect', resolve));
      const next = cipher.seal({ t: 'msg', body: 'two', at: t.clock.now });
      if (attack === 'replay') emitFrame(socket, first);
      if (attack === 'skip') emitFrame(socket, cipher.seal({ t: 'msg', body: 'three', at: t.clock.now }));
      if (attack === 'tamper') emitFrame(socket, { n: next.n, c: flipFirst(next.c) });
      assert.deepEqual((await closed)[0], { username: 'carol', reason: attack === 'tamper' ? 'tampered' : 'out-of-order', byPeer: false });
      await dropped;
      emitFrame(socket, next);
      await pause(50);
      assert.deepEqual(messages, [], `${attack}: nothing more was delivered`);
    }
  });

  test('on the network path between peers: no plaintext, and an altered frame is rejected and the channel closed', async () => {
    const path = await startProxy();
    const bob3 = await peer(t, 'bob', { advertise: { port: path.port } });
    path.target = bob3.channels.endpoint!.port;
    t.clock.advance(1);
    await bob3.client.whoelse();
    try {
      const opened = nextPrivate(bob3.channels, 'opened');
      await alice.channels.start('bob');
      await opened;
      const toAlice = nextPrivate(alice.channels, 'message');
      bob3.channels.send('alice', 'meet me by the old oak');
      assert.equal((await toAlice)[0].body, 'meet me by the old oak');
      const wire = Buffer.concat(path.bytes).toString('latin1');
      assert.match(wire, /"frame"/, 'the proxy saw the channel');
      assert.doesNotMatch(wire, /old oak/, 'but not the text');

      path.tamperNext();
      const messages = recordPrivate(alice.channels, 'message');
      const aliceClosed = nextPrivate(alice.channels, 'closed');
      const bobClosed = nextPrivate(bob3.channels, 'closed');
      bob3.channels.send('alice', 'pay the bearer 100');
      assert.deepEqual((await aliceClosed)[0], { username: 'bob', reason: 'tampered', byPeer: false });
      assert.deepEqual((await bobClosed)[0], { username: 'alice', reason: 'lost', byPeer: true });
      assert.deepEqual(messages, []);
    } finally {
      await closePeers(bob3);
      await path.close();
    }
  });
});

/** Changes the first character of a base64url string to another valid one: a bit flip in the ciphertext. */
function flipFirst(c: string): string {
  return (c[0] === 'A' ? 'B' : 'A') + c.slice(1);
}

/** A TCP relay in front of a peer listener that records every byte and can alter the next frame the listener sends. */
async function startProxy() {
  const bytes: Buffer[] = [];
  const sockets = new Set<TcpSocket>();
  let tamper = false;
  const server: Server = createServer((downstream) => {
    const upstream = tcpConnect(relay.target, '127.0.0.1');
    for (const s of [downstream, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => (s === upstream ? downstream : upstream).destroy());
    }
    downstream.on('data', (d: Buffer) => {
      bytes.push(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      bytes.push(d);
      const at = d.indexOf('"c":"');
      if (tamper && at >= 0) {
        // Server-to-client WebSocket frames are not masked: the ciphertext is right there in the bytes.
        d = Buffer.from(d);
        d[at + 5] = d[at + 5] === 0x41 ? 0x42 : 0x41;
        tamper = false;
      }
      downstream.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay = {
    /** The listener's real port, set once it is known (it registers the proxy's port as its address). */
    target: 0,
    port: (server.address() as AddressInfo).port,
    bytes,
    tamperNext: () => (tamper = true),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return relay;
}

describe('private chat: replay protection under clock steps', () => {
  let t: TestServer;
  let alice: Peer, bob: Peer;
  before(async () => ({ t, alice, bob } = await startPair()));
  after(() => closePair({ t, alice, bob }));

  test('a used ticket stays refused when the clock steps back after its nonce was forgotten', async () => {
    const { reply, keys } = await ticketFor(alice, 'bob');
    const auth = handshake(reply.ticket, keys.publicKey);
    (await dial(reply, auth)).disconnect();
    // Far past expiry: the nonce is forgotten, and the ticket refused for its age.
    const step = DEFAULT_TIMINGS.ticketTtlMs + 60_000;
    t.clock.advance(step);
    await refused(bob, reply, auth, 'EXPIRED', 'alice');
    // The clock steps back to when the ticket was fresh (bob's and the server's alike): it must not pass again.
    t.clock.advance(-step);
    await refused(bob, reply, auth, 'EXPIRED', 'alice');
    t.clock.advance(step);
  });
});
