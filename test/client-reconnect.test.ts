import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParleyClient } from '../src/client/parley-client';
import { collect, eventually, next, startServer } from './helpers/server';

describe('the client core across a server restart', () => {
  test('clients wait out a restart, sign in again by themselves, and get what was sent meanwhile once', async (t) => {
    const first = await startServer({ users: ['alice', 'bob'] });
    t.after(() => {
      for (const c of [...first.clients]) c.close();
    });
    const alice = await first.signIn('alice');
    const bob = await first.signIn('bob');
    const aliceGot = collect(alice, 'message');
    await bob.message('alice', 'before');
    await eventually(() => aliceGot.length === 1);

    const told = next(alice, 'signedOut');
    await first.stop();
    assert.equal((await told)[0].reason, 'shutdown');
    await eventually(() => alice.state === 'reconnecting', 3000, 'the reconnecting state');

    // The same port and data, as a restarted server has. Whoever is back first, bob writes to alice
    // as soon as he is, which may be before or after alice is back.
    const aliceBack = next(alice, 'resumed', () => true, 10_000);
    const second = await startServer({ dataDir: first.dataDir, port: first.port }, first.clock);
    t.after(() => second.close());
    await eventually(() => bob.state === 'signed-in', 10_000, 'bob back');
    await bob.message('alice', 'during');
    await aliceBack;
    await bob.message('alice', 'after');
    await eventually(() => aliceGot.length === 3, 3000, 'three messages');
    assert.deepEqual(
      aliceGot.map(([m]) => m.body),
      ['before', 'during', 'after'],
    );
  });

  test('while the server is away, requests fail with UNREACHABLE and the client keeps trying until closed', async () => {
    const t = await startServer({ users: ['alice'] });
    const alice = new ParleyClient(t.url, { requestTimeoutMs: 200, socket: { reconnectionDelay: 50 } });
    await alice.connect();
    await alice.login('alice', 'alice-pw');
    await t.stop();
    await eventually(() => alice.state === 'reconnecting');
    await assert.rejects(alice.whoelse(), { code: 'UNREACHABLE' });
    alice.close();
    assert.equal(alice.state, 'offline');
    await t.close();
  });
});
