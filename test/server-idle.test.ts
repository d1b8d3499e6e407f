import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { ParleyClient } from '../src/client/parley-client';
import type { PresenceEvent } from '../src/protocol';
import { DEFAULT_TIMINGS } from '../src/server/options';
import { Program } from './helpers/processes';
import { collect, eventually, next, ONE_PROCESS_ONLY, passwordOf, startServer, tempDir, type TestServer } from './helpers/server';

const MINUTE = 60_000;

/** Lets the server's sweep (every 20 ms in tests) run a few times. */
const sweeps = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

const status = (client: ParleyClient, idle: boolean): Promise<object> => client.request('status', { idle });

describe('the idle timeout', () => {
  test('--timeout 0 keeps a silent session signed in; a connection that never signs in still has its deadline', async () => {
    const t = await startServer({ users: ['alice'], timings: { idleTimeoutMs: 0, signInDeadlineMs: 30_000 } });
    try {
      const alice = await t.signIn('alice');
      const silent = await bareSocket(t, 3);
      const closed = new Promise<{ code: string }>((resolve) => silent.once('protocolError', resolve));
      t.clock.advance(365 * 24 * 60 * MINUTE);
      assert.equal((await closed).code, 'NOT_SIGNED_IN');
      await sweeps();
      assert.equal(alice.state, 'signed-in');
      assert.deepEqual((await alice.whoelse()).users, []);
    } finally {
      await t.close();
    }
  });

  test('parley-server takes --timeout 0: past its sweep (every 5 s), the session is still there', { skip: ONE_PROCESS_ONLY }, async (t) => {
    const dataDir = tempDir();
    const setup = await startServer({ users: ['alice'], dataDir });
    await setup.stop();
    const program = new Program('src/server/main.ts', ['0', '--data', dataDir, '--timeout', '0']);
    const clients: ParleyClient[] = [];
    // Registered before anything is awaited: a server that never says its address must not outlive the test.
    t.after(async () => {
      for (const c of clients) c.close();
      program.child.kill();
      await program.exited;
      rmSync(dataDir, { recursive: true, force: true });
    });
    const alice = new ParleyClient((await program.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+)$/m))[1]!);
    clients.push(alice);
    await alice.connect();
    await alice.login('alice', passwordOf('alice'));
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    assert.equal(alice.state, 'signed-in');
    assert.deepEqual((await alice.whoelse()).users, []);
  });

  describe('by default', () => {
    let t: TestServer;
    before(async () => {
      t = await startServer({ users: ['alice', 'bob'] });
    });
    after(() => t.close());

    test('a session with no activity for 30 minutes is still signed out', async () => {
      const alice = await t.signIn('alice');
      t.clock.advance(DEFAULT_TIMINGS.idleTimeoutMs - MINUTE);
      await sweeps();
      assert.equal(alice.state, 'signed-in');
      t.clock.advance(MINUTE);
      const [event] = await next(alice, 'signedOut');
      assert.deepEqual(event, { reason: 'idle', message: 'You were signed out after 30 minutes without activity.' });
    });

    test('status {idle: true} is not activity: a session that says it is away times out', async () => {
      const alice = await t.signIn('alice');
      t.clock.advance(29 * MINUTE);
      await status(alice, true);
      t.clock.advance(MINUTE);
      assert.equal((await next(alice, 'signedOut'))[0].reason, 'idle');
    });

    test('status {idle: false} is activity: the user is back', async () => {
      const alice = await t.signIn('alice');
      t.clock.advance(29 * MINUTE);
      await status(alice, false);
      t.clock.advance(MINUTE);
      await sweeps();
      assert.equal(alice.state, 'signed-in', 'back a minute ago');
      t.clock.advance(29 * MINUTE);
      assert.equal((await next(alice, 'signedOut'))[0].reason, 'idle');
    });
  });
});

describe('idle presence', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'] });
  });
  after(() => t.close());

  test('is announced to protocol 3 sessions, never to protocol 2 ones, and follows every session of the user', async () => {
    const bob = await t.signIn('bob');
    const carol = await bareSocket(t, 2, 'carol');
    const carolHeard: PresenceEvent[] = [];
    carol.on('presence', (events: PresenceEvent[]) => carolHeard.push(...events));
    const bobHeard = collect(bob, 'presence');
    const aliceEvent = (match: (e: PresenceEvent) => boolean): Promise<[PresenceEvent]> =>
      next(bob, 'presence', (e) => e.username === 'alice' && match(e));

    let heard = aliceEvent((e) => e.online);
    const alice = await t.signIn('alice');
    assert.equal((await heard)[0].idle, false, 'protocol 3 events carry idle');
    await eventually(() => carolHeard.length === 1, 3000, 'carol told of alice');
    assert.deepEqual(Object.keys(carolHeard[0]!).sort(), ['at', 'online', 'username'], 'protocol 2 sees no idle field');

    heard = aliceEvent((e) => e.idle === true);
    await status(alice, true);
    assert.equal((await heard)[0].online, true);
    assert.equal(userOf(await bob.users(), 'alice').idle, true);
    const carolUsers = (await carol.timeout(3000).emitWithAck('users', {})) as { users: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(carolUsers.users.find((u) => u.username === 'alice')!).sort(), [
      'blocked',
      'lastSeen',
      'online',
      'username',
    ]);

    // A second window is a session that is not idle: alice is back, until it says she is away too.
    heard = aliceEvent((e) => e.idle === false);
    const alice2 = await t.signIn('alice');
    await heard;
    assert.equal(userOf(await bob.users(), 'alice').idle, false);
    heard = aliceEvent((e) => e.idle === true);
    await status(alice2, true);
    await heard;
    heard = aliceEvent((e) => e.idle === false);
    await status(alice, false);
    await heard;
    // Her only session that is not idle leaves: she is idle again.
    heard = aliceEvent((e) => e.idle === true);
    alice.close();
    await heard;

    heard = aliceEvent((e) => !e.online);
    alice2.close();
    assert.equal((await heard)[0].idle, false);
    await eventually(() => carolHeard.length === 2, 3000, 'carol told alice left');
    assert.deepEqual(
      carolHeard.map((e) => [e.username, e.online, 'idle' in e]),
      [
        ['alice', true, false],
        ['alice', false, false],
      ],
      'protocol 2 hears of coming and going only',
    );
    assert.deepEqual(
      bobHeard.filter(([e]) => e.username === 'alice').map(([e]) => [e.online, e.idle]),
      [
        [true, false],
        [true, true],
        [true, false],
        [true, true],
        [true, false],
        [true, true],
        [false, false],
      ],
    );
    carol.disconnect();
    bob.close();
  });

  test('a user hidden by a block is not told idle to the other, who sees them as before after unblocking', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    await bob.block('alice');
    const bobHeard = collect(bob, 'presence');
    await status(alice, true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // more than a batch window
    assert.deepEqual(bobHeard, []);
    assert.deepEqual(
      [userOf(await bob.users(), 'alice').online, userOf(await bob.users(), 'alice').idle],
      [false, false],
      'hidden: neither online nor idle',
    );
    const shown = next(bob, 'presence', (e) => e.username === 'alice');
    await bob.unblock('alice');
    assert.deepEqual((({ online, idle }) => ({ online, idle }))((await shown)[0]), { online: true, idle: true });
    alice.close();
    bob.close();
  });
});

function userOf(
  reply: { users: { username: string; online: boolean; idle?: boolean }[] },
  username: string,
): { online: boolean; idle?: boolean } {
  return reply.users.find((u) => u.username === username)!;
}

/** A bare Socket.IO connection speaking `protocol`, signed in as `username` when given. */
async function bareSocket(srv: TestServer, protocol: number, username?: string): Promise<Socket> {
  const socket = io(srv.url, { transports: ['websocket'], auth: { protocol }, forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  if (username !== undefined) {
    const reply = (await socket.timeout(3000).emitWithAck('login', { username, password: passwordOf(username) })) as { ok: boolean };
    assert.ok(reply.ok, `${username} signs in`);
  }
  return socket;
}
