import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { Database } from 'node-sqlite3-wasm';
import { ParleyClient } from '../src/client/parley-client';
import { GENEROUS_RATES, stateOf } from './helpers/channels';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import { Program } from './helpers/processes';
import { freshStore, storeKinds } from './helpers/stores';
import { ONE_PROCESS_ONLY, startServer, tempDir, type TestServer } from './helpers/server';

/** Every row of every table in a stopped server's database file, but session tokens (each sign-in stores one). */
function rowsIn(dataDir: string): number {
  const db = new Database(join(dataDir, 'parley.db'));
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE'); // a WAL database without shared memory opens only so (see sqlite-store.ts)
    const tables = db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'session_tokens'") as { name: string }[];
    return tables.reduce((sum, { name }) => sum + Number((db.all(`SELECT count(*) AS n FROM "${name}"`) as { n: number }[])[0]?.n), 0);
  } finally {
    db.close();
  }
}

/** Rows written to the database by one post of `alice` to `channel`: a server is started on `dataDir` and stopped around it. */
async function rowsWrittenByPost(dataDir: string, channel: string, body: string): Promise<number> {
  const before = rowsIn(dataDir);
  const t = await startServer({ dataDir, ...GENEROUS_RATES });
  const alice = await t.signIn('alice');
  await alice.post(channel, body);
  alice.close();
  await t.stop();
  return rowsIn(dataDir) - before;
}

for (const kind of storeKinds()) {
  test(
    `${kind.name}: removing the last member of a private channel deletes it, also with no server running`,
    { skip: kind.skip },
    async (t) => {
      const { store } = await freshStore(t, kind);
      for (const user of ['alice', 'carol']) await store.putUser(user, `hash-${user}`, 1);
      const alone = await store.createChannel({ name: 'carol-only', topic: '', private: true, creator: 'carol', createdAt: 2 });
      const shared = await store.createChannel({ name: 'shared', topic: '', private: true, creator: 'carol', createdAt: 3 });
      await store.addMember(shared!, 'alice');
      await store.post({ from: 'carol', channelId: alone!, body: 'a note to self', sentAt: 4, mentions: [] });
      await store.removeUser('carol');
      assert.deepEqual(
        (await store.listChannels()).map((c) => [c.name, c.creator, c.members]),
        [
          ['general', null, []],
          ['shared', null, ['alice']],
        ],
      );
      assert.notEqual(
        await store.createChannel({ name: 'carol-only', topic: '', private: false, creator: 'alice', createdAt: 5 }),
        undefined,
      );
    },
  );
}

describe('channel messages in the store', () => {
  test('a post writes as many rows in a channel of 200 members as in one of 10', { skip: ONE_PROCESS_ONLY }, async () => {
    const users = Array.from({ length: 200 }, (_, i) => (i === 0 ? 'alice' : `user${i}`));
    const setup: TestServer = await startServer({ users, ...GENEROUS_RATES });
    const alice = await setup.signIn('alice');
    for (const [name, size] of [
      ['ten', 10],
      ['two-hundred', 200],
    ] as const) {
      await alice.request('createchannel', { name });
      for (const user of users.slice(1, size)) await alice.request('invite', { channel: name, username: user });
      assert.equal((await alice.request('members', { channel: name })).members.length, size);
    }
    alice.close();
    await setup.stop();

    const small = await rowsWrittenByPost(setup.dataDir, 'ten', 'plain');
    const large = await rowsWrittenByPost(setup.dataDir, 'two-hundred', 'plain');
    assert.equal(small, 1, 'one row: the message');
    assert.equal(large, small);
    // A mention is a row per member mentioned, not per member.
    const mentionSmall = await rowsWrittenByPost(setup.dataDir, 'ten', 'hey @user1 and @user2');
    const mentionLarge = await rowsWrittenByPost(setup.dataDir, 'two-hundred', 'hey @user1 and @user2');
    assert.equal(mentionSmall, 3);
    assert.equal(mentionLarge, mentionSmall);
    await (await startServer({ dataDir: setup.dataDir })).close();
  });

  test('a database of an older schema gets #general with every account a member, and keeps its conversations', async () => {
    // The users and messages of test/fixtures/parley-schema-2.db are described in store.test.ts.
    const dir = tempDir();
    copyFileSync(fileURLToPath(new URL('fixtures/parley-schema-2.db', import.meta.url)), join(dir, 'parley.db'));
    const store = await openSqliteStore(dir);
    try {
      const [general, ...others] = await store.listChannels();
      assert.deepEqual(others, []);
      assert.deepEqual([general?.name, general?.private, general?.creator, general?.lastSeq], ['general', false, null, 0]);
      for (const user of ['alice', 'bob', 'carol']) {
        assert.deepEqual(
          (await store.channelStates(user, [user])).map((c) => [c.channelId, c.unread]),
          [[general?.id, 0]],
          `${user} is a member of #general`,
        );
      }
      const alice = await store.directStates('alice');
      assert.deepEqual(
        alice.map((d) => [d.with, d.readId, d.unread]),
        [
          [null, 3, 0],
          ['bob', 0, 1],
          ['dave', 4, 0],
        ],
        "alice's conversations from before: what she acknowledged (a broadcast, the old dave's message) is read, bob's waits",
      );
      await store.putUser('erin', 'hash-erin', 700);
      assert.equal((await store.channelStates('erin', ['erin'])).length, 1, 'a new account joins #general');
    } finally {
      await store.close();
    }
  });

  test('a channel message survives kill -9 of the server process once acknowledged', { skip: ONE_PROCESS_ONLY }, async () => {
    const dataDir = tempDir();
    const setup = await startServer({ users: ['alice', 'bob'], dataDir });
    const bob = await setup.signIn('bob');
    const alice = await setup.signIn('alice');
    await alice.request('createchannel', { name: 'durable' });
    await bob.request('join', { channel: 'durable' });
    alice.close();
    bob.close();
    await setup.stop();

    const program = new Program('test/fixtures/server-process.ts', [dataDir]);
    const [, url = ''] = await program.waitFor(/^url (\S+)$/m);
    const poster = new ParleyClient(url, { socket: { reconnection: false } });
    await poster.connect();
    await poster.login('alice', 'alice-pw');
    const posted = await poster.post('durable', 'kept through a crash');
    program.kill('SIGKILL');
    const { signal } = await program.exited;
    assert.equal(signal, 'SIGKILL');
    poster.close();

    const after = await startServer({ dataDir });
    const reader = await after.signIn('bob');
    const state = await stateOf(reader, 'durable');
    assert.deepEqual([state?.lastSeq, state?.unread], [1, 1]);
    const { messages } = await reader.request('history', { channel: 'durable' });
    assert.deepEqual(
      messages.map((m) => [m.id, m.seq, m.body]),
      [[posted.id, 1, 'kept through a crash']],
    );
    // The next post continues the channel's seq.
    const alice2 = await after.signIn('alice');
    assert.equal((await alice2.post('durable', 'next')).seq, 2);
    await after.close();
  });
});
