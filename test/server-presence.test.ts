import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { ParleyClient } from '../src/client/parley-client';
import type { PresenceEvent } from '../src/protocol';
import { collect, eventually, next, passwordOf, startServer, type TestServer } from './helpers/server';

const MINUTE = 60_000;

describe('whoelse and wholast', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave'] });
  });
  after(() => t.close());

  test('wholast counts users online now and those who left within the window, not the asker', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const carol = await t.signIn('carol');
    const carolGone = next(alice, 'presence', (e) => e.username === 'carol' && !e.online);
    carol.close();
    await carolGone;
    t.clock.advance(10 * MINUTE);
    const bobGone = next(alice, 'presence', (e) => e.username === 'bob' && !e.online);
    bob.close();
    await bobGone;
    t.clock.advance(5 * MINUTE);

    assert.deepEqual((await alice.whoelse()).users, []);
    assert.deepEqual((await alice.wholast(4)).users, [], 'bob left 5 minutes ago');
    assert.deepEqual((await alice.wholast(5)).users, ['bob']);
    assert.deepEqual((await alice.wholast(15)).users, ['bob', 'carol']);
    const dave = await t.signIn('dave');
    assert.deepEqual((await alice.wholast(1)).users, ['dave'], 'online users count');
    assert.deepEqual((await alice.whoelse()).users, ['dave']);
    await assert.rejects(alice.wholast(60), { code: 'BAD_REQUEST', message: /between 1 and 59/ });
    await assert.rejects(alice.wholast(0), { code: 'BAD_REQUEST' });
    alice.close();
    dave.close();
  });

  test('users lists every other account with presence as the asker may see it', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    await alice.block('dave');
    const { users } = await alice.users();
    assert.deepEqual(
      users.map((u) => u.username),
      ['bob', 'carol', 'dave'],
    );
    const byName = Object.fromEntries(users.map((u) => [u.username, u]));
    assert.deepEqual(byName.bob, { username: 'bob', online: true, lastSeen: byName.bob!.lastSeen, blocked: false, idle: false });
    assert.equal(byName.carol!.online, false);
    assert.equal(typeof byName.carol!.lastSeen, 'number', 'carol left earlier in this suite');
    assert.deepEqual(byName.dave, { username: 'dave', online: false, lastSeen: null, blocked: true, idle: false });
    const bobView = await bob.users();
    assert.deepEqual(
      bobView.users.map((u) => [u.username, u.online, u.blocked]),
      [
        ['alice', true, false],
        ['carol', false, false],
        ['dave', false, false],
      ],
    );
    await alice.unblock('dave');
    alice.close();
    bob.close();
  });

  test('last seen times survive a restart', async () => {
    // carol and bob left 15 and 5 minutes ago in the test above; a new server on the same data knows it.
    await t.stop();
    const again = await startServer({ dataDir: t.dataDir }, t.clock);
    const alice = await again.signIn('alice');
    assert.deepEqual((await alice.wholast(6)).users, ['bob', 'dave'], 'dave left just now, bob 5 minutes ago');
    assert.deepEqual((await alice.wholast(16)).users, ['bob', 'carol', 'dave']);
    alice.close();
    await again.stop();
  });
});

describe('inactivity timeout', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'], timings: { idleTimeoutMs: 30 * MINUTE } });
  });
  after(() => t.close());

  test('a session with no command for TIME_OUT is signed out with a message; others see it leave', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    t.clock.advance(20 * MINUTE);
    await bob.whoelse(); // bob is active, alice is not
    t.clock.advance(10 * MINUTE);
    const [event] = await next(alice, 'signedOut');
    assert.equal(event.reason, 'idle');
    assert.match(event.message, /after 30 minutes without activity/);
    await next(bob, 'presence', (e) => e.username === 'alice' && !e.online);
    await eventually(() => alice.state === 'offline');
    assert.equal(bob.state, 'signed-in');
    assert.deepEqual((await bob.wholast(1)).users, ['alice']);
    bob.close();
  });

  test('acknowledging messages does not count as activity', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    t.clock.advance(29 * MINUTE);
    await bob.message('alice', 'ping'); // alice's client acknowledges it, which is not a command
    await new Promise((r) => setTimeout(r, 50));
    t.clock.advance(1 * MINUTE);
    const [event] = await next(alice, 'signedOut');
    assert.equal(event.reason, 'idle');
    bob.close();
  });
});

describe('heartbeats', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'], timings: { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 200 } });
  });
  after(() => t.close());

  test('a frozen client is detected by its missed heartbeats and its user goes offline', async () => {
    const alice = await t.signIn('alice');
    const bobOnline = next(alice, 'presence', (e) => e.username === 'bob' && e.online, 10_000);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/signed-in-client.ts', t.url, 'bob', 'bob-pw'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`client exited with ${code}`)));
      });
      assert.deepEqual((await alice.whoelse()).users, ['bob']);
      await bobOnline; // presence comes in batches, possibly after whoelse's answer
      const notices = collect(alice, 'presence');
      // SIGSTOP keeps the TCP connection open but the process silent: only heartbeats can tell.
      child.kill('SIGSTOP');
      await next(alice, 'presence', (e) => e.username === 'bob' && !e.online, 5000);
      assert.deepEqual((await alice.whoelse()).users, []);
      assert.deepEqual((await alice.wholast(1)).users, ['bob']);
      assert.equal(notices.length, 1);
    } finally {
      child.kill('SIGKILL');
    }
    alice.close();
  });
});

describe('presence in batches', () => {
  const crowd = Array.from({ length: 40 }, (_, i) => `user${String(i).padStart(2, '0')}`);
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['watcher', 'hider', ...crowd] });
  });
  after(() => t.close());

  /** Every `presence` packet a client gets, as the server sent it (the client core unpacks them). */
  function packets(client: ParleyClient): PresenceEvent[][] {
    const got: PresenceEvent[][] = [];
    (client as unknown as { socket: { on(e: 'presence', f: (events: PresenceEvent[]) => void): void } }).socket.on('presence', (events) =>
      got.push(events),
    );
    return got;
  }

  test('a sign-in storm reaches each session in a few packets, and every view ends up right', async () => {
    const watcher = await t.signIn('watcher');
    const hider = await t.signIn('hider');
    const hidden = next(watcher, 'presence', (e) => e.username === 'hider' && !e.online);
    await hider.block('watcher'); // from now on neither hears of the other
    await hidden;
    await new Promise((resolve) => setTimeout(resolve, 300)); // and the batch of their own sign-ins has gone
    const seen = packets(watcher);
    const views = new Map<string, Set<string>>();

    const clients = await Promise.all(
      crowd.map(async (user) => {
        const client = await t.connect();
        const view = new Set<string>();
        views.set(user, view);
        client.on('presence', (e) => (e.online ? view.add(e.username) : view.delete(e.username)));
        const { online } = await client.login(user, passwordOf(user));
        for (const other of online) view.add(other);
        return client;
      }),
    );
    const everyone = new Set(crowd);
    await eventually(() => seen.flat().filter((e) => e.online).length >= crowd.length, 5000, 'the watcher hears of all');
    await eventually(
      () => crowd.every((user) => views.get(user)!.size === crowd.length - 1 + 2), // the others, the watcher and the hider
      5000,
      'every newcomer sees everyone else online',
    );
    assert.ok(seen.length < crowd.length / 4, `${seen.length} presence packets for ${crowd.length} sign-ins`);
    assert.deepEqual(new Set(seen.flat().map((e) => e.username)), everyone, 'the watcher hears of the crowd only (not the hider)');
    for (const [user, view] of views) assert.ok(!view.has(user), `${user} is not told about itself`);

    // Come and go within one batch: whoever heard of it ends with the right state.
    const flash = clients[0]!;
    flash.close();
    const back = await t.signIn(crowd[0]!);
    back.close();
    await eventually(() => seen.flat().at(-1)?.username === crowd[0] && seen.flat().at(-1)?.online === false, 5000, 'the final state');
    for (const c of clients) c.close();
    watcher.close();
    hider.close();
  });
});
