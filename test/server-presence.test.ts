import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { collect, eventually, next, startServer, type TestServer } from './helpers/server';

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
    assert.deepEqual(byName.bob, { username: 'bob', online: true, lastSeen: byName.bob!.lastSeen, blocked: false });
    assert.equal(byName.carol!.online, false);
    assert.equal(typeof byName.carol!.lastSeen, 'number', 'carol left earlier in this suite');
    assert.deepEqual(byName.dave, { username: 'dave', online: false, lastSeen: null, blocked: true });
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
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/signed-in-client.ts', t.url, 'bob', 'bob-pw'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`client exited with ${code}`)));
      });
      assert.deepEqual((await alice.whoelse()).users, ['bob']);
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
