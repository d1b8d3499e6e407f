import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Database } from 'node-sqlite3-wasm';
import { io, type Socket } from 'socket.io-client';
import { ParleyClient, ParleyRequestError } from '../src/client/parley-client';
import { DEFAULT_TIMINGS } from '../src/server/options';
import type { Reply } from '../src/protocol';
import {
  countHashes,
  eventually,
  next,
  ONE_PROCESS_ONLY,
  passwordOf,
  PER_NODE_LIMIT,
  startServer,
  type TestServer,
} from './helpers/server';

async function tokenOf(t: TestServer, username: string): Promise<{ client: ParleyClient; token: string; expiresAt: number }> {
  const client = await t.signIn(username);
  const token = client.sessionToken;
  assert.ok(token, 'a protocol 2 sign-in carries a token');
  return { client, token: token.token, expiresAt: token.expiresAt };
}

async function resumeError(t: TestServer, token: string, username?: string): Promise<ParleyRequestError> {
  const client = await t.connect();
  const err = await client.resume(token, username).then(
    () => assert.fail('the token should have been refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ParleyRequestError);
  client.close();
  return err;
}

/** A bare Socket.IO client speaking `protocol`. */
async function rawSocket(url: string, protocol: number): Promise<Socket> {
  const socket = io(url, { auth: { protocol }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

const ask = (socket: Socket, event: string, payload: unknown): Promise<Reply> =>
  socket.timeout(3000).emitWithAck(event, payload) as Promise<Reply>;

describe('session tokens', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'ivy', 'jack'] });
  });
  after(() => t.close());

  test('a password sign-in issues a token; signing in with it costs no password hash', async () => {
    const hashes = countHashes(t);
    const { client: first, token, expiresAt } = await tokenOf(t, 'alice');
    assert.equal(hashes.count, 1);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(expiresAt, t.clock.now + DEFAULT_TIMINGS.sessionTokenTtlMs);

    const second = await t.connect();
    const reply = await second.resume(token);
    assert.equal(reply.username, 'alice');
    assert.equal(reply.token, token, 'a token sign-in keeps its token (windows may share it)');
    assert.equal(second.state, 'signed-in');
    assert.equal(second.username, 'alice');
    const third = await t.connect();
    await third.resume(token, 'alice');
    assert.equal(hashes.count, 1, 'no password was checked for the token sign-ins');
    await third.message('bob', 'signed in by token');
    for (const c of [first, second, third]) c.close();
  });

  test("a token is refused for another user's name, and a wrong token is INVALID_TOKEN without counting toward the lockout", async () => {
    const { client, token } = await tokenOf(t, 'bob');
    assert.equal((await resumeError(t, token, 'carol')).code, 'INVALID_TOKEN');
    const stranger = await t.connect();
    for (let i = 0; i < 5; i++) {
      const err = await stranger.resume('A'.repeat(43), 'carol').catch((e: ParleyRequestError) => e);
      assert.ok(err instanceof ParleyRequestError);
      assert.equal(err.code, 'INVALID_TOKEN');
      assert.match(err.message, /unknown, expired or revoked/);
    }
    // Five refused tokens, yet carol's first wrong password is her first failure.
    const wrong = await stranger.login('carol', 'nope').catch((e: ParleyRequestError) => e);
    assert.ok(wrong instanceof ParleyRequestError);
    assert.match(wrong.message, /2 attempts left/);
    await stranger.login('carol', passwordOf('carol'));
    stranger.close();
    client.close();
  });

  test('a valid token signs in while its user is locked out from that address: it is no password guess', async () => {
    const { client, token } = await tokenOf(t, 'jack');
    const guesser = await t.connect();
    for (let i = 0; i < 3; i++) await guesser.login('jack', 'nope').catch(() => undefined);
    const locked = await guesser.login('jack', passwordOf('jack')).catch((e: ParleyRequestError) => e);
    assert.ok(locked instanceof ParleyRequestError);
    assert.equal(locked.code, 'LOCKED_OUT');
    assert.equal((await guesser.resume(token)).username, 'jack');
    guesser.close();
    client.close();
  });

  test('malformed token sign-ins are BAD_REQUEST with a clear reason', async () => {
    const socket = await rawSocket(t.url, 2);
    const cases: [unknown, RegExp][] = [
      [{ token: 'short' }, /43 characters of base64url/],
      [{ username: 'dave', password: 'dave-pw', token: 'A'.repeat(43) }, /a password or a token, not both/],
      [{ username: 'dave' }, /a password .* is required/],
      [{ password: 'dave-pw' }, /username: a username is required/],
    ];
    for (const [payload, reason] of cases) {
      const reply = await ask(socket, 'login', payload);
      assert.equal(reply.ok, false);
      if (!reply.ok) {
        assert.equal(reply.error.code, 'BAD_REQUEST');
        assert.match(reply.error.message, reason);
      }
    }
    socket.close();
  });

  test('a protocol 1 client signs in as before: no token in the reply, and a token sign-in is refused', async () => {
    const hashes = countHashes(t);
    const v1 = await rawSocket(t.url, 1);
    const reply = await ask(v1, 'login', { username: 'dave', password: passwordOf('dave') });
    assert.deepEqual(reply, { ok: true, username: 'dave', online: [] });
    assert.equal(hashes.count, 1);
    const sent = await ask(v1, 'message', { to: 'erin', body: 'from protocol 1' });
    assert.equal(sent.ok, true);
    v1.close();

    const { client, token } = await tokenOf(t, 'erin');
    const other = await rawSocket(t.url, 1);
    const refused = await ask(other, 'login', { token });
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.error.code, 'BAD_REQUEST');
      assert.match(refused.error.message, /needs protocol 2; this connection speaks 1/);
    }
    other.close();
    client.close();
  });

  test("logout revokes that session's token only; the idle sign-out keeps it", async () => {
    const { client: one, token: first } = await tokenOf(t, 'frank');
    const { client: two, token: second } = await tokenOf(t, 'frank');
    assert.notEqual(first, second);
    await one.logout();
    assert.equal((await resumeError(t, first)).code, 'INVALID_TOKEN');

    const idle = next(two, 'signedOut');
    t.clock.advance(DEFAULT_TIMINGS.idleTimeoutMs);
    assert.equal((await idle)[0].reason, 'idle');
    const back = await t.connect();
    assert.equal((await back.resume(second)).username, 'frank');
    back.close();
  });

  test("a password change and an account's removal revoke every token of the user", async () => {
    const a = await tokenOf(t, 'gina');
    const b = await tokenOf(t, 'gina');
    await t.server.accounts.setPassword('gina', 'new-pw');
    for (const { token } of [a, b]) assert.equal((await resumeError(t, token)).code, 'INVALID_TOKEN');

    const h = await tokenOf(t, 'hank');
    await t.server.accounts.remove('hank');
    // A new account of the same name is someone else: the old token must not sign them in.
    await t.server.accounts.add('hank', passwordOf('hank'));
    assert.equal((await resumeError(t, h.token)).code, 'INVALID_TOKEN');
    for (const c of [a.client, b.client, h.client]) c.close();
  });

  test('a token expires after its lifetime without use; each use moves the expiry ahead', async () => {
    const ttl = DEFAULT_TIMINGS.sessionTokenTtlMs;
    const { client, token } = await tokenOf(t, 'ivy');
    client.close();
    for (let i = 0; i < 2; i++) {
      t.clock.advance(ttl - 1000);
      const again = await t.connect();
      assert.equal((await again.resume(token)).tokenExpiresAt, t.clock.now + ttl);
      again.close();
    }
    t.clock.advance(ttl);
    assert.equal((await resumeError(t, token)).code, 'INVALID_TOKEN');
  });
});

describe('session tokens on disk and across restarts', () => {
  test(
    'a token is stored only as its SHA-256, and survives a restart: clients sign back in with it, without a password hash',
    { skip: ONE_PROCESS_ONLY },
    async (t) => {
      const first = await startServer({ users: ['alice', 'bob'] });
      t.after(() => {
        for (const c of first.clients) c.close();
      });
      const alice = await first.signIn('alice');
      const bob = await first.signIn('bob');
      const tokens = [alice.sessionToken!.token, bob.sessionToken!.token];
      await first.stop();

      const file = join(first.dataDir, 'parley.db');
      for (const path of [file, `${file}-wal`]) {
        if (!existsSync(path)) continue;
        const bytes = readFileSync(path);
        for (const token of tokens) assert.equal(bytes.includes(token), false, `${path} holds a token`);
      }
      const db = new Database(file);
      db.exec('PRAGMA locking_mode = EXCLUSIVE'); // a WAL database without shared memory opens only so (see sqlite-store.ts)
      const rows = db.all('SELECT token_hash, username FROM session_tokens ORDER BY username') as {
        token_hash: string;
        username: string;
      }[];
      db.close();
      assert.deepEqual(
        rows,
        tokens.map((token, i) => ({ token_hash: createHash('sha256').update(token).digest('base64url'), username: ['alice', 'bob'][i] })),
      );

      const second = await startServer({ dataDir: first.dataDir, port: first.port }, first.clock);
      t.after(() => second.close());
      const hashes = countHashes(second);
      await Promise.all([next(alice, 'resumed', () => true, 10_000), next(bob, 'resumed', () => true, 10_000)]);
      assert.equal(hashes.count, 0, 'nobody signed back in with a password');
      assert.equal((await alice.whoelse()).users.includes('bob'), true);
    },
  );

  test('when its token is refused on reconnect, the client signs in with the password and keeps the new token', async (t) => {
    const srv = await startServer({ users: ['alice'] });
    t.after(() => srv.close());
    const alice = await srv.signIn('alice');
    const old = alice.sessionToken!.token;
    const hashes = countHashes(srv);
    await srv.server.store.deleteSessionTokensOf('alice');

    const renewed = next(alice, 'token');
    const resumed = next(alice, 'resumed');
    (alice as unknown as { socket: Socket }).socket.io.engine.close();
    await resumed;
    const [token] = await renewed;
    assert.notEqual(token.token, old);
    assert.equal(alice.sessionToken?.token, token.token);
    assert.equal(hashes.count, 1);
  });
});

describe('session tokens and the sign-in rate', () => {
  test('a token sign-in costs no hash, but meets a sign-in rate per address of its own', { skip: PER_NODE_LIMIT }, async (t) => {
    const srv = await startServer({ users: ['alice'], signInLimits: { burst: 1, perSecond: 1e-9, tokenBurst: 3, tokenPerSecond: 1e-9 } });
    t.after(() => srv.close());
    const { token } = await tokenOf(srv, 'alice'); // the password's one attempt
    for (let i = 0; i < 3; i++) {
      const client = await srv.connect();
      assert.equal((await client.resume(token)).username, 'alice');
    }
    const raw = await rawSocket(srv.url, 2);
    t.after(() => raw.close());
    const reply = await ask(raw, 'login', { token });
    assert.equal(reply.ok, false);
    assert.equal(!reply.ok && reply.error.code, 'RATE_LIMITED');
  });
});

describe('the log under a flood of refused tokens', () => {
  test('each address gets 20 lines, then one line tells how many were held back', async (ctx) => {
    const lines: { message: string; fields?: Record<string, unknown> }[] = [];
    const capture = (message: string, fields?: Record<string, unknown>) => void lines.push({ message, ...(fields && { fields }) });
    const t = await startServer({ users: ['alice'], log: { debug: () => {}, info: () => {}, error: () => {}, warn: capture } });
    ctx.after(() => t.close());
    const socket = await rawSocket(t.url, 2);
    ctx.after(() => socket.close());
    for (let i = 0; i < 30; i++) {
      const reply = (await socket.emitWithAck('login', { token: 'A'.repeat(42) + String.fromCharCode(65 + (i % 26)) })) as Reply;
      assert.equal(!reply.ok && reply.error.code, 'INVALID_TOKEN');
    }
    const refused = (l: { message: string }) => l.message === 'refused session token';
    assert.equal(lines.filter(refused).length, 20);
    // The sweep tells what it held back each time it runs: the counts add up to the lines not written.
    const heldBack = () =>
      lines.filter((l) => l.message === 'refused session token: more lines held back').reduce((sum, l) => sum + Number(l.fields?.lines), 0);
    await eventually(() => heldBack() === 10, 5000, 'the lines held back to be told');
    assert.equal(lines.filter(refused).length, 20);
  });
});
