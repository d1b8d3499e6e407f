import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ParleyClient } from '../src/client/parley-client';
import { startCluster, type TestCluster } from './helpers/cluster';
import { POSTGRES_MISSING, usePostgres } from './helpers/postgres';
import { Program } from './helpers/processes';
import { eventually, next, passwordOf, refusedPort, tempDir } from './helpers/server';

usePostgres();

/** A password in the database's URL: the test server trusts local connections and ignores it, but no output may show it. */
const SECRET = 's3cret-db-pw';

function withPassword(url: string): string {
  const u = new URL(url);
  u.password = SECRET;
  return u.href;
}

/** `parley-server users ARGS` run to its end as an operator runs it, with `input` as its standard input. */
async function parleyUsers(
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const p = new Program('src/server/main.ts', ['users', ...args], { PARLEY_DATA: undefined, PARLEY_POSTGRES: undefined, ...env });
  if (input !== undefined) p.write(input);
  p.end();
  const code = await p.exitCode(60_000);
  const result = { code, out: p.stdout, err: p.stderr };
  assert.doesNotMatch(result.out + result.err, new RegExp(SECRET), "the database's password was shown");
  return result;
}

describe('parley-server users --postgres: administering a running cluster through its database', { skip: POSTGRES_MISSING }, () => {
  let cluster: TestCluster;
  let url: string;
  after(() => cluster?.close());

  /** Waits until every node knows `user` exists (or, with `known` false, no longer does). */
  const everyNodeKnows = (user: string, known = true) =>
    eventually(
      () => cluster.nodes.every((n) => n.server.accounts.has(user) === known),
      10_000,
      `every node to ${known ? 'know' : 'forget'} ${user}`,
    );

  /**
   * A client of node `i` that waits long for answers: the program hashes passwords at the shipped scrypt cost, whose
   * checks take seconds on a loaded machine, past a test client's usual wait.
   */
  const patientClient = async (i: number): Promise<ParleyClient> => {
    const node = cluster.nodes[i]!;
    const client = new ParleyClient(node.url, { requestTimeoutMs: 30_000 });
    node.clients.push(client); // closed with the node
    await client.connect();
    return client;
  };

  /** `user` signed in on every node, one client each, one after another (each check is costly, see patientClient). */
  const signedInEverywhere = async (user: string, password = passwordOf(user)): Promise<ParleyClient[]> => {
    const clients: ParleyClient[] = [];
    for (let i = 0; i < cluster.nodes.length; i++) {
      const client = await patientClient(i);
      await client.login(user, password);
      clients.push(client);
    }
    return clients;
  };

  test('users add: the new user signs in on every node, and every node takes messages for them at once', async () => {
    cluster = await startCluster({ users: ['alice'] });
    url = withPassword(cluster.url);
    const added = await parleyUsers(['add', 'dora', '--postgres', url], passwordOf('dora'));
    assert.equal(added.code, 0, added.err);
    assert.equal(added.out, 'Added dora.\n');
    await everyNodeKnows('dora');

    const doras = await signedInEverywhere('dora');
    const alice = await cluster.signIn('alice', 2);
    const got = next(doras[0]!, 'message', (m) => m.body === 'welcome', 10_000);
    // Node 2 knows dora although no node added her: it takes the message.
    await alice.message('dora', 'welcome');
    await got;
    for (const client of doras) client.close();
  });

  test("users passwd: the user's sessions on every node are signed out, and the new password works on every node", async () => {
    const doras = await signedInEverywhere('dora');
    const told = doras.map((client) => next(client, 'signedOut', undefined, 10_000));
    const changed = await parleyUsers(['passwd', 'dora', '--postgres', url], 'dora-new-pw');
    assert.equal(changed.code, 0, changed.err);
    assert.equal(changed.out, 'Changed the password of dora.\n');
    const reasons = (await Promise.all(told)).map(([e]) => e.reason);
    assert.deepEqual(reasons, ['password-changed', 'password-changed', 'password-changed']);

    for (const client of await signedInEverywhere('dora', 'dora-new-pw')) client.close();
    const old = await patientClient(1);
    await assert.rejects(old.login('dora', passwordOf('dora')), { code: 'INVALID_CREDENTIALS' });
    old.close();
  });

  test('users import FILE: the new users are known to every node, the existing ones left alone', async () => {
    const file = join(tempDir(), 'user_pass.txt');
    writeFileSync(file, 'erin erin-pw\nfrank frank-pw\nalice not-her-pw\n');
    const imported = await parleyUsers(['import', file, '--postgres', url]);
    assert.equal(imported.code, 0, imported.err);
    assert.equal(imported.out, 'Added 2 users.\nLeft alone 1 existing user: alice.\n');
    await everyNodeKnows('erin');
    await everyNodeKnows('frank');
    for (const client of [...(await signedInEverywhere('erin')), ...(await signedInEverywhere('frank'))]) client.close();
    (await cluster.signIn('alice', 1)).close();
  });

  test('users list shows every account of the cluster', async () => {
    const listed = await parleyUsers(['list', '--postgres', url]);
    assert.equal(listed.code, 0, listed.err);
    assert.deepEqual(
      listed.out
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t')[0]),
      ['alice', 'dora', 'erin', 'frank'],
    );
    assert.match(listed.out, /^alice\tlast seen \d{4}-/m);
  });

  test('users remove: the user is signed out on every node, and no node knows them any more', async () => {
    const erins = await signedInEverywhere('erin');
    const told = erins.map((client) => next(client, 'signedOut', undefined, 10_000));
    const removed = await parleyUsers(['remove', 'erin', '--postgres', url]);
    assert.equal(removed.code, 0, removed.err);
    assert.equal(removed.out, 'Removed erin.\n');
    const reasons = (await Promise.all(told)).map(([e]) => e.reason);
    assert.deepEqual(reasons, ['account-removed', 'account-removed', 'account-removed']);
    await everyNodeKnows('erin', false);
    const alice = await cluster.signIn('alice', 0);
    await assert.rejects(alice.message('erin', 'still there?'), { code: 'UNKNOWN_USER' });
  });

  test('the database comes from PARLEY_POSTGRES or the --config file as the server finds it; --data beside it is refused', async () => {
    const fromEnv = await parleyUsers(['list'], undefined, { PARLEY_POSTGRES: url, PARLEY_DATA: tempDir() });
    assert.equal(fromEnv.code, 0, fromEnv.err);
    assert.match(fromEnv.out, /^frank\t/m);

    const config = join(tempDir(), 'parley.toml');
    writeFileSync(config, `data = ${JSON.stringify(tempDir())}\npostgres = ${JSON.stringify(url)}\n`);
    const fromFile = await parleyUsers(['list', '--config', config]);
    assert.equal(fromFile.code, 0, fromFile.err);
    assert.match(fromFile.out, /^frank\t/m);

    const both = await parleyUsers(['list', '--data', tempDir(), '--postgres', url]);
    assert.equal(both.code, 2);
    assert.match(both.err, /--data names a data directory and --postgres a cluster's database: give one of them/);
    const bothAcross = await parleyUsers(['list', '--data', tempDir()], undefined, { PARLEY_POSTGRES: url });
    assert.equal(bothAcross.code, 2);
    assert.match(bothAcross.err, /--data names a data directory and PARLEY_POSTGRES a cluster's database/);
  });

  test('a database that cannot be reached: a clear error naming it without its password, and no stack', async (t) => {
    const port = await refusedPort();
    const stopped = `postgresql://parley:${SECRET}@127.0.0.1:${port}/parley`;
    const missing = new URL(url);
    missing.pathname = '/no_such_database';
    // A host that takes the connection and never answers, as one behind a firewall that drops packets seems.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => silent.close());
    const mute = `postgresql://parley:${SECRET}@127.0.0.1:${(silent.address() as AddressInfo).port}/parley`;
    for (const [database, reason] of [
      [stopped, /connect ECONNREFUSED/],
      [missing.href, /database "no_such_database" does not exist/],
      [mute, /timeout expired/],
    ] as const) {
      const run = await parleyUsers(['list', '--postgres', database]);
      assert.equal(run.code, 1, run.err);
      assert.equal(run.out, '');
      const redacted = database.replace(SECRET, '***');
      assert.ok(run.err.startsWith(`parley-server: could not reach the database ${redacted}: `), run.err);
      assert.match(run.err, reason);
      assert.doesNotMatch(run.err, /\n\s+at /, 'a stack was printed');
    }
    const notUrl = await parleyUsers(['list', '--postgres', `parley:${SECRET}@db`]);
    assert.equal(notUrl.code, 2);
    assert.match(notUrl.err, /--postgres must be a postgres:\/\/ URL/);
  });
});
