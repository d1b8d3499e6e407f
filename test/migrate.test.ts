import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Database } from 'node-sqlite3-wasm';
import pg from 'pg';
import type { ParleyClient } from '../src/client/parley-client';
import type { ChatMessage } from '../src/protocol';
import { hashToken } from '../src/server/session-tokens';
import { openPgStore } from '../src/server/store/pg-store';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import type { Store } from '../src/server/store/store';
import { openWorkerStore } from '../src/server/store/worker-store';
import { TOKENS } from './fixtures/schemas/contents';
import { POSTGRES_MISSING, usePostgres } from './helpers/postgres';
import { Program } from './helpers/processes';
import { collect, eventually, passwordOf, startServer, tempDir, type TestServer } from './helpers/server';

// `parley-server migrate` run as the program it is, from a single server's data directory into a PostgreSQL database of
// the tests' own PostgreSQL; then a server on that database must see what the single server saw.

const postgres = usePostgres();

/** Runs `parley-server migrate --from DIR --to URL` to its end. */
async function migrate(from: string, to: string): Promise<{ code: number | null; out: string; err: string }> {
  const p = new Program('src/server/main.ts', ['migrate', '--from', from, '--to', to]);
  p.end();
  const code = await p.exitCode(120_000);
  return { code, out: p.stdout, err: p.stderr };
}

/** A single server on SQLite, whatever store the test run puts servers on (the source of a migration is always SQLite). */
async function singleServer(users: string[], dataDir = tempDir()): Promise<TestServer> {
  return startServer({ users, dataDir, store: await openWorkerStore(dataDir) });
}

/** The same URL with a password, which the test's PostgreSQL (trust) ignores: it must never be printed. */
const withPassword = (url: string, password: string): string => url.replace('postgresql://parley@', `postgresql://parley:${password}@`);

/** Row counts of every table the copy fills, read straight from the database. */
async function tableCounts(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    const tables = ['users', 'blocks', 'session_tokens', 'channels', 'channel_members', 'messages', 'deliveries', 'pending', 'mentions'];
    for (const table of [...tables, 'read_positions']) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      counts[table] = Number(rows[0]!.n);
    }
    const { rows } = await client.query<{ value: string }>("SELECT value FROM counters WHERE name = 'messages'");
    counts['message counter'] = Number(rows[0]!.value);
    return counts;
  } finally {
    await client.end();
  }
}

const byWith = <T extends { with: string | null }>(states: T[]): T[] =>
  [...states].sort((a, b) => (a.with ?? '').localeCompare(b.with ?? ''));

/**
 * What every Store method gives back is the same from both stores: accounts (ids, hashes, times), blocks, channels with members,
 * and for each account its pending messages, history (also with each other account), read positions and channel states,
 * each channel's history, and the session tokens `tokens` (as clients hold them).
 */
async function assertSameStores(sqlite: Store, pgStore: Store, tokens: string[]): Promise<void> {
  const users = await sqlite.listUsers();
  assert.deepEqual(await pgStore.listUsers(), users, 'accounts');
  assert.deepEqual(await pgStore.listBlocks(), await sqlite.listBlocks(), 'blocks');
  const channels = await sqlite.listChannels();
  assert.deepEqual(await pgStore.listChannels(), channels, 'channels');
  for (const channel of channels) {
    const query = { limit: 10_000, hidden: [] };
    assert.deepEqual(await pgStore.channelHistory(channel.id, query), await sqlite.channelHistory(channel.id, query), `#${channel.name}`);
  }
  for (const { username } of users) {
    assert.deepEqual(await pgStore.pendingFor(username), await sqlite.pendingFor(username), `${username}'s pending messages`);
    assert.deepEqual(await pgStore.history(username, { limit: 10_000 }), await sqlite.history(username, { limit: 10_000 }));
    for (const other of users) {
      const query = { with: other.username, limit: 10_000 };
      assert.deepEqual(await pgStore.history(username, query), await sqlite.history(username, query), `${username} with ${other.username}`);
    }
    assert.deepEqual(byWith(await pgStore.directStates(username)), byWith(await sqlite.directStates(username)), `${username}'s directs`);
    assert.deepEqual(await pgStore.channelStates(username, []), await sqlite.channelStates(username, []), `${username}'s channels`);
  }
  for (const token of tokens)
    assert.deepEqual(await pgStore.getSessionToken(hashToken(token)), await sqlite.getSessionToken(hashToken(token)));
}

/** Both stores of a migration, compared, then closed (the SQLite one releases the data directory). */
async function assertMigrated(dataDir: string, url: string, tokens: string[]): Promise<void> {
  const sqlite = await openSqliteStore(dataDir);
  const pgStore = await openPgStore(url);
  try {
    await assertSameStores(sqlite, pgStore, tokens);
  } finally {
    await sqlite.close();
    await pgStore.close();
  }
}

/** Every page of a history request, newest first, as a client walks back through it. */
async function pages(client: ParleyClient, query: { with?: string; channel?: string }): Promise<ChatMessage[][]> {
  const found: ChatMessage[][] = [];
  for (let before: number | undefined; ;) {
    const page = await client.history({ ...query, limit: 2, ...(before !== undefined && { before }) });
    found.push(page.messages);
    if (!page.more || page.messages.length === 0) return found;
    before = query.channel === undefined ? page.messages[0]!.id : page.messages[0]!.seq;
  }
}

/**
 * What a signed-in user sees, through requests that change nothing: conversations, and every page of each one's history
 * (but the direct conversations with accounts since removed, which history refuses).
 */
async function viewOf(client: ParleyClient, removed: string[] = ['mallory']): Promise<unknown> {
  const { channels, directs, broadcasts } = await client.request('conversations', {});
  const sortedChannels = [...channels].sort((a, b) => a.name.localeCompare(b.name));
  const sortedDirects = byWith(directs);
  return {
    channels: sortedChannels,
    directs: sortedDirects,
    broadcasts,
    history: await pages(client, {}),
    channelPages: await Promise.all(sortedChannels.map((c) => pages(client, { channel: c.name }))),
    directPages: await Promise.all(sortedDirects.filter((d) => !removed.includes(d.with!)).map((d) => pages(client, { with: d.with! }))),
    blocklist: await client.blocklist(),
  };
}

describe('parley-server migrate', { skip: POSTGRES_MISSING }, () => {
  test('a server on PostgreSQL sees what the single server saw: replay, history, channels, sign-in, tokens, blocks, ids', async (t) => {
    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory'];
    const single = await singleServer(users);
    t.after(() => single.close());
    const store = single.server.store;
    const alice = await single.signIn('alice');
    const erin = await single.signIn('erin');
    const bob = await single.signIn('bob');
    const carol = await single.signIn('carol');
    const mallory = await single.signIn('mallory');

    await bob.block('dave');
    await alice.request('createchannel', { name: 'design', topic: 'sketches' });
    await bob.request('join', { channel: 'design' });
    await alice.request('createchannel', { name: 'plans', private: true });
    await alice.request('invite', { channel: 'plans', username: 'carol' });
    const acknowledged = await alice.message('bob', 'seen by bob');
    await eventually(async () => (await store.pendingFor('bob')).length === 0, 3000, "bob's acknowledgement");
    await mallory.message('alice', 'from an account about to go');
    await mallory.post('general', 'mallory was here');
    const carolToken = carol.sessionToken?.token;
    assert.ok(carolToken, 'carol has a session token');
    bob.close();
    carol.close();
    mallory.close();
    await eventually(async () => (await store.getUser('bob'))?.lastSeen !== null, 3000, "bob's last-seen time");
    assert.ok(await single.server.accounts.remove('mallory'));

    // While bob and carol are away: direct messages and a broadcast wait for them; posts mention them.
    const waiting = [await alice.message('bob', 'first while away'), await erin.message('bob', 'second while away')];
    // Named: a broadcast to everyone reaches only who is online.
    const shout = await alice.broadcast('everyone: standup moved', ['bob', 'carol', 'erin']);
    await alice.post('design', '@bob the second sketch?');
    await alice.post('design', 'and the third');
    await alice.post('plans', '@carol offsite on the 12th');
    await erin.post('general', 'morning @bob');
    await eventually(async () => (await store.pendingFor('erin')).length === 0, 3000, "erin's acknowledgement of the broadcast");
    await erin.request('read', { conversation: { broadcasts: true }, upTo: shout.id });
    await alice.request('read', { conversation: { channel: 'design' }, upTo: 1 });

    const before = { alice: await viewOf(alice), erin: await viewOf(erin) };
    const lastId = shout.id + 4; // the four posts after the broadcast
    for (const client of [alice, erin]) client.close();
    await single.stop();

    const url = await postgres.createDatabase();
    const password = 'migrate-Secret-7';
    const run = await migrate(single.dataDir, withPassword(url, password));
    assert.equal(run.code, 0, run.err);
    assert.ok(!`${run.out}${run.err}`.includes(password), 'the password is never printed');
    assert.match(run.out, /into postgresql:\/\/parley:\*\*\*@/);
    assert.match(run.out, /^ {2}messages: 10 of 10$/m);
    assert.match(run.out, /: users 5, .*messages 10, .*New messages take ids from 11\.$/m);
    assert.doesNotMatch(run.out, /scrypt|\$|seen by bob|standup/, 'no password hash or message text in the output');
    await assertMigrated(single.dataDir, url, [carolToken]);

    const cluster = await startServer({ store: await openPgStore(url) });
    t.after(() => cluster.close());
    // The same view, request for request, for those who were signed in.
    assert.deepEqual(await viewOf(await cluster.signIn('alice')), before.alice, "alice's view");
    assert.deepEqual(await viewOf(await cluster.signIn('erin')), before.erin, "erin's view");

    // bob replays exactly what waited for him, with the ids it was acknowledged with, and sees his unread mentions.
    const bobAgain = await cluster.connect();
    const replayed = collect(bobAgain, 'message');
    await bobAgain.login('bob', passwordOf('bob'));
    await eventually(() => replayed.length >= 3, 3000, "bob's replay");
    assert.deepEqual(
      replayed.map(([m]) => [m.id, m.from, m.body]),
      [
        [waiting[0]!.id, 'alice', 'first while away'],
        [waiting[1]!.id, 'erin', 'second while away'],
        [shout.id, 'alice', 'everyone: standup moved'],
      ],
    );
    assert.ok(!replayed.some(([m]) => m.id === acknowledged.id), 'what bob acknowledged is not replayed');
    const { channels } = await bobAgain.request('conversations', {});
    const bobDesign = channels.find((c) => c.name === 'design')!;
    assert.deepEqual([bobDesign.unread, bobDesign.mentions], [2, 1], "bob's #design: two unread, one mentioning him");
    const bobGeneral = channels.find((c) => c.name === 'general')!;
    assert.deepEqual([bobGeneral.unread, bobGeneral.mentions], [2, 1], "bob's #general: mallory's and erin's posts");

    // carol signs in with the session token the single server gave her, and finds her private channel.
    const carolAgain = await cluster.connect();
    const carolGot = collect(carolAgain, 'message');
    assert.equal((await carolAgain.resume(carolToken)).username, 'carol');
    await eventually(() => carolGot.length >= 1, 3000, "carol's replay");
    assert.deepEqual(
      carolGot.map(([m]) => m.id),
      [shout.id],
    );
    const plans = (await carolAgain.request('conversations', {})).channels.find((c) => c.name === 'plans')!;
    assert.deepEqual([plans.private, plans.unread, plans.mentions], [true, 1, 1]);

    // Blocks hold; new ids and seqs continue after the copied ones; new accounts and channels take new ids.
    const dave = await cluster.signIn('dave');
    await assert.rejects(dave.message('bob', 'still blocked?'), { code: 'BLOCKED' });
    const sent = await bobAgain.message('alice', 'back on the cluster');
    assert.equal(sent.id, lastId + 1, 'the next id after the copied ones');
    const posted = await bobAgain.post('design', 'the next one');
    assert.equal(posted.seq, 3);
    await cluster.server.accounts.add('mallory', passwordOf('mallory'));
    const newMallory = await cluster.signIn('mallory');
    assert.deepEqual((await newMallory.history()).messages, [], 'a new account of a removed name inherits none of its messages');
    await newMallory.request('createchannel', { name: 'fresh' });
    const ids = (await cluster.server.store.listUsers()).map((u) => u.id);
    assert.equal(Math.max(...ids), (await cluster.server.store.getUser('mallory'))!.id, "the new account's id follows the copied ones");
  });

  test('copies a history larger than a slice, every row once', async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store = await openSqliteStore(dir);
    const count = 12_345; // two full slices of 5,000 and a part
    try {
      await store.putUser('alice', 'hash-a', 1);
      await store.putUser('bob', 'hash-b', 2);
      const saved = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          store.saveMessage({ from: 'alice', kind: 'direct', body: `m${i}`, sentAt: i, recipients: ['bob'] }),
        ),
      );
      // Every other one acknowledged: both tables cross slice boundaries.
      await store.markDelivered([{ recipient: 'bob', ids: saved.filter((_, i) => i % 2 === 0).map((s) => s.message.id) }]);
    } finally {
      await store.close();
    }
    const url = await postgres.createDatabase();
    const run = await migrate(dir, url);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, new RegExp(`^  messages: ${count} of ${count}$`, 'm'));
    const counts = await tableCounts(url);
    assert.deepEqual(
      [counts['messages'], counts['deliveries'], counts['pending'], counts['message counter']],
      [count, 6_173, 6_172, count],
    );
    await assertMigrated(dir, url, []);
  });

  test('refuses a target that holds data, naming it, and leaves it as it was', async (t) => {
    const first = await singleServer(['alice', 'bob']);
    t.after(() => first.close());
    await (await first.signIn('alice')).message('bob', 'hello');
    await first.stop();
    const url = await postgres.createDatabase();
    assert.equal((await migrate(first.dataDir, url)).code, 0);
    const copied = await tableCounts(url);

    const second = await singleServer(['carol']);
    t.after(() => second.close());
    await second.stop();
    const password = 'not-empty-Secret-3';
    const refused = await migrate(second.dataDir, withPassword(url, password));
    assert.equal(refused.code, 1);
    assert.match(refused.err, /the target database is not empty \(it holds users 2, .*messages 1, pending deliveries 1\)/);
    assert.ok(!`${refused.out}${refused.err}`.includes(password), 'the password is never printed');
    assert.deepEqual(await tableCounts(url), copied, 'the target is as it was');
  });

  test('a copy that fails half way leaves nothing in the target', async (t) => {
    const single = await singleServer(['alice', 'bob']);
    t.after(() => single.close());
    const alice = await single.signIn('alice');
    await alice.post('general', '@bob hello');
    alice.close();
    await single.stop();
    // A mention of a message that is not there: PostgreSQL refuses it, after the users, channels and messages went in.
    const db = new Database(path.join(single.dataDir, 'parley.db'));
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA foreign_keys = OFF');
    db.run("INSERT INTO mentions (message_id, username, channel_id, seq) VALUES (999, 'bob', 1, 9)");
    db.close();

    const url = await postgres.createDatabase();
    const failed = await migrate(single.dataDir, url);
    assert.equal(failed.code, 1);
    assert.match(failed.err, /mentions/);
    const counts = await tableCounts(url);
    assert.deepEqual(
      counts,
      { ...Object.fromEntries(Object.keys(counts).map((k) => [k, 0])), channels: 1 },
      'only the schema and its #general',
    );
  });

  test('refuses a running server’s data directory, a directory with no database, and a URL that is not PostgreSQL’s', async (t) => {
    const running = await singleServer(['alice']);
    t.after(() => running.close());
    const url = await postgres.createDatabase();
    const busy = await migrate(running.dataDir, url);
    assert.equal(busy.code, 1);
    assert.match(busy.err, /a Parley server \(process \d+\) is running on .*: stop it before migrating/);

    const missing = path.join(tempDir(), 'nothing-here');
    const none = await migrate(missing, url);
    assert.equal(none.code, 1);
    assert.match(none.err, /there is no Parley database in .*nothing-here/);
    assert.ok(!fs.existsSync(missing), 'no directory is made');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
    await client.end();
    assert.equal(rows[0].n, 0, 'the target was not touched');

    const notPostgres = await migrate(running.dataDir, 'mysql://root:wrong-Secret-1@db/parley');
    assert.equal(notPostgres.code, 2);
    assert.match(notPostgres.err, /--to must be a postgres:\/\/ URL, not mysql:\/\/root:\*\*\*@db\/parley/);
    assert.ok(!notPostgres.err.includes('wrong-Secret-1'));
  });
});

const FIXTURES = fileURLToPath(new URL('fixtures/schemas/', import.meta.url));

describe('parley-server migrate from a database of each schema version', { skip: POSTGRES_MISSING }, () => {
  for (const name of fs.readdirSync(FIXTURES).filter((f) => /^v\d+\.db$/.test(f))) {
    test(`${name}: brought up to date as a server start would, then copied with all it holds`, async (t: TestContext) => {
      const dir = tempDir('parley-migrate-');
      t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
      fs.copyFileSync(path.join(FIXTURES, name), path.join(dir, 'parley.db'));
      const url = await postgres.createDatabase();
      const run = await migrate(dir, url);
      assert.equal(run.code, 0, run.err);
      await assertMigrated(
        dir,
        url,
        TOKENS.map((t) => t.token),
      );
    });
  }
});
