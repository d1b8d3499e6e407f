import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync, rmSync } from 'node:fs';
import { Accounts, parseCredentials } from '../src/server/accounts';
import { runningServerAdmin, serveAdmin, type AccountAdmin } from '../src/server/admin-socket';
import { silentLogger } from '../src/server/log';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import { collect, next, passwordOf, startServer, tempDir, TEST_SCRYPT, type TestServer } from './helpers/server';

test('a users command asks the running server once: the list that finds it answers a list right after', async (t) => {
  const dir = realpathSync(tempDir());
  const store = await openSqliteStore(dir);
  const accounts = await Accounts.open(store, TEST_SCRYPT, Date.now);
  const admin = await serveAdmin(dir, accounts, silentLogger);
  t.after(async () => {
    await admin?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let asked = 0;
  const list = accounts.list.bind(accounts);
  accounts.list = () => {
    asked++;
    return list();
  };

  const running = await runningServerAdmin(dir);
  assert.ok(running, 'the running server was not found');
  assert.deepEqual(await running.list(), []);
  assert.equal(asked, 1);

  // After a change the list is asked for again, and shows it.
  await running.add('dora', 'dora-pw');
  assert.deepEqual(
    (await running.list()).map((u) => u.username),
    ['dora'],
  );
  assert.equal(asked, 2);
});

/** A real server with its admin socket, as `parley-server` runs them, and the `users` side that finds it. */
async function serverWithAdmin(t: TestContext, users: string[]): Promise<{ t: TestServer; running: AccountAdmin }> {
  const server = await startServer({ users });
  const admin = await serveAdmin(realpathSync(server.dataDir), server.server.accounts, silentLogger);
  t.after(async () => {
    await admin?.close();
    await server.close();
  });
  const running = await runningServerAdmin(server.dataDir);
  assert.ok(running, 'the running server was not found');
  return { t: server, running };
}

test('admin.sock applies the sign-in password rule: empty and over-long passwords are refused, 256 characters is fine', async (t) => {
  const { t: server, running } = await serverWithAdmin(t, ['alice']);
  await assert.rejects(running.add('erin', ''), /a password is required/);
  await assert.rejects(running.add('erin', 'x'.repeat(4000)), /a password has at most 256 characters/);
  await assert.rejects(running.setPassword('alice', ''), /a password is required/);
  await assert.rejects(running.setPassword('alice', 'x'.repeat(257)), /a password has at most 256 characters/);
  assert.deepEqual(
    (await running.list()).map((u) => u.username),
    ['alice'],
    'no account was made',
  );
  // Alice's password is unchanged.
  (await server.signIn('alice')).close();

  const longest = 'p'.repeat(256);
  await running.add('erin', longest);
  const erin = await server.connect();
  await erin.login('erin', longest);

  // A credentials file is held to the same rule, line by line.
  const { entries, rejected } = parseCredentials(`frank ${'y'.repeat(257)}\ngina gina-pw\n`);
  assert.deepEqual(
    entries.map((e) => e.username),
    ['gina'],
  );
  assert.deepEqual(rejected, [{ line: 1, reason: 'a password has at most 256 characters' }]);
});

test('a password changed through admin.sock signs out every session of that user, and only theirs', async (t) => {
  const { t: server, running } = await serverWithAdmin(t, ['alice', 'bob']);
  const first = await server.signIn('alice');
  const second = await server.signIn('alice');
  const bob = await server.signIn('bob');
  const bobSignedOut = collect(bob, 'signedOut');
  const told = [next(first, 'signedOut'), next(second, 'signedOut')];
  const gone = next(bob, 'presence', (e) => e.username === 'alice' && !e.online);

  await running.setPassword('alice', 'new-alice-pw');
  for (const [event] of await Promise.all(told)) {
    assert.equal(event.reason, 'password-changed');
    assert.equal(event.message, 'Your password was changed.');
  }
  await gone;
  // The old sessions can no longer send; bob's session goes on.
  await assert.rejects(first.message('bob', 'still here?'));
  assert.equal((await bob.message('alice', 'hi')).online, false);
  assert.deepEqual(bobSignedOut, []);

  const again = await server.connect();
  await assert.rejects(again.login('alice', passwordOf('alice')), { code: 'INVALID_CREDENTIALS' });
  await again.login('alice', 'new-alice-pw');
});
