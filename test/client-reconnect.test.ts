import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { ACK_DELAY_MS, ParleyClient } from '../src/client/parley-client';
import type { ChatMessage } from '../src/protocol';
import { collect, eventually, next, passwordOf, startServer } from './helpers/server';

/** The client core's Socket.IO socket, to watch what really arrives and to cut its transport. */
const socketOf = (client: ParleyClient): Socket => (client as unknown as { socket: Socket }).socket;

describe('the client core across a server restart', () => {
  test('clients wait out a restart, sign in again by themselves, and get what was sent meanwhile once', async (t) => {
    const first = await startServer({ users: ['alice', 'bob'] });
    t.after(() => {
      for (const c of [...first.clients]) c.close();
    });
    const alice = await first.signIn('alice');
    const bob = await first.signIn('bob');
    const aliceGot = collect(alice, 'message');
    await bob.message('alice', 'before');
    await eventually(() => aliceGot.length === 1);

    const told = next(alice, 'signedOut');
    await first.stop();
    assert.equal((await told)[0].reason, 'shutdown');
    await eventually(() => alice.state === 'reconnecting', 3000, 'the reconnecting state');

    // The same port and data, as a restarted server has. Whoever is back first, bob writes to alice
    // as soon as he is, which may be before or after alice is back.
    const aliceBack = next(alice, 'resumed', () => true, 10_000);
    const second = await startServer({ dataDir: first.dataDir, port: first.port }, first.clock);
    t.after(() => second.close());
    await eventually(() => bob.state === 'signed-in', 10_000, 'bob back');
    await bob.message('alice', 'during');
    await aliceBack;
    await bob.message('alice', 'after');
    await eventually(() => aliceGot.length === 3, 3000, 'three messages');
    assert.deepEqual(
      aliceGot.map(([m]) => m.body),
      ['before', 'during', 'after'],
    );
  });

  test('while the server is away, requests fail with UNREACHABLE and the client keeps trying until closed', async () => {
    const t = await startServer({ users: ['alice'] });
    // Long enough for a sign-in, which commits its session token, on a busy machine.
    const alice = new ParleyClient(t.url, { requestTimeoutMs: 1000, socket: { reconnectionDelay: 50 } });
    await alice.connect();
    await alice.login('alice', 'alice-pw');
    await t.stop();
    await eventually(() => alice.state === 'reconnecting');
    await assert.rejects(alice.whoelse(), { code: 'UNREACHABLE' });
    alice.close();
    assert.equal(alice.state, 'offline');
    await t.close();
  });

  test('a message shown live and dropped with the connection before its acknowledgement is replayed at resume, and shown once', async (t) => {
    const srv = await startServer({ users: ['alice', 'bob'] });
    t.after(() => srv.close());
    // Alice comes back later than her acknowledgement is due: it cannot reach the server on the new connection before her sign-in does.
    const reconnectMs = ACK_DELAY_MS * 2;
    const alice = new ParleyClient(srv.url, {
      requestTimeoutMs: 3000,
      socket: { reconnectionDelay: reconnectMs, reconnectionDelayMax: reconnectMs, randomizationFactor: 0 },
    });
    t.after(() => alice.close());
    await alice.connect();
    await alice.login('alice', passwordOf('alice'));
    const bob = await srv.signIn('bob');

    // What alice's next connection sends the server, in order.
    const requests: { event: string; ids?: number[] }[] = [];
    srv.server.io.on('connection', (socket) =>
      socket.onAny((event: string, payload: { ids?: number[] }) => requests.push({ event, ...(payload?.ids && { ids: payload.ids }) })),
    );
    const arrivals: number[] = [];
    socketOf(alice).onAny((event: string, message: ChatMessage) => {
      if (event === 'message') arrivals.push(message.id);
    });
    const shown = collect(alice, 'message');
    const resumed = next(alice, 'resumed', () => true, 5000);
    // The transport drops as the message is shown, long before the acknowledgement would go out.
    alice.once('message', () => socketOf(alice).io.engine.close());
    const sent = await bob.message('alice', 'shown, never acknowledged');

    await resumed;
    await eventually(() => arrivals.length === 2, 3000, 'the replay after the resume');
    assert.deepEqual(arrivals, [sent.id, sent.id], 'the server sent it live, then again at the new sign-in');
    assert.deepEqual(
      shown.map(([m]) => m.id),
      [sent.id],
      'the client showed it once',
    );

    // The copy was acknowledged in its turn: nothing is left pending for alice.
    await eventually(async () => (await srv.server.store.pendingFor('alice')).length === 0, 3000, 'the acknowledgement');
    // The acknowledgement that fell due while she was away was held for the new sign-in, not sent ahead of it to be refused.
    const events = requests.filter((r) => r.event === 'login' || r.event === 'received');
    assert.equal(events[0]?.event, 'login', `the new connection signs in first: ${JSON.stringify(requests)}`);
    assert.ok(events.some((r) => r.event === 'received' && r.ids?.includes(sent.id)));
    bob.close();
  });
});
