import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ParleyClient } from '../src/client/parley-client';
import type { ChatMessage } from '../src/protocol';
import { verifyPassword } from '../src/server/passwords';
import { hashToken } from '../src/server/session-tokens';
import { MIGRATIONS } from '../src/server/store/sqlite-migrations';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import { BLOCKS, MESSAGES, TOKENS, TOKENS_SINCE, USERS, type FixtureMessage } from './fixtures/schemas/contents';
import { userVersion } from './fixtures/schemas/user-version';
import { collect, eventually, startServer, tempDir } from './helpers/server';

// Each test/fixtures/schemas/vN.db was written by the commit that introduced schema version N (see the README
// there); whatever the newest schema is, every one of them must open in it with all it held.

const FIXTURES = fileURLToPath(new URL('fixtures/schemas/', import.meta.url));

const fixtures = fs
  .readdirSync(FIXTURES)
  .flatMap((name) => {
    const match = /^v(\d+)\.db$/.exec(name);
    return match ? [{ version: Number(match[1]), file: path.join(FIXTURES, name) }] : [];
  })
  .sort((a, b) => a.version - b.version);

/** A fixture message as the store gives it back: saved in order into an empty database, so the i-th has id i + 1. */
const stored = (m: FixtureMessage): ChatMessage => ({
  id: MESSAGES.indexOf(m) + 1,
  from: m.from,
  to: m.kind === 'direct' ? m.recipients[0]! : null,
  kind: m.kind,
  body: m.body,
  sentAt: m.sentAt,
});

const pendingOf = (user: string): ChatMessage[] =>
  MESSAGES.filter((m) => m.recipients.includes(user) && !m.acknowledgedBy.includes(user)).map(stored);
const historyOf = (user: string): ChatMessage[] => MESSAGES.filter((m) => m.from === user || m.recipients.includes(user)).map(stored);
const conversation = (a: string, b: string): ChatMessage[] =>
  MESSAGES.filter((m) => m.kind === 'direct' && [m.from, m.recipients[0]].sort().join() === [a, b].sort().join()).map(stored);
const hasTokens = (version: number): boolean => version >= TOKENS_SINCE;

/** A data directory holding a copy of the fixture, removed after the test. */
function copyOf(t: TestContext, file: string): string {
  const dir = tempDir('parley-schema-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(file, path.join(dir, 'parley.db'));
  return dir;
}

test('every schema version has a fixture database, written by that version', () => {
  assert.deepEqual(
    fixtures.map((f) => f.version),
    MIGRATIONS.map((_, i) => i + 1),
    'write the missing ones as test/fixtures/schemas/README.md says',
  );
  for (const { version, file } of fixtures) assert.equal(userVersion(file), version, file);
});

for (const { version, file } of fixtures) {
  describe(`a database written by schema version ${version}`, () => {
    test('opens in the current store with every user, message, pending delivery, block and token', async (t) => {
      const dir = copyOf(t, file);
      const store = await openSqliteStore(dir);
      try {
        const users = await store.listUsers();
        assert.deepEqual(
          users.map(({ username, createdAt, lastSeen }) => ({ username, createdAt, lastSeen })),
          USERS.map(({ username, createdAt, lastSeen }) => ({ username, createdAt, lastSeen })),
        );
        assert.equal(new Set(users.map((u) => u.id)).size, USERS.length, 'each account has an id of its own');
        for (const { username, password } of USERS) {
          const user = users.find((u) => u.username === username)!;
          assert.ok(await verifyPassword(password, user.passwordHash), `${username}'s password still checks`);
          assert.deepEqual(await store.pendingFor(username), pendingOf(username), `${username}'s pending messages`);
          assert.deepEqual(await store.history(username, { limit: 100 }), historyOf(username), `${username}'s history`);
          for (const other of USERS) {
            if (other.username === username) continue;
            assert.deepEqual(await store.history(username, { with: other.username, limit: 100 }), conversation(username, other.username));
          }
        }
        for (const m of MESSAGES) assert.deepEqual(await store.findSent(m.from, m.clientMsgId), stored(m), `${m.from}'s ${m.clientMsgId}`);
        assert.deepEqual(await store.listBlocks(), BLOCKS);
        for (const { token, ...record } of TOKENS) {
          const kept = await store.getSessionToken(hashToken(token));
          assert.deepEqual(kept, hasTokens(version) ? { tokenHash: hashToken(token), ...record } : undefined);
        }
      } finally {
        await store.close();
      }
      assert.equal(userVersion(path.join(dir, 'parley.db')), MIGRATIONS.length, 'migrated to the newest schema');
    });

    test('serves its users on a real server: sign-in, replay, history, blocks and session tokens', async (t) => {
      const srv = await startServer({ dataDir: copyOf(t, file) });
      t.after(() => srv.close());
      const clients = new Map<string, ParleyClient>();
      for (const { username, password } of USERS) {
        const client = await srv.connect();
        const arrived = collect(client, 'message');
        await client.login(username, password);
        const expected = pendingOf(username);
        await eventually(() => arrived.length >= expected.length, 3000, `${username}'s replay`);
        assert.deepEqual(
          arrived.map(([m]) => m),
          expected,
          `${username}'s pending messages are replayed`,
        );
        assert.deepEqual((await client.history()).messages, historyOf(username), `${username}'s history`);
        clients.set(username, client);
      }

      for (const { blocker, blocked } of BLOCKS) {
        const blocks = BLOCKS.filter((b) => b.blocker === blocker).map((b) => b.blocked);
        assert.deepEqual((await clients.get(blocker)!.blocklist()).users, blocks);
        await assert.rejects(clients.get(blocked)!.message(blocker, 'still blocked?'), { code: 'BLOCKED' });
      }
      const sent = await clients.get('alice')!.message('bob', 'after the upgrade');
      assert.ok(sent.id > MESSAGES.length, 'new messages take ids after the old ones');

      if (hasTokens(version)) {
        for (const { token, username } of TOKENS) {
          const client = await srv.connect();
          assert.equal((await client.resume(token)).username, username, `${username}'s session token signs in`);
        }
      }
    });
  });
}
