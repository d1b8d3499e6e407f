import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { formatPrivateRefused } from '../src/client/sentences';
import { PEER_REFUSALS, PRIVATE_PROTOCOL } from '../src/protocol';
import { startServer } from './helpers/server';
import { closeLeftoverPeers, closePeers, handshake, nextPrivate, peer, recordPrivate, ticketFor } from './private-helpers';

// The defaults of RefusalBudget and NoticeLimiter, restated: the test is about them.
const REFUSALS_PER_ADDRESS = 30;
const NOTICES = 20;

const junk = { protocol: PRIVATE_PROTOCOL, ticket: 'not-a-ticket', publicKey: 'nope' };

/** How a handshake ended: "connected", the refusal's `data.code`, or (refused before it was read) the client's message. */
type Outcome = string;

/** `count` handshakes over one WebSocket, one after the other, as a hostile client may send them (Socket.IO allows that). */
async function handshakesOnOneConnection(endpoint: { host: string; port: number }, count: number): Promise<Outcome[]> {
  const ws = new WebSocket(`ws://${endpoint.host}:${endpoint.port}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  let waiting: (() => void) | undefined;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.on('message', (data: Buffer) => {
    frames.push(data.toString());
    waiting?.();
  });
  const nextFrame = async (): Promise<string> => {
    while (frames.length === 0) {
      const arrived = new Promise<void>((resolve) => (waiting = resolve));
      await Promise.race([arrived, closed]);
      if (frames.length === 0 && ws.readyState !== WebSocket.OPEN) return 'closed';
    }
    return frames.shift()!;
  };
  const outcomes: Outcome[] = [];
  try {
    assert.match(await nextFrame(), /^0\{/, 'the Engine.IO open packet');
    for (let i = 0; i < count; i++) {
      ws.send(`40${JSON.stringify(junk)}`);
      let answer = await nextFrame();
      while (answer === '2') {
        ws.send('3'); // a ping
        answer = await nextFrame();
      }
      if (answer.startsWith('40')) outcomes.push('connected');
      else if (answer.startsWith('44')) outcomes.push((JSON.parse(answer.slice(2)) as { data: { code: string } }).data.code);
      else outcomes.push(answer);
    }
  } finally {
    ws.close();
  }
  return outcomes;
}

/** One handshake on a connection of its own, naming `origin` if given. */
function handshakeAlone(endpoint: { host: string; port: number }, auth: object, origin?: string): Promise<Outcome> {
  const socket = io(`http://${endpoint.host}:${endpoint.port}`, {
    forceNew: true,
    reconnection: false,
    transports: ['websocket'],
    auth,
    ...(origin !== undefined && { extraHeaders: { origin } }),
  });
  return new Promise<Outcome>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data?.code ?? err.message));
  }).finally(() => socket.disconnect());
}

const tally = (outcomes: Outcome[]): Record<string, number> =>
  outcomes.reduce<Record<string, number>>((counts, o) => ({ ...counts, [o]: (counts[o] ?? 0) + 1 }), {});

after(() => closeLeftoverPeers());

describe('private chat: the peer listener under junk handshakes', () => {
  test('a flood is refused cheaply past a budget per address, and reported a bounded number of times with its count', async () => {
    const t = await startServer({ users: ['alice', 'carol'] });
    const alice = await peer(t, 'alice');
    const carol = await peer(t, 'carol');
    try {
      const endpoint = alice.channels.endpoint!;
      const notices = recordPrivate(alice.channels, 'refused');

      // 150 on one connection: the ticket is read for the first ones only, the others are refused unread (the connection stays).
      const sameConnection = await handshakesOnOneConnection(endpoint, 150);
      assert.deepEqual(tally(sameConnection), { BAD_HANDSHAKE: REFUSALS_PER_ADDRESS, RATE_LIMITED: 150 - REFUSALS_PER_ADDRESS });
      // 150 more, each on a new connection: refused before a connection is allocated (the client sees an HTTP error).
      const fresh: Outcome[] = [];
      for (let i = 0; i < 150; i += 10) {
        fresh.push(...(await Promise.all(Array.from({ length: 10 }, () => handshakeAlone(endpoint, junk)))));
      }
      assert.deepEqual(tally(fresh), { 'websocket error': 150 });

      // The test clock has not moved: 20 notices for 300 refusals, the last saying that the next are not shown.
      assert.equal(notices.length, NOTICES);
      assert.deepEqual(
        notices.map(([n]) => [n.code, n.held, n.quiet]),
        [...Array.from({ length: NOTICES - 1 }, () => ['BAD_HANDSHAKE', undefined, undefined]), ['BAD_HANDSHAKE', undefined, true]],
      );
      assert.match(
        formatPrivateRefused(notices.at(-1)![0]),
        /: the connection did not present a ticket and key \(the next ones are not shown for a while\)$/,
      );

      // A minute later the address may try again, and the next notice tells how many were not shown.
      t.clock.advance(60_000);
      const opened = nextPrivate(alice.channels, 'opened');
      await carol.channels.start('alice');
      await opened;
      assert.equal(notices.length, NOTICES, 'a dial that succeeds is no refusal');
      assert.equal(await handshakeAlone(endpoint, junk), 'BAD_HANDSHAKE');
      const [last] = notices.at(-1)!;
      assert.deepEqual([last.code, last.held, last.quiet], ['BAD_HANDSHAKE', 300 - NOTICES, undefined]);
      assert.equal(
        formatPrivateRefused(last),
        `* refused a direct connection from 127.0.0.1: ${PEER_REFUSALS.BAD_HANDSHAKE} (${300 - NOTICES} more refused since the last one shown)`,
      );
    } finally {
      await closePeers(alice, carol);
      await t.close();
    }
  });

  test('a handshake from a web page is refused even with a valid ticket, and reported', async () => {
    const t = await startServer({ users: ['alice', 'carol'] });
    const alice = await peer(t, 'alice');
    const carol = await peer(t, 'carol');
    try {
      const { reply, keys } = await ticketFor(carol, 'alice');
      const report = nextPrivate(alice.channels, 'refused');
      assert.equal(await handshakeAlone(reply, handshake(reply.ticket, keys.publicKey), 'https://evil.example'), 'websocket error');
      assert.deepEqual((await report)[0], { code: 'WEB_PAGE', message: PEER_REFUSALS.WEB_PAGE, address: '127.0.0.1' });
      // The same ticket without the Origin is accepted: only the web page was refused.
      assert.equal(await handshakeAlone(reply, handshake(reply.ticket, keys.publicKey)), 'connected');
    } finally {
      await closePeers(alice, carol);
      await t.close();
    }
  });
});
