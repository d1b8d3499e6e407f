import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import type { Accounts } from '../src/server/accounts';
import { PROTOCOL_VERSION, type Reply } from '../src/protocol';
import { eventually, passwordOf, PER_NODE_LIMIT, startServer, type TestServer } from './helpers/server';

/** A bare Socket.IO client from a given loopback address (Linux routes all of 127/8 to loopback). */
async function rawSocket(url: string, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = io(url, {
    auth: { protocol: PROTOCOL_VERSION },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    transportOptions: { websocket: { localAddress } },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

function login(socket: Socket, username: string, password: string): Promise<Reply> {
  return socket.timeout(10_000).emitWithAck('login', { username, password }) as Promise<Reply>;
}

/**
 * Wraps the server's real password check: counts the checks, how many ran at once, and holds each one
 * while `hold` is set, so that a test can line attempts up behind it.
 */
function watchChecks(accounts: Accounts) {
  const verify = accounts.verify.bind(accounts);
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  const watch = {
    /** The usernames checked, in the order their checks began. */
    order: [] as string[],
    calls: 0,
    running: 0,
    mostAtOnce: 0,
    held: true,
    release: () => {
      watch.held = false;
      open();
    },
  };
  accounts.verify = async (username, password) => {
    watch.calls += 1;
    watch.order.push(username);
    watch.running += 1;
    watch.mostAtOnce = Math.max(watch.mostAtOnce, watch.running);
    try {
      if (watch.held) await opened;
      return await verify(username, password);
    } finally {
      watch.running -= 1;
    }
  };
  return watch;
}

/** Counts the `login` requests that reached the server, as they arrive. */
function countLogins(t: TestServer): { arrived: number } {
  const count = { arrived: 0 };
  t.server.io.on('connection', (socket) => {
    socket.prependAny((event: string) => {
      if (event === 'login') count.arrived += 1;
    });
  });
  return count;
}

const isRefusal = (reply: Reply, code: string): boolean => !reply.ok && reply.error.code === code;

describe('bounds on password checks before sign-in', () => {
  test('a flood of logins from two addresses takes a few checks at a time and leaves room for a real user', async (ctx) => {
    const t = await startServer({
      users: ['alice'],
      signInLimits: { concurrentChecks: 1, queuedChecks: 4, checksPerAddress: 2, burst: 100 },
    });
    ctx.after(() => t.close());
    const checks = watchChecks(t.server.accounts);
    const flood: Socket[] = [];
    ctx.after(() => flood.forEach((s) => s.close()));
    for (const address of ['127.0.0.2', '127.0.0.3']) for (let i = 0; i < 12; i++) flood.push(await rawSocket(t.url, address));
    const answered: Reply[] = [];
    const floodReplies = Promise.all(flood.map((s, i) => login(s, `guess${i}`, 'x').then((r) => (answered.push(r), r))));

    // Each address holds at most its two places; the rest of its flood is refused at once.
    await eventually(() => answered.length === 20, 5000, 'the refusals');
    assert.equal(checks.calls, 1);
    const alice = await rawSocket(t.url);
    flood.push(alice);
    const aliceReply = login(alice, 'alice', passwordOf('alice'));
    checks.release();

    const { token: _a, tokenExpiresAt: _ae, ...aliceBody } = (await aliceReply) as Record<string, unknown>;
    assert.deepEqual(aliceBody, { ok: true, username: 'alice', online: [] });
    const replies = await floodReplies;
    const busy = replies.filter((r) => isRefusal(r, 'RATE_LIMITED'));
    assert.equal(busy.length, 20, JSON.stringify(replies));
    assert.ok(busy.every((r) => !r.ok && /busy checking other sign-ins/.test(r.error.message)));
    assert.equal(replies.filter((r) => isRefusal(r, 'INVALID_CREDENTIALS')).length, 4);
    assert.equal(checks.mostAtOnce, 1, 'checks ran at once');
    assert.equal(checks.calls, 5);
  });

  test(
    'free checks go round the addresses that wait: a flood from one address does not queue ahead of everyone',
    { skip: PER_NODE_LIMIT },
    async (ctx) => {
      const t = await startServer({ users: ['alice'], signInLimits: { concurrentChecks: 1 } });
      ctx.after(() => t.close());
      const arrivals = countLogins(t);
      const checks = watchChecks(t.server.accounts);
      const flood = await Promise.all(Array.from({ length: 6 }, () => rawSocket(t.url, '127.0.0.2')));
      const alice = await rawSocket(t.url, '127.0.0.3');
      ctx.after(() => [...flood, alice].forEach((s) => s.close()));
      const floodReplies = Promise.all(flood.map((s, i) => login(s, `guess${i}`, 'x')));
      await eventually(() => arrivals.arrived === 6 && checks.calls === 1, 5000, 'one check running and five waiting');
      const aliceReply = login(alice, 'alice', passwordOf('alice'));
      await eventually(() => arrivals.arrived === 7, 5000, "alice's login");
      checks.release();

      assert.equal((await aliceReply).ok, true);
      await floodReplies;
      assert.deepEqual(checks.order.slice(0, 3), ['guess0', 'guess1', 'alice'], 'her turn came after one more of the flood');
    },
  );

  test('a user who signed in from an address before goes ahead of those who did not', { skip: PER_NODE_LIMIT }, async (ctx) => {
    const t = await startServer({ users: ['alice'], signInLimits: { concurrentChecks: 1 } });
    ctx.after(() => t.close());
    const first = await rawSocket(t.url, '127.0.0.4');
    assert.equal((await login(first, 'alice', passwordOf('alice'))).ok, true);
    first.close();
    const arrivals = countLogins(t);
    const checks = watchChecks(t.server.accounts);
    const flood = [
      ...(await Promise.all(Array.from({ length: 4 }, () => rawSocket(t.url, '127.0.0.2')))),
      ...(await Promise.all(Array.from({ length: 3 }, () => rawSocket(t.url, '127.0.0.3')))),
    ];
    const alice = await rawSocket(t.url, '127.0.0.4');
    ctx.after(() => [...flood, alice].forEach((s) => s.close()));
    const floodReplies = Promise.all(flood.map((s, i) => login(s, `guess${i}`, 'x')));
    await eventually(() => arrivals.arrived === 7 && checks.calls === 1, 5000, 'the flood waiting');
    const aliceReply = login(alice, 'alice', passwordOf('alice'));
    await eventually(() => arrivals.arrived === 8, 5000, "alice's login");
    checks.release();

    assert.equal((await aliceReply).ok, true);
    await floodReplies;
    assert.equal(checks.order[1], 'alice', JSON.stringify(checks.order));
  });

  test('a sign-in that has waited too long for a check is refused as busy, before the client gives up', async (ctx) => {
    const t = await startServer({ users: ['alice', 'bob'], signInLimits: { concurrentChecks: 1, checkWaitMs: 300 } });
    ctx.after(() => t.close());
    const checks = watchChecks(t.server.accounts);
    const [alice, bob] = [await rawSocket(t.url), await rawSocket(t.url, '127.0.0.2')];
    ctx.after(() => [alice, bob].forEach((s) => s.close()));
    const aliceReply = login(alice, 'alice', passwordOf('alice'));
    await eventually(() => checks.calls === 1, 5000, "alice's check");
    const bobReply = await login(bob, 'bob', passwordOf('bob'));
    assert.ok(isRefusal(bobReply, 'RATE_LIMITED'), JSON.stringify(bobReply));
    assert.match(JSON.stringify(bobReply), /busy checking other sign-ins/);
    assert.equal(checks.calls, 1, "alice's check was still running, and bob's never ran");
    checks.release();
    assert.equal((await aliceReply).ok, true);
    assert.equal((await login(bob, 'bob', passwordOf('bob'))).ok, true, 'his place was given back');
  });

  test('a login whose socket has gone before its turn costs no hash', async (ctx) => {
    const t = await startServer({ users: ['alice', 'bob'], signInLimits: { concurrentChecks: 1 } });
    ctx.after(() => t.close());
    const arrivals = countLogins(t);
    const checks = watchChecks(t.server.accounts);
    const alice = await rawSocket(t.url);
    const bob = await rawSocket(t.url);
    ctx.after(() => alice.close());
    const aliceReply = login(alice, 'alice', passwordOf('alice'));
    await eventually(() => checks.calls === 1, 5000, "alice's check");
    void login(bob, 'bob', passwordOf('bob')).catch(() => undefined);
    await eventually(() => arrivals.arrived === 2, 5000, "bob's login");
    bob.close();
    await eventually(() => t.server.io.sockets.sockets.size === 1, 5000, 'the server to see bob leave');
    checks.release();

    assert.equal((await aliceReply).ok, true);
    const again = await rawSocket(t.url);
    ctx.after(() => again.close());
    assert.equal((await login(again, 'bob', passwordOf('bob'))).ok, true, 'the dropped attempt left nothing behind');
    assert.equal(checks.calls, 2, "bob's dropped attempt was never hashed");
  });

  test('places in the queue held by sockets that have gone are given to the next sign-in', async (ctx) => {
    const t = await startServer({ users: ['alice', 'bob', 'carol'], signInLimits: { concurrentChecks: 1, queuedChecks: 1 } });
    ctx.after(() => t.close());
    const arrivals = countLogins(t);
    const checks = watchChecks(t.server.accounts);
    const [alice, bob, carol] = [await rawSocket(t.url), await rawSocket(t.url), await rawSocket(t.url)];
    ctx.after(() => [alice, carol].forEach((s) => s.close()));
    const aliceReply = login(alice, 'alice', passwordOf('alice'));
    await eventually(() => checks.calls === 1, 5000, "alice's check");
    void login(bob, 'bob', passwordOf('bob')).catch(() => undefined);
    await eventually(() => arrivals.arrived === 2, 5000, "bob's login");
    bob.close();
    await eventually(() => t.server.io.sockets.sockets.size === 2, 5000, 'the server to see bob leave');

    const carolReply = login(carol, 'carol', passwordOf('carol'));
    await eventually(() => arrivals.arrived === 3, 5000, "carol's login");
    checks.release();
    assert.equal((await aliceReply).ok, true);
    const { token: _c, tokenExpiresAt: _ce, ...carolBody } = (await carolReply) as Record<string, unknown>;
    assert.deepEqual(carolBody, { ok: true, username: 'carol', online: ['alice'] });
    assert.equal(checks.calls, 2);
  });

  test('one address gets a few sign-in attempts a second across all usernames, even one socket at a time', async (ctx) => {
    const t = await startServer({ users: ['alice'], signInLimits: { burst: 3, perSecond: 1 } });
    ctx.after(() => t.close());
    const checks = watchChecks(t.server.accounts);
    checks.release();
    const replies: Reply[] = [];
    for (let i = 0; i < 5; i++) {
      const socket = await rawSocket(t.url, '127.0.0.2');
      replies.push(await login(socket, `nobody${i}`, 'x'));
      socket.close();
    }
    assert.deepEqual(
      replies.map((r) => (r.ok ? 'ok' : r.error.code)),
      ['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED', 'RATE_LIMITED'],
    );
    assert.match(JSON.stringify(replies[3]), /Too many sign-in attempts from your address/);
    assert.equal(checks.calls, 3);

    const elsewhere = await rawSocket(t.url, '127.0.0.1');
    ctx.after(() => elsewhere.close());
    assert.equal((await login(elsewhere, 'alice', passwordOf('alice'))).ok, true, 'another address is not affected');
    t.clock.advance(1000);
    const later = await rawSocket(t.url, '127.0.0.2');
    ctx.after(() => later.close());
    assert.ok(isRefusal(await login(later, 'nobody', 'x'), 'INVALID_CREDENTIALS'), 'a second later one more attempt is allowed');
  });

  test('wrong passwords from one address are few across all usernames: then no more hashing for it', async (ctx) => {
    const t = await startServer({ users: ['alice'], signInLimits: { failureBurst: 3, failureEverySeconds: 10 } });
    ctx.after(() => t.close());
    const checks = watchChecks(t.server.accounts);
    checks.release();
    const socket = await rawSocket(t.url, '127.0.0.2');
    ctx.after(() => socket.close());
    const replies: Reply[] = [];
    // Random usernames: the per-username lockout never applies.
    for (let i = 0; i < 5; i++) replies.push(await login(socket, `nobody${i}`, 'x'));
    assert.deepEqual(
      replies.map((r) => (r.ok ? 'ok' : r.error.code)),
      ['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED', 'RATE_LIMITED'],
    );
    assert.match(JSON.stringify(replies[3]), /Too many wrong passwords from your address/);
    assert.equal(checks.calls, 3, 'no password is checked past the budget');
    assert.equal((await login(socket, 'alice', passwordOf('alice'))).ok, false, 'not even a right one, until the budget refills');

    const elsewhere = await rawSocket(t.url, '127.0.0.1');
    ctx.after(() => elsewhere.close());
    assert.equal((await login(elsewhere, 'alice', passwordOf('alice'))).ok, true, 'another address is not affected');
    t.clock.advance(10_000);
    assert.equal((await login(socket, 'alice', passwordOf('alice'))).ok, true, 'ten seconds later one more check is allowed');
  });

  test('windows of one user signing in at once all get in: they wait for the checks in flight', async (ctx) => {
    // Room for every check at once: what is tested is the wait of the lockout's count, not the server-wide bound.
    const t = await startServer({ users: ['alice'], signInLimits: { concurrentChecks: 5 } });
    ctx.after(() => t.close());
    const arrivals = countLogins(t);
    const checks = watchChecks(t.server.accounts);
    const windows = await Promise.all(Array.from({ length: 5 }, () => rawSocket(t.url)));
    ctx.after(() => windows.forEach((s) => s.close()));
    const replies = Promise.all(windows.map((s) => login(s, 'alice', passwordOf('alice'))));
    // Three (the tries left before a lockout) are being checked and two wait, when the checks end.
    await eventually(() => arrivals.arrived === 5 && checks.calls === 3, 5000, 'five logins and three checks');
    checks.release();
    assert.deepEqual(
      (await replies).map((r) => r.ok),
      [true, true, true, true, true],
      JSON.stringify(await replies),
    );
  });

  test('parallel wrong guesses still get no more checks than one connection', async (ctx) => {
    const t = await startServer({ users: ['gina'], signInLimits: { concurrentChecks: 8 } });
    ctx.after(() => t.close());
    const checks = watchChecks(t.server.accounts);
    const sockets = await Promise.all(Array.from({ length: 8 }, () => rawSocket(t.url)));
    ctx.after(() => sockets.forEach((s) => s.close()));
    const replies = Promise.all(sockets.map((s) => login(s, 'gina', 'guess')));
    await eventually(() => checks.calls === 3, 5000, 'three checks');
    checks.release();
    const codes = (await replies).map((r) => (r.ok ? 'ok' : r.error.code)).sort();
    assert.deepEqual(codes, ['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', ...Array(6).fill('LOCKED_OUT')]);
    assert.equal(checks.calls, 3);
  });
});
