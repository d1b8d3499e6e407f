import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { ParleyClient, ParleyRequestError } from '../src/client/parley-client';
import { PgLockouts, pgLockouts, STALE_CHECK_MS } from '../src/server/cluster/pg-lockouts';
import { hashPassword } from '../src/server/passwords';
import { openPgStore } from '../src/server/store/pg-store';
import { POSTGRES_MISSING, usePostgres } from './helpers/postgres';
import { countHashes, passwordOf, startServer, TEST_SCRYPT, TestClock, type TestServer } from './helpers/server';

// Nodes of a cluster share one database and count failed passwords together (src/server/cluster/pg-lockouts.ts):
// an attacker gets maxLoginFailures guesses per (username, address) from the whole cluster, not from each node.

const postgres = usePostgres();

const BLOCK_MS = 60_000;
const RULES = { maxFailures: 3, blockMs: BLOCK_MS };
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];

interface Cluster {
  url: string;
  nodes: TestServer[];
  clock: TestClock;
}

/** `count` servers on one new database, each counting lockouts there as a node of its own; users made before they start. */
async function startCluster(ctx: TestContext, count: number): Promise<Cluster> {
  const url = await postgres.createDatabase();
  const setup = await openPgStore(url);
  for (const username of USERS) await setup.putUser(username, await hashPassword(passwordOf(username), TEST_SCRYPT), 0);
  await setup.close();

  const clock = new TestClock();
  const nodes: TestServer[] = [];
  const pools: pg.Pool[] = [];
  ctx.after(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await Promise.all(pools.map((pool) => pool.end()));
  });
  for (let i = 0; i < count; i++) {
    const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 2_000 });
    pools.push(pool);
    const node = await startServer(
      { store: await openPgStore(url), lockouts: pgLockouts(pool, `node-${i}`), timings: { blockMs: BLOCK_MS, maxLoginFailures: 3 } },
      clock,
    );
    nodes.push(node);
  }
  return { url, nodes, clock };
}

/** A client of `node` from `address` (all of 127/8 is this machine's loopback). */
async function clientOf(node: TestServer, address = '127.0.0.1'): Promise<ParleyClient> {
  const client = new ParleyClient(node.url, {
    requestTimeoutMs: 5_000,
    socket: { reconnection: false, transportOptions: { websocket: { localAddress: address } } },
  });
  node.clients.push(client);
  await client.connect();
  return client;
}

/** Why `login` was refused. */
async function refusal(client: ParleyClient, username: string, password: string): Promise<ParleyRequestError> {
  const error = await client.login(username, password).then(
    () => assert.fail(`${username} signed in`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ParleyRequestError, String(error));
  return error;
}

async function signsIn(node: TestServer, username: string, address?: string): Promise<void> {
  const client = await clientOf(node, address);
  await client.login(username, passwordOf(username));
  client.close();
}

describe('lockouts in a cluster', { skip: POSTGRES_MISSING, timeout: 120_000 }, () => {
  test('wrong passwords on nodes A, B, A lock the user out on every node, until the lock time has passed', async (ctx) => {
    const { nodes, clock } = await startCluster(ctx, 3);
    const [a, b, c] = nodes as [TestServer, TestServer, TestServer];
    assert.match((await refusal(await clientOf(a), 'alice', 'guess-1')).message, /2 attempts left/);
    assert.match((await refusal(await clientOf(b), 'alice', 'guess-2')).message, /1 attempt left/);
    const third = await refusal(await clientOf(a), 'alice', 'guess-3');
    assert.deepEqual([third.code, third.retryAfterSeconds], ['LOCKED_OUT', 60]);
    assert.match(third.message, /now locked from your address/);

    clock.advance(20_000);
    for (const node of [a, b, c]) {
      const locked = await refusal(await clientOf(node), 'alice', passwordOf('alice'));
      assert.deepEqual([locked.code, locked.retryAfterSeconds], ['LOCKED_OUT', 40], `on the node at ${node.url}`);
    }
    await signsIn(c, 'alice', '127.0.0.2'); // another address is not locked out

    clock.advance(40_000);
    for (const node of [a, b, c]) await signsIn(node, 'alice');
  });

  test('wrong passwords sent at once to three nodes: no more than three are checked', async (ctx) => {
    const { nodes } = await startCluster(ctx, 3);
    const hashes = nodes.map(countHashes);
    const clients = await Promise.all(nodes.flatMap((node) => Array.from({ length: 4 }, () => clientOf(node))));
    const answers = await Promise.all(clients.map((client, i) => refusal(client, 'bob', `guess-${i}`)));
    assert.equal(
      hashes.reduce((sum, h) => sum + h.count, 0),
      3,
      `checks per node: ${hashes.map((h) => h.count).join(', ')}`,
    );
    assert.deepEqual(answers.map((e) => e.code).sort(), ['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', ...Array(10).fill('LOCKED_OUT')]);
    for (const node of nodes) assert.equal((await refusal(await clientOf(node), 'bob', passwordOf('bob'))).code, 'LOCKED_OUT');
    for (const node of nodes) await signsIn(node, 'bob', '127.0.0.3');
  });

  test('a success on one node starts the count over on all of them', async (ctx) => {
    const { nodes } = await startCluster(ctx, 2);
    const [a, b] = nodes as [TestServer, TestServer];
    await refusal(await clientOf(a), 'carol', 'guess-1');
    await refusal(await clientOf(b), 'carol', 'guess-2');
    await signsIn(b, 'carol');
    assert.match((await refusal(await clientOf(a), 'carol', 'guess-3')).message, /2 attempts left/);
  });

  test('the checks of a node that died stop counting after a minute', async (ctx) => {
    const { url, nodes, clock } = await startCluster(ctx, 2);
    const pool = new pg.Pool({ connectionString: url });
    ctx.after(() => pool.end());
    const dead = new PgLockouts(pool, 'dead-node', RULES);
    for (let i = 0; i < 3; i++) {
      const taken = await dead.take('dave', '127.0.0.1', clock.now);
      assert.ok(taken !== 'full' && 'check' in taken, 'a check is taken');
    }

    // Every try is taken by the dead node's checks: the sign-in waits for them to end, or to go stale.
    const client = await clientOf(nodes[0]!);
    const signedIn = client.login('dave', passwordOf('dave'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(client.state, 'connected', 'not signed in while the checks count');
    clock.advance(STALE_CHECK_MS);
    await signedIn;
  });

  test('counts that no longer matter are pruned; the others stay', async (ctx) => {
    const { url, nodes, clock } = await startCluster(ctx, 1);
    await refusal(await clientOf(nodes[0]!), 'erin', 'guess');
    clock.advance(BLOCK_MS / 2);
    await refusal(await clientOf(nodes[0]!), 'frank', 'guess');
    const pool = new pg.Pool({ connectionString: url });
    ctx.after(() => pool.end());
    await new PgLockouts(pool, 'pruner', RULES).prune(clock.now + BLOCK_MS / 2);
    const { rows } = await pool.query<{ username: string }>('SELECT username FROM lockouts');
    assert.deepEqual(
      rows.map((r) => r.username),
      ['frank'],
    );
  });

  // Last: it stops this file's PostgreSQL, and starts it again.
  test('while PostgreSQL is down, sign-ins are refused as unavailable, and signed-in users are still served', async (ctx) => {
    const { nodes } = await startCluster(ctx, 2);
    const [a, b] = nodes as [TestServer, TestServer];
    const carol = await clientOf(a);
    await carol.login('carol', passwordOf('carol'));
    await postgres.outage(async () => {
      for (const node of [a, b]) {
        const refused = await refusal(await clientOf(node), 'alice', passwordOf('alice'));
        assert.equal(refused.code, 'INTERNAL');
        assert.match(refused.message, /Sign-in is unavailable for now: the server cannot reach its database/);
      }
      assert.deepEqual((await carol.whoelse()).users, []);
    });
    for (const node of [a, b]) await signsIn(node, 'alice');
  });
});
