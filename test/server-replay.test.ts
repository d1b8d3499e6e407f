import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Socket } from 'socket.io-client';
import { ParleyClient } from '../src/client/parley-client';
import type { ChatMessage } from '../src/protocol';
import type { Store } from '../src/server/store/store';
import { collect, eventually, next, startServer } from './helpers/server';
import { streamLogger } from '../src/server/log';

/** The client core's Socket.IO socket: what really arrives, duplicates included. */
const socketOf = (client: ParleyClient): Socket => (client as unknown as { socket: Socket }).socket;

/** Every `message` packet that reaches the client, in arrival order. */
function arrivals(client: ParleyClient): ChatMessage[] {
  const got: ChatMessage[] = [];
  socketOf(client).on('message', (m: ChatMessage) => got.push(m));
  return got;
}

/** Stores `count` messages from `from` to `to` straight through the store, many to a commit. */
async function queue(store: Store, from: string, to: string, count: number, body: (i: number) => string): Promise<number[]> {
  const saved = await Promise.all(
    Array.from({ length: count }, (_, i) => store.saveMessage({ from, kind: 'direct', body: body(i), sentAt: i, recipients: [to] })),
  );
  return saved.map((s) => s.message.id);
}

const increasing = (ids: number[]): boolean => ids.every((id, i) => i === 0 || id > ids[i - 1]!);

describe('replay at sign-in', () => {
  test('5 000 stored messages arrive in order, once, and live ones sent meanwhile after them', async (t) => {
    const srv = await startServer({ users: ['alice', 'bob', 'carol'], rateLimit: { burst: 1000, perSecond: 1000 } });
    t.after(() => srv.close());
    const stored = await queue(srv.server.store, 'alice', 'bob', 5000, (i) => `stored ${i}`);
    const carol = await srv.signIn('carol');

    const bob = await srv.connect();
    const got = arrivals(bob);
    await bob.login('bob', 'bob-pw');
    // While the replay goes on: each must wait for the stored ones, which are older.
    const live = await Promise.all(Array.from({ length: 20 }, (_, i) => carol.message('bob', `live ${i}`)));

    const total = stored.length + live.length;
    await eventually(() => got.length >= total, 30_000, `all ${total} messages (${got.length} so far)`);
    const ids = got.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'each once');
    assert.ok(increasing(ids), 'in id order: no live message overtook a stored one');
    assert.deepEqual(
      [...ids].sort((a, b) => a - b),
      [...stored, ...live.map((r) => r.id)],
    );
    // The client acknowledged them all: nothing comes again.
    await eventually(async () => (await srv.server.store.pendingFor('bob')).length === 0, 10_000, 'the acknowledgements');
  });

  test('a session that does not read is sent about a page, not everything; it gets the rest once it reads', async (t) => {
    const srv = await startServer({ users: ['alice', 'bob'] });
    t.after(() => srv.close());
    // About 19 MB: more than the kernel's socket buffers on loopback hold.
    const body = (i: number): string => `${i} ${'x'.repeat(3900)}`;
    const stored = await queue(srv.server.store, 'alice', 'bob', 5000, body);

    const bob = await srv.connect();
    const got = arrivals(bob);
    const tcp = (bob as unknown as { socket: { io: { engine: { transport: { ws: { _socket: { pause(): void; resume(): void } } } } } } })
      .socket.io.engine.transport.ws._socket;
    await bob.login('bob', 'bob-pw');
    tcp.pause();

    // What the server holds for bob, watched until it stops changing: the replay waits for him to read.
    const [server] = srv.server.io.of('/').sockets.values();
    const engine = server!.conn as unknown as { writeBuffer: { data?: string }[]; transport: { socket: { bufferedAmount: number } } };
    // engine.io's write buffer, and the WebSocket's (measured here rather than with the sweep's own count).
    const waiting = (): number =>
      engine.transport.socket.bufferedAmount + engine.writeBuffer.reduce((sum, p) => sum + (p.data?.length ?? 0), 0);
    let most = 0;
    let last = -1;
    let still = 0;
    await eventually(
      () => {
        const now = waiting();
        most = Math.max(most, now);
        still = now > 0 && now === last ? still + 1 : 0;
        last = now;
        return still >= 30;
      },
      30_000,
      'the replay to wait for bob',
    );
    const page = 100 * (3900 + 200);
    assert.ok(most <= 2 * page, `at most about a page waits in the server (${most} bytes)`);
    assert.ok(got.length < stored.length, 'bob has not had everything');

    tcp.resume();
    await eventually(() => got.length >= stored.length, 30_000, `all ${stored.length} messages (${got.length} so far)`);
    assert.deepEqual(
      got.map((m) => m.id),
      stored,
    );
  });

  test('a session that stops reading during its replay is closed by the byte guard, and gets the rest once it reads', async (t) => {
    let logged = '';
    const srv = await startServer({
      users: ['alice', 'bob'],
      timings: { maxQueuedBytes: 100_000 },
      log: streamLogger((text) => (logged += text)),
    });
    t.after(() => srv.close());
    const stored = await queue(srv.server.store, 'alice', 'bob', 5000, (i) => `${i} ${'x'.repeat(3900)}`);

    const bob = await srv.connect();
    const got = collect(bob, 'message');
    const tcp = (bob as unknown as { socket: { io: { engine: { transport: { ws: { _socket: { pause(): void; resume(): void } } } } } } })
      .socket.io.engine.transport.ws._socket;
    await bob.login('bob', 'bob-pw');
    tcp.pause();
    await eventually(() => logged.includes('closed a connection that reads too slowly'), 20_000, 'the server closing it');
    const resumed = next(bob, 'resumed', () => true, 20_000);
    tcp.resume();
    await resumed;
    await eventually(() => got.length >= stored.length, 30_000, `all ${stored.length} messages (${got.length} so far)`);
    assert.deepEqual(
      got.map(([m]) => m.id),
      stored,
      'in order, each shown once',
    );
  });

  test('over long-polling too, where the transport is writable only while the client polls', async (t) => {
    const srv = await startServer({ users: ['alice', 'bob'] });
    t.after(() => srv.close());
    const stored = await queue(srv.server.store, 'alice', 'bob', 250, (i) => `stored ${i}`);
    const bob = new ParleyClient(srv.url, { requestTimeoutMs: 3000, socket: { transports: ['polling'] } });
    srv.clients.push(bob);
    await bob.connect();
    const got = arrivals(bob);
    await bob.login('bob', 'bob-pw');
    await eventually(() => got.length >= stored.length, 10_000, `all ${stored.length} messages (${got.length} so far)`);
    assert.deepEqual(
      got.map((m) => m.id),
      stored,
    );
    // The login's replay is over: the connection's next request is answered.
    await bob.whoelse();
  });
});
