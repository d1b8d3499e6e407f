import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { ParleyRequestError, type ParleyClient } from '../src/client/parley-client';
import { generatePeerKeys } from '../src/client/private-crypto';
import { decodeTicket, encodeTicket, type ReplyBodies } from '../src/protocol';
import { startCluster, type TestCluster } from './helpers/cluster';
import { POSTGRES_MISSING, usePostgres } from './helpers/postgres';
import { eventually, next, startServer, tempDir, TestClock, type TestServer } from './helpers/server';
import { closeLeftoverPeers, closePeers, handshake, dial, nextPrivate, peer, ticketFor, type Peer } from './private-helpers';

usePostgres();

/**
 * A loopback listener is handed out on its own node only, and these nodes cannot tell that they share a machine: peers
 * that talk across nodes listen on a real interface.
 */
const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const skip = POSTGRES_MISSING ?? (external ? undefined : 'this machine has no non-loopback IPv4 interface for peers on different nodes');

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'gina', 'hal', 'ivy', 'jack'];
/** As the cluster helper's nodes: the test clock stands still, so rates never refill. */
const RATES = { rateLimit: { burst: 100_000, perSecond: 1 }, sendRate: { burst: 100_000, perSecond: 1 } };

const ask = (client: ParleyClient, username: string): Promise<ReplyBodies['startprivate']> =>
  client.request('startprivate', { username, publicKey: generatePeerKeys().publicKey });

const register = (client: ParleyClient, port: number, host?: string): Promise<ReplyBodies['peer']> =>
  client.request('peer', { port, publicKey: generatePeerKeys().publicKey, ...(host !== undefined && { host }) });

const refusedWith = (code: string, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ParleyRequestError, String(err));
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

const refusedBy = (code: string) => (err: Error & { code?: string }) => err.code === code;

/** Sends from `a` to `b` over their private chat and returns what `b` received. */
async function exchange(a: Peer, b: Peer, body: string): Promise<string> {
  const got = nextPrivate(b.channels, 'message', (m) => m.from === a.name);
  a.channels.send(b.name, body);
  return (await got)[0].body;
}

describe('private chat across the nodes of a cluster', { skip }, () => {
  let cluster: TestCluster;
  let db: pg.Client;
  const node = (i: number): TestServer => cluster.nodes[i]!;
  const onlineOn = (i: number, user: string) => eventually(() => node(i).server.isOnline(user), 3000, `${user} online on node ${i}`);
  const peerOn = (i: number, user: string) => peer(node(i), user, { host: external! });

  before(async () => {
    cluster = await startCluster({ users: USERS, heartbeatMs: 1000 });
    db = new pg.Client({ connectionString: cluster.url });
    await db.connect();
  });
  after(async () => {
    await closeLeftoverPeers();
    await db?.end();
    await cluster?.close();
  });

  test('alice on node A opens a private chat with bob on node B, and they talk directly', async () => {
    const [alice, bob] = [await peerOn(0, 'alice'), await peerOn(1, 'bob')];
    await onlineOn(0, 'bob');
    const opened = nextPrivate(bob.channels, 'opened', (info) => info.username === 'alice');
    assert.deepEqual(await alice.channels.start('bob'), { username: 'bob', already: false });
    const [bobSide] = await opened;
    assert.equal(alice.channels.safetyCodeOf('bob'), bobSide.safetyCode, 'the same safety code on both screens');
    for (let i = 0; i < 6; i++) assert.equal(await exchange(i % 2 ? bob : alice, i % 2 ? alice : bob, `hi ${i}`), `hi ${i}`);
    await closePeers(alice, bob);
  });

  test("the peer reply names every live node's ticket key, as the database publishes them", async () => {
    const { rows } = await db.query<{ ticket_key: string }>('SELECT ticket_key FROM nodes');
    const published = rows.map((r) => r.ticket_key).sort();
    assert.equal(published.length, 3);
    const own: string[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = await register(await node(i).signIn('ivy'), 4700 + i);
      assert.deepEqual([...reply.ticketKeys!].sort(), published);
      assert.equal(reply.ticketKeys![0], reply.ticketKey, "this node's own key first");
      own.push(reply.ticketKey);
    }
    assert.deepEqual(own.sort(), published, 'each node signs with a key of its own');
  });

  test('a listener is chosen on this node first, then the newest elsewhere; a loopback one only on its own node', async () => {
    const dave = await node(0).signIn('dave');
    const jack = await node(1).signIn('jack');
    const carolB = await node(1).signIn('carol');
    await register(carolB, 4801, '127.0.0.1');
    await onlineOn(0, 'carol');
    await assert.rejects(ask(dave, 'carol'), refusedWith('NO_PEER_LISTENER', /only from the machine of the server they are signed in to/));
    assert.equal((await ask(jack, 'carol')).port, 4801, "on carol's own node, the loopback listener is handed out");

    const carolC = await node(2).signIn('carol');
    await register(carolC, 4802, external);
    await register(await node(2).signIn('carol'), 4803, '127.0.0.1');
    assert.deepEqual(
      await ask(dave, 'carol').then((r) => [r.host, r.port]),
      [external, 4802],
      'the newest listener elsewhere that a client of this node may dial',
    );
    await register(await node(0).signIn('carol'), 4800, external);
    await register(carolC, 4804, external);
    assert.equal((await ask(dave, 'carol')).port, 4800, "this node's own session first, though another registered since");

    await carolB.logout();
    await eventually(
      async () => (await db.query("SELECT 1 FROM peers WHERE username = 'carol' AND port = 4801")).rowCount === 0,
      3000,
      "the ended session's listener to leave the database",
    );
    assert.equal((await ask(jack, 'carol')).port, 4804, 'jack is handed the newest listener elsewhere now');
  });

  test("a block made on node B ends the chat on node A's session, and voids the tickets issued before it", async () => {
    const [alice, bob] = [await peerOn(0, 'gina'), await peerOn(1, 'hal')];
    await onlineOn(0, 'hal');
    await alice.channels.start('hal');
    const before = await ticketFor(alice, 'hal');
    const revoked = next(alice.client, 'privateRevoked', (e) => e.username === 'hal');
    const closed = nextPrivate(alice.channels, 'closed', (info) => info.username === 'hal');
    await bob.client.block('gina');
    // Node A heard of the block from node B, and told gina's session itself.
    assert.equal((await revoked)[0].reason, 'blocked');
    assert.equal((await closed)[0].reason, 'blocked');
    await assert.rejects(before.dial(), refusedBy('REVOKED'));
    await eventually(
      () =>
        ask(alice.client, 'hal').then(
          () => false,
          (err: unknown) => err instanceof ParleyRequestError && err.code === 'BLOCKED',
        ),
      3000,
      'node A to refuse a ticket',
    );
    await closePeers(alice, bob);
  });

  test('a node that joins later gets its key to the clients; its tickets hold despite its clock, until it leaves', async () => {
    const bob = await peerOn(1, 'bob');
    const before = (await db.query<{ ticket_key: string }>('SELECT ticket_key FROM nodes')).rows.map((r) => r.ticket_key);
    const joined = next(bob.client, 'ticketKeys', (e) => e.keys.length === 4);
    // Its clock runs 3 s ahead of the others': within the clients' allowance for skew.
    const late = await startServer(
      { cluster: { url: cluster.url }, dataDir: tempDir(), ...RATES },
      new TestClock(node(0).clock.now + 3000),
    );
    const lateKey = (await joined)[0].keys.find((key) => !before.includes(key));
    assert.ok(lateKey, "bob's client is told the new node's key");
    try {
      const dave = await peer(late, 'dave', { host: external! });
      await eventually(() => late.server.isOnline('bob'), 3000, 'the new node to see bob online');
      const opened = nextPrivate(bob.channels, 'opened', (info) => info.username === 'dave');
      await dave.channels.start('bob');
      await opened;
      assert.equal(await exchange(dave, bob, 'from the new node'), 'from the new node');

      const early = await ticketFor(dave, 'bob');
      const stale = await ticketFor(dave, 'bob');
      assert.equal(decodeTicket(early.reply.ticket)!.payload.iat, node(1).clock.now + 3000, 'dated on the new node, ahead');
      // The block is dated on node B's clock, behind the new node's: the revocation still covers tickets issued before it.
      const revoked = next(bob.client, 'privateRevoked', (e) => e.username === 'dave');
      await bob.client.block('dave');
      await revoked;
      await assert.rejects(early.dial(), refusedBy('REVOKED'));

      const left = next(bob.client, 'ticketKeys', (e) => e.keys.length === 3);
      await closePeers(dave);
      await late.close();
      const [{ keys }] = await left;
      assert.ok(!keys.includes(lateKey), "the departed node's key is no longer accepted");
      await assert.rejects(stale.dial(), refusedBy('BAD_TICKET'));
      assert.equal((await db.query('SELECT 1 FROM peers WHERE username = $1', ['dave'])).rowCount, 0);
    } finally {
      await late.close();
      await bob.client.unblock('dave');
      await closePeers(bob);
    }
  });

  test("a ticket signed by a key that is not the cluster's is refused", async () => {
    const [alice, bob] = [await peerOn(2, 'alice'), await peerOn(0, 'erin')];
    await onlineOn(2, 'erin');
    const real = await ticketFor(alice, 'erin');
    const foreign = generateKeyPairSync('ed25519').privateKey;
    const forged = encodeTicket(decodeTicket(real.reply.ticket)!.payload, (input) => sign(null, input, foreign));
    const report = nextPrivate(bob.channels, 'refused', (r) => r.code === 'BAD_TICKET');
    await assert.rejects(dial(real.reply, handshake(forged, real.keys.publicKey)), refusedBy('BAD_TICKET'));
    await report;
    const accepted = await real.dial();
    accepted.disconnect();
  });

  test("a node taken out for silence takes its users' listeners out of the database with it", async () => {
    const key = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
    await db.query("INSERT INTO nodes (id, started_at, heartbeat_at, ticket_key) VALUES ('ghost', 0, 0, $1)", [key]);
    await db.query("INSERT INTO presence (username, node, idle, since) VALUES ('bob', 'ghost', false, 0)");
    await db.query(
      "INSERT INTO peers (node, socket, username, host, port, public_key, registered_at) VALUES ('ghost', 's', 'bob', $1, 4999, $2, 0)",
      [external, generatePeerKeys().publicKey],
    );
    await eventually(
      async () => (await db.query("SELECT 1 FROM peers WHERE node = 'ghost'")).rowCount === 0,
      5000,
      'the silent node to be taken out',
    );
    assert.equal(
      (await db.query("SELECT 1 FROM nodes WHERE id = 'ghost' UNION ALL SELECT 1 FROM presence WHERE node = 'ghost'")).rowCount,
      0,
    );
  });
});
