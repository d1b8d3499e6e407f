import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { ParleyClient } from '../src/client/parley-client';
import type { ChatMessage } from '../src/protocol';
import { REPLAY_PAGE_BYTES, REPLAYS_PER_USER, packetBytes } from '../src/server/replay';
import { ReplayTurns } from '../src/server/replay-turns';
import type { Store } from '../src/server/store/store';
import { collect, eventually, next, passwordOf, startServer, type TestServer } from './helpers/server';
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

/** The TCP socket under a Socket.IO client's WebSocket: pausing it makes a client that does not read. */
type Tcp = { pause(): void; resume(): void };
const tcpOf = (socket: Socket): Tcp =>
  (socket as unknown as { io: { engine: { transport: { ws: { _socket: Tcp } } } } }).io.engine.transport.ws._socket;

/**
 * What the server holds to be written to its clients: the characters of the packets in engine.io's write
 * buffers and the bytes in the WebSockets' (measured here rather than with the sweep's own count).
 */
function heldByServer(srv: TestServer): number {
  let held = 0;
  for (const socket of srv.server.io.of('/').sockets.values()) {
    const engine = socket.conn as unknown as { writeBuffer: { data?: string }[]; transport: { socket?: { bufferedAmount: number } } };
    held += (engine.transport.socket?.bufferedAmount ?? 0) + engine.writeBuffer.reduce((sum, p) => sum + (p.data?.length ?? 0), 0);
  }
  return held;
}

/** The most the server held, watched until it has not changed for a while: the replays wait for their clients to read. */
async function mostHeldOnceStill(srv: TestServer): Promise<number> {
  let most = 0;
  let last = -1;
  let still = 0;
  await eventually(
    () => {
      const now = heldByServer(srv);
      most = Math.max(most, now);
      still = now > 0 && now === last ? still + 1 : 0;
      last = now;
      return still >= 30;
    },
    30_000,
    'the replays to wait for their clients',
  );
  return most;
}

/**
 * Stores 300 of the largest messages, about 24 KB each as JSON (4 000 characters that JSON escapes as six
 * each), 7 MB in all: more than the kernel's socket buffers on loopback take from a client that does not read.
 */
const queueLarge = (store: Store, from: string, to: string): Promise<number[]> =>
  queue(store, from, to, 300, (i) => `${i} ${'\u0001'.repeat(4000)}`);

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
    const tcp = tcpOf(socketOf(bob));
    await bob.login('bob', 'bob-pw');
    tcp.pause();

    // What the server holds for bob: the replay waits for him to read.
    const most = await mostHeldOnceStill(srv);
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

  test('a channel message posted during a replay comes after it, once, even when a later page passes its id', async (t) => {
    const srv = await startServer({ users: ['alice', 'bob', 'carol'] });
    t.after(() => srv.close());
    const stored = await queue(srv.server.store, 'carol', 'bob', 5000, (i) => `${i} ${'x'.repeat(3900)}`);
    const alice = await srv.signIn('alice');
    const bob = await srv.connect();
    const got = arrivals(bob);
    const tcp = tcpOf(socketOf(bob));
    await bob.login('bob', 'bob-pw');
    tcp.pause();
    // Held while bob replays; the direct message after it is pending too, so the last page reads past the post's id.
    const posted = await alice.post('general', 'while bob replays');
    const later = await alice.message('bob', 'stored after the post');
    tcp.resume();
    await eventually(() => got.some((m) => m.id === later.id), 30_000, 'the replay to its end');
    await eventually(() => got.some((m) => m.id === posted.id), 1000, 'the channel message');
    assert.deepEqual(
      got.filter((m) => m.kind === 'channel').map((m) => m.id),
      [posted.id],
    );
    assert.ok(
      got.findIndex((m) => m.id === posted.id) > got.findIndex((m) => m.id === stored.at(-1)),
      'after the messages stored before it',
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
    const tcp = tcpOf(socketOf(bob));
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

  test('a page is bounded by bytes too: a session that does not read holds about 256 KiB of large messages, not 100 of them', async (t) => {
    const srv = await startServer({ users: ['alice', 'bob'] });
    t.after(() => srv.close());
    // A page of 100 of these would be 2.4 MB.
    const stored = await queueLarge(srv.server.store, 'alice', 'bob');
    const largest = packetBytes((await srv.server.store.pendingFor('bob', { limit: 1 }))[0]!);

    const bob = await bareSession(srv, 'bob');
    bob.tcp.pause();
    const most = await mostHeldOnceStill(srv);
    assert.ok(most <= REPLAY_PAGE_BYTES + largest, `at most a page of bytes waits in the server (${most} bytes)`);
    assert.ok(bob.got.length < stored.length, 'bob has not had everything');

    bob.tcp.resume();
    await eventually(() => bob.got.length >= stored.length, 30_000, `all ${stored.length} messages (${bob.got.length} so far)`);
    assert.deepEqual(
      bob.got.map((m) => m.id),
      stored,
    );
  });

  test('many sessions of one user that do not read hold a few pages in the server, not one each; each gets everything once it reads', async (t) => {
    const srv = await startServer({ users: ['alice', 'bob', 'carol'] });
    t.after(() => srv.close());
    const stored = await queueLarge(srv.server.store, 'alice', 'bob');
    const largest = packetBytes((await srv.server.store.pendingFor('bob', { limit: 1 }))[0]!);
    const carol = await srv.signIn('carol');

    // Bare sessions acknowledge nothing, so every replay has all of it to send.
    const sessions = [];
    for (let i = 0; i < 12; i++) {
      const session = await bareSession(srv, 'bob');
      session.tcp.pause();
      sessions.push(session);
    }
    const most = await mostHeldOnceStill(srv);
    const bound = REPLAYS_PER_USER * (REPLAY_PAGE_BYTES + largest);
    assert.ok(most <= bound, `${sessions.length} sessions of bob make the server hold ${most} bytes (at most ${bound})`);
    // Another user is answered meanwhile.
    assert.deepEqual((await carol.whoelse()).users, ['bob']);

    for (const session of sessions) session.tcp.resume();
    for (const [i, session] of sessions.entries()) {
      await eventually(
        () => session.got.length >= stored.length,
        30_000,
        `session ${i}: all ${stored.length} (${session.got.length} so far)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const session of sessions) {
      assert.deepEqual(
        session.got.map((m) => m.id),
        stored,
        'in order, each once',
      );
    }
  });

  test("a user's replays take turns: a session waits while others hold them, and gets its turn when they close", async (t) => {
    const srv = await startServer({ users: ['alice', 'bob'] });
    t.after(() => srv.close());
    const stored = await queueLarge(srv.server.store, 'alice', 'bob');
    const stuck = [];
    for (let i = 0; i < REPLAYS_PER_USER; i++) {
      const session = await bareSession(srv, 'bob');
      session.tcp.pause();
      stuck.push(session);
    }
    // One in line behind them leaves before its turn; the newcomer after it must not wait for it.
    (await bareSession(srv, 'bob')).socket.close();
    const bob = await bareSession(srv, 'bob');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(bob.got.length, 0, 'nothing while every turn is held');

    // Signed out, though their transports stay open (unread) until the client gives up on them.
    for (const session of stuck) session.socket.disconnect();
    await eventually(() => bob.got.length >= stored.length, 10_000, `all ${stored.length} messages (${bob.got.length} so far)`);
    for (const session of stuck) session.tcp.resume();
    assert.deepEqual(
      bob.got.map((m) => m.id),
      stored,
    );
  });
});

describe('ReplayTurns', () => {
  test('lets `perUser` replays of a user run, the rest in order; leaving a place or a turn moves the line', async () => {
    const turns = new ReplayTurns(2);
    const [a, b, c, d] = [turns.enter('bob'), turns.enter('bob'), turns.enter('bob'), turns.enter('bob')];
    const other = turns.enter('carol');
    const started: string[] = [];
    for (const [name, turn] of Object.entries({ a, b, c, d, other })) void turn.ready.then((ok) => ok && started.push(name));
    await Promise.resolve();
    assert.deepEqual(started.sort(), ['a', 'b', 'other'], "another user's replays do not wait for bob's");

    c.leave();
    assert.equal(await c.ready, false, 'a place given up before its turn never gets one');
    a.leave();
    a.leave(); // twice frees one turn, not two
    await d.ready;
    assert.deepEqual(started.sort(), ['a', 'b', 'd', 'other']);
    const e = turns.enter('bob');
    let eStarted = false;
    void e.ready.then(() => (eStarted = true));
    await Promise.resolve();
    assert.equal(eStarted, false, 'b and d still run');
    b.leave();
    assert.equal(await e.ready, true);
  });
});

/** A bare Socket.IO client signed in with the password; unlike ParleyClient it acknowledges nothing, so each replay sends it everything. */
async function bareSession(srv: TestServer, username: string): Promise<{ socket: Socket; tcp: Tcp; got: ChatMessage[] }> {
  const socket = io(srv.url, { transports: ['websocket'], auth: { protocol: 2 }, forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const got: ChatMessage[] = [];
  socket.on('message', (m: ChatMessage) => got.push(m));
  const reply = (await socket.timeout(10_000).emitWithAck('login', { username, password: passwordOf(username) })) as { ok: boolean };
  assert.ok(reply.ok, `${username} signs in`);
  return { socket, tcp: tcpOf(socket), got };
}
