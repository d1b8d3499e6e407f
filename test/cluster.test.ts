import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { startCluster, type TestCluster } from './helpers/cluster';
import { POSTGRES_MISSING, usePostgres } from './helpers/postgres';
import { channelMessages } from './helpers/channels';
import { collect, eventually, next, passwordOf, startServer, tempDir } from './helpers/server';

usePostgres();

describe('cluster mode: three nodes on one PostgreSQL', { skip: POSTGRES_MISSING }, () => {
  let cluster: TestCluster;
  after(() => cluster?.close());

  test('a direct message from a user on one node reaches a user on another, live and in order', async () => {
    cluster = await startCluster({ users: ['alice', 'bob', 'carol'] });
    const alice = await cluster.signIn('alice', 0);
    const bob = await cluster.signIn('bob', 1);
    const got = collect(bob, 'message');
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push((await alice.message('bob', `hello ${i}`)).id);
    await eventually(() => got.length === 20, 5000, 'twenty messages on the other node');
    assert.deepEqual(
      got.map(([m]) => m.id),
      ids,
    );
    assert.deepEqual(
      got.map(([m]) => m.body),
      ids.map((_, i) => `hello ${i}`),
    );
  });

  test('presence crosses nodes: whoelse, sign-in and sign-out events', async () => {
    const carol = await cluster.signIn('carol', 2);
    const alice = cluster.nodes[0]!.clients.find((c) => c.username === 'alice')!;
    // Another node hears of a sign-in a moment later, through the database.
    await eventually(async () => (await alice.whoelse()).users.includes('carol'), 3000, 'carol online for alice');
    const gone = next(alice, 'presence', (e) => e.username === 'carol' && !e.online);
    await carol.logout();
    await gone;
    assert.ok(!(await alice.whoelse()).users.includes('carol'));
  });

  test('a block made on one node holds on the others, and hides presence there at once', async () => {
    const bob = cluster.nodes[1]!.clients.find((c) => c.username === 'bob')!;
    const alice = cluster.nodes[0]!.clients.find((c) => c.username === 'alice')!;
    const hidden = next(bob, 'presence', (e) => e.username === 'alice' && !e.online);
    await alice.block('bob');
    await hidden;
    await eventually(
      async () => {
        const refused = await bob.request('message', { to: 'alice', body: 'let me in' }).catch((err: Error) => err);
        return refused instanceof Error && /blocked you/.test(refused.message);
      },
      3000,
      "bob's node to refuse his message",
    );
    await alice.unblock('bob');
    await eventually(async () => (await bob.whoelse()).users.includes('alice'), 3000, 'alice shown to bob again');
    assert.equal((await bob.message('alice', 'thanks')).online, true);
  });

  test('channels: a post on one node reaches members on the others live, and joins and topics are told', async () => {
    const [alice, bob] = [0, 1].map((i) => cluster.nodes[i]!.clients.find((c) => c.username === (i ? 'bob' : 'alice'))!);
    const carol = await cluster.signIn('carol', 2);
    const created = await alice!.request('createchannel', { name: 'ops', topic: 'servers' });
    assert.equal(created.channel.name, 'ops');
    const joined = next(alice!, 'channel', (e) => e.change === 'joined' && e.username === 'bob');
    await eventually(
      async () =>
        await bob!
          .request('join', { channel: 'ops' })
          .then(() => true)
          .catch(() => false),
      3000,
      'bob to join #ops',
    );
    await joined;
    const got = collect(bob!, 'message');
    const general = collect(carol, 'message');
    for (let i = 0; i < 5; i++) await alice!.post('ops', `deploy ${i}`);
    await alice!.post('general', 'to everyone');
    await eventually(() => channelMessages(got, 'ops').length === 5, 5000, '#ops posts on the other node');
    assert.deepEqual(
      channelMessages(got, 'ops').map((m) => m.seq),
      [1, 2, 3, 4, 5],
    );
    await eventually(() => channelMessages(general, 'general').length === 1, 5000, "#general's post on a third node");
    const topic = next(bob!, 'channel', (e) => e.change === 'topic' && e.topic === 'databases');
    await alice!.request('topic', { channel: 'ops', topic: 'databases' });
    await topic;
    assert.equal((await bob!.request('channels', {})).channels.find((c) => c.name === 'ops')?.topic, 'databases');
  });

  test('a removed account is signed out on every node, and a new one is known to all', async () => {
    const dave = 'dave';
    await cluster.nodes[2]!.server.accounts.add(dave, passwordOf(dave));
    await eventually(() => cluster.nodes.every((n) => n.server.accounts.has(dave)), 3000, 'every node to know dave');
    const onNode0 = await cluster.signIn(dave, 0);
    const onNode1 = await cluster.signIn(dave, 1);
    const told = [next(onNode0, 'signedOut'), next(onNode1, 'signedOut')];
    await cluster.nodes[2]!.server.accounts.remove(dave);
    const reasons = (await Promise.all(told)).map(([e]) => e.reason);
    assert.deepEqual(reasons, ['account-removed', 'account-removed']);
    await eventually(() => cluster.nodes.every((n) => !n.server.accounts.has(dave)), 3000, 'every node to forget dave');
  });

  test('a node that stops takes its users offline on the others', async () => {
    const extra = await startServer({ cluster: { url: cluster.url }, dataDir: tempDir() }, cluster.nodes[0]!.clock);
    const alice = cluster.nodes[0]!.clients.find((c) => c.username === 'alice')!;
    const erin = 'erin';
    await extra.server.accounts.add(erin, passwordOf(erin));
    await extra.signIn(erin);
    await eventually(async () => (await alice.whoelse()).users.includes(erin), 3000, 'erin online');
    const gone = next(alice, 'presence', (e) => e.username === erin && !e.online);
    await extra.close();
    await gone;
    assert.ok(!(await alice.whoelse()).users.includes(erin));
  });

  test('acknowledgements the database refused for a moment are stored once it takes them again', async (t) => {
    for (const user of ['frank', 'gina']) await cluster.nodes[0]!.server.accounts.add(user, passwordOf(user));
    await eventually(() => cluster.nodes.every((n) => n.server.accounts.has('frank')), 3000, 'every node to know frank');
    const gina = await cluster.signIn('gina', 0);
    const frank = await cluster.signIn('frank', 1);
    const db = new pg.Client({ connectionString: cluster.url });
    await db.connect();
    const waiting = async (): Promise<number> =>
      Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM pending WHERE recipient = 'frank'")).rows[0]!.n);
    // A fault in the database itself: while ack_fault has a row, no pending row can be deleted.
    await db.query(`
      CREATE TABLE ack_fault (since BIGINT);
      CREATE FUNCTION ack_fault() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM ack_fault) THEN RAISE EXCEPTION 'the test refuses acknowledgements'; END IF;
          RETURN OLD;
        END $$;
      CREATE TRIGGER ack_fault BEFORE DELETE ON pending FOR EACH ROW EXECUTE FUNCTION ack_fault();
      INSERT INTO ack_fault VALUES (0);`);
    t.after(async () => {
      await db.query('DROP TRIGGER ack_fault ON pending; DROP FUNCTION ack_fault(); DROP TABLE ack_fault');
      await db.end();
    });
    const got = collect(frank, 'message');
    for (let i = 0; i < 3; i++) await gina.message('frank', `through a bad moment ${i}`);
    await eventually(() => got.length === 3, 5000, 'frank to get the three messages');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // his acknowledgements come, and fail
    assert.equal(await waiting(), 3, 'his acknowledgements were refused');
    await db.query('DELETE FROM ack_fault');
    await eventually(async () => (await waiting()) === 0, 10_000, 'his acknowledgements to be stored after all');
  });

  test('three wrong passwords spread over nodes A, B, A lock the user out on every node', async () => {
    const tries = [0, 1, 0].map((node) => cluster.nodes[node]!);
    for (const node of tries) {
      const client = await node.connect();
      await assert.rejects(client.login('bob', 'not-his-password'));
    }
    for (const node of cluster.nodes) {
      const client = await node.connect();
      await assert.rejects(client.login('bob', passwordOf('bob')), (err: Error & { code?: string }) => err.code === 'LOCKED_OUT');
    }
  });
});
