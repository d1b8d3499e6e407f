import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { ParleyClient, ParleyRequestError, type ClientOptions } from '../src/client/parley-client';
import { collect, eventually, next, startServer, type TestServer } from './helpers/server';

async function loginError(client: ParleyClient, username: string, password: string): Promise<ParleyRequestError> {
  const err = await client.login(username, password).then(
    () => assert.fail(`login as ${username} should have failed`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ParleyRequestError);
  return err;
}

describe('sign-in and lockout', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank'], timings: { blockMs: 60_000 } });
  });
  after(() => t.close());

  test('the right password signs in and lists who else is online', async () => {
    const bob = await t.signIn('bob');
    const alice = await t.connect();
    const reply = await alice.login('alice', 'alice-pw');
    assert.equal(reply.username, 'alice');
    assert.deepEqual(reply.online, ['bob']);
    assert.equal(alice.state, 'signed-in');
    alice.close();
    bob.close();
  });

  test('a wrong password and an unknown user get the same answer', async () => {
    const client = await t.connect();
    const wrong = await loginError(client, 'carol', 'nope');
    const unknown = await loginError(client, 'nobody', 'nope');
    assert.equal(wrong.code, 'INVALID_CREDENTIALS');
    assert.equal(unknown.code, 'INVALID_CREDENTIALS');
    assert.equal(wrong.message, unknown.message);
    assert.match(wrong.message, /2 attempts left/);
    client.close();
  });

  test('three wrong passwords lock the username out for the lock time, then it may try again', async () => {
    const client = await t.connect();
    assert.equal((await loginError(client, 'dave', 'x')).code, 'INVALID_CREDENTIALS');
    assert.equal((await loginError(client, 'dave', 'x')).code, 'INVALID_CREDENTIALS');
    const third = await loginError(client, 'dave', 'x');
    assert.equal(third.code, 'LOCKED_OUT');
    assert.equal(third.retryAfterSeconds, 60);
    assert.match(third.message, /now locked from your address\. Try again in 60 seconds/);

    // Even the right password is refused while the lockout lasts, with the time that remains.
    t.clock.advance(45_000);
    const locked = await loginError(client, 'dave', 'dave-pw');
    assert.equal(locked.code, 'LOCKED_OUT');
    assert.equal(locked.retryAfterSeconds, 15);
    // "Blocked" is Block User's word; the lockout says "locked" (the code is the protocol, the words are not).
    assert.match(locked.message, /locked from your address for now/);
    assert.doesNotMatch(third.message + locked.message, /block/i);

    // A lockout is per address and username: another user from the same address is not affected.
    const other = await t.connect();
    await other.login('bob', 'bob-pw');
    other.close();

    t.clock.advance(15_000);
    await client.login('dave', 'dave-pw');
    assert.equal(client.username, 'dave');
    client.close();
  });

  test('a lockout is per address: another address may still sign in, and a forged forwarding header is not an address', async () => {
    const locked = await t.connect();
    for (let i = 0; i < 2; i++) await loginError(locked, 'hank', 'x');
    assert.equal((await loginError(locked, 'hank', 'x')).code, 'LOCKED_OUT');

    const client = (socket: ClientOptions['socket']): Promise<ParleyClient> => {
      const c = new ParleyClient(t.url, { socket: { reconnection: false, ...socket } });
      t.clients.push(c);
      return c.connect().then(() => c);
    };
    // Headers a proxy would add are the client's to write: the server goes by the TCP peer address only.
    const forged = await client({ extraHeaders: { 'x-forwarded-for': '127.0.0.2', 'x-real-ip': '127.0.0.2', forwarded: 'for=127.0.0.2' } });
    assert.equal((await loginError(forged, 'hank', 'hank-pw')).code, 'LOCKED_OUT');

    // Linux routes all of 127/8 to the loopback interface: this connection really comes from another address.
    const elsewhere = await client({ transportOptions: { websocket: { localAddress: '127.0.0.2' } } });
    await elsewhere.login('hank', 'hank-pw');
    const addresses = [...t.server.io.sockets.sockets.values()].map((s) => s.handshake.address);
    assert.ok(addresses.includes('127.0.0.2'), `the server saw ${addresses.join(', ')}`);
    assert.equal((await loginError(locked, 'hank', 'hank-pw')).code, 'LOCKED_OUT', 'still locked out from the first address');
    for (const c of [locked, forged, elsewhere]) c.close();
  });

  test('a success resets the count of failures', async () => {
    const a = await t.connect();
    await loginError(a, 'erin', 'x');
    await loginError(a, 'erin', 'x');
    await a.login('erin', 'erin-pw');
    a.close();
    const b = await t.connect();
    const err = await loginError(b, 'erin', 'x');
    assert.equal(err.code, 'INVALID_CREDENTIALS');
    assert.match(err.message, /2 attempts left/);
    b.close();
  });

  test('unknown usernames lock out too, so that lockouts do not reveal who exists', async () => {
    const client = await t.connect();
    await loginError(client, 'ghost', 'x');
    await loginError(client, 'ghost', 'x');
    assert.equal((await loginError(client, 'ghost', 'x')).code, 'LOCKED_OUT');
    client.close();
  });

  test('usernames are case-sensitive in lockouts too: failures for "Erin" do not lock out "erin"', async () => {
    const client = await t.connect();
    for (let i = 0; i < 2; i++) await loginError(client, 'Erin', 'x');
    assert.equal((await loginError(client, 'Erin', 'x')).code, 'LOCKED_OUT');
    await client.login('erin', 'erin-pw');
    client.close();
  });

  test('failures older than the lock time are forgotten', async () => {
    const client = await t.connect();
    await loginError(client, 'frank', 'x');
    await loginError(client, 'frank', 'x');
    t.clock.advance(60_000);
    const err = await loginError(client, 'frank', 'x');
    assert.match(err.message, /2 attempts left/);
    client.close();
  });

  // Parallel guesses: test/server-sign-in-limits.test.ts.

  test('signing in twice on one connection is refused; commands before sign-in are refused', async () => {
    const client = await t.connect();
    await assert.rejects(client.whoelse(), { code: 'NOT_SIGNED_IN' });
    await client.login('alice', 'alice-pw');
    await assert.rejects(client.request('login', { username: 'bob', password: 'bob-pw' }), { code: 'ALREADY_SIGNED_IN' });
    client.close();
  });

  test('a client of another protocol version is refused with the versions the server speaks', async () => {
    const socket = io(t.url, { auth: { protocol: 99 }, transports: ['websocket'], reconnection: false });
    const err = await new Promise<Error & { data?: { code: string; supported: number[] } }>((resolve) =>
      socket.on('connect_error', resolve),
    );
    assert.equal(err.data?.code, 'UNSUPPORTED_VERSION');
    assert.deepEqual(err.data?.supported, [1, 2, 3]);
    assert.match(err.message, /speaks Parley protocol 1, 2, 3; the client sent 99/);
    socket.close();

    const none = io(t.url, { transports: ['websocket'], reconnection: false });
    const err2 = await new Promise<Error & { data?: { code: string } }>((resolve) => none.on('connect_error', resolve));
    assert.equal(err2.data?.code, 'UNSUPPORTED_VERSION');
    none.close();
  });

  test('an unreachable server gives a clear error', async () => {
    const client = new ParleyClient('http://127.0.0.1:1', { socket: { reconnection: false } });
    await assert.rejects(client.connect(), (err: ParleyRequestError) => err.code === 'UNREACHABLE' && /Cannot reach/.test(err.message));
    client.close();
  });
});

describe('several sessions of one user', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'] });
  });
  after(() => t.close());

  test('presence is per user: online at the first session, offline after the last', async () => {
    const bob = await t.signIn('bob');
    const notices = collect(bob, 'presence');
    const alice1 = await t.signIn('alice');
    const alice2 = await t.signIn('alice');
    await eventually(() => notices.length >= 1, 3000, 'the online notice');
    assert.deepEqual((await bob.whoelse()).users, ['alice']);

    alice1.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await bob.whoelse()).users, ['alice'], 'one window closed; alice is still online');

    alice2.close();
    await next(bob, 'presence', (e) => e.username === 'alice' && !e.online);
    assert.deepEqual((await bob.whoelse()).users, []);
    assert.deepEqual(
      notices.map(([e]) => [e.username, e.online]),
      [
        ['alice', true],
        ['alice', false],
      ],
      'exactly one notice for each change, not one per window',
    );
    bob.close();
  });

  test('a message reaches every window of the recipient, and the sender sees it in their other windows', async () => {
    const bob1 = await t.signIn('bob');
    const bob2 = await t.signIn('bob');
    const alice1 = await t.signIn('alice');
    const alice2 = await t.signIn('alice');
    const got = Promise.all([next(bob1, 'message'), next(bob2, 'message'), next(alice2, 'message')]);
    const sent = await alice1.message('bob', 'hello both');
    const [[m1], [m2], [echo]] = await got;
    assert.equal(m1.id, sent.id);
    assert.equal(m2.id, sent.id);
    assert.deepEqual(echo, m1);
    assert.equal(echo.from, 'alice');
    for (const c of [bob1, bob2, alice1, alice2]) c.close();
  });
});

describe('single-session mode', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice'], singleSession: true });
  });
  after(() => t.close());

  test('a second sign-in of an online user is refused, and allowed again once they leave', async () => {
    const first = await t.signIn('alice');
    const second = await t.connect();
    await assert.rejects(second.login('alice', 'alice-pw'), { code: 'ALREADY_SIGNED_IN' });
    await first.logout();
    await eventually(async () => {
      try {
        await second.login('alice', 'alice-pw');
        return true;
      } catch {
        return false;
      }
    });
    second.close();
  });
});
