import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ParleyClient } from '../src/client/parley-client';
import { collect, eventually, PER_NODE_LIMIT, startServer } from './helpers/server';

/** `count` sends from `client` to `to`, all in flight at once; the outcome of each, in order. */
async function burst(client: ParleyClient, to: string, count: number, prefix: string): Promise<string[]> {
  const outcomes = await Promise.allSettled(Array.from({ length: count }, (_, i) => client.message(to, `${prefix} ${i}`)));
  return outcomes.map((o) => (o.status === 'fulfilled' ? 'sent' : (o.reason as { code: string }).code));
}

describe('what one sender may queue for one recipient', () => {
  test('past the cap a direct message is QUEUE_FULL and not stored; other senders still get through; reading makes room', async (t) => {
    const srv = await startServer({
      users: ['alice', 'bob', 'carol'],
      maxPendingPerSender: 5,
      rateLimit: { burst: 1000, perSecond: 1000 },
    });
    t.after(() => srv.close());
    const alice = await srv.signIn('alice');
    const carol = await srv.signIn('carol');
    assert.deepEqual(await burst(alice, 'bob', 7, 'a'), ['sent', 'sent', 'sent', 'sent', 'sent', 'QUEUE_FULL', 'QUEUE_FULL']);
    await assert.rejects(alice.message('bob', 'one more'), { code: 'QUEUE_FULL', message: /bob has 5 of your messages waiting/ });
    assert.equal((await carol.message('bob', 'from carol')).online, false, "alice's full queue does not shut carol out");

    const bob = await srv.connect();
    const got = collect(bob, 'message');
    await bob.login('bob', 'bob-pw');
    await eventually(() => got.length === 6, 3000, 'the stored messages');
    assert.deepEqual(
      got.map(([m]) => m.body),
      ['a 0', 'a 1', 'a 2', 'a 3', 'a 4', 'from carol'],
      'the refused ones were not stored',
    );
    // Bob's client acknowledges what it was shown; then alice may send again.
    await eventually(async () => (await srv.server.store.pendingFor('bob')).length === 0, 3000, 'the acknowledgements');
    assert.equal((await alice.message('bob', 'after reading')).online, true);
    await eventually(() => got.length === 7, 3000, 'the new one');
  });

  test('a named broadcast is stored for the recipients with room, and its reply names the others', async (t) => {
    const srv = await startServer({
      users: ['alice', 'bob', 'carol', 'dave'],
      maxPendingPerSender: 2,
      rateLimit: { burst: 1000, perSecond: 1000 },
    });
    t.after(() => srv.close());
    const alice = await srv.signIn('alice');
    await alice.block('dave');
    await burst(alice, 'bob', 2, 'fill');
    const reply = await alice.broadcast('to all three', ['bob', 'carol', 'dave']);
    assert.deepEqual([reply.delivered, reply.skipped, reply.queueFull], [1, 2, ['bob']], 'dave by the block, bob by his queue');
    const none = await alice.broadcast('nobody has room?', ['bob']);
    assert.deepEqual([none.delivered, none.skipped, none.queueFull], [0, 1, ['bob']], 'stored all the same, for nobody');

    const [bob, carol] = await Promise.all([srv.connect(), srv.connect()]);
    const bobGot = collect(bob, 'message');
    const carolGot = collect(carol, 'message');
    await Promise.all([bob.login('bob', 'bob-pw'), carol.login('carol', 'carol-pw')]);
    await eventually(() => bobGot.length === 2 && carolGot.length === 1, 3000, 'the stored messages');
    assert.deepEqual(
      bobGot.map(([m]) => m.body),
      ['fill 0', 'fill 1'],
    );
    assert.deepEqual(
      carolGot.map(([m]) => m.body),
      ['to all three'],
    );
  });
});

describe("one user's send rate", () => {
  test(
    'is shared by all their sessions: past it, sends are RATE_LIMITED whichever window they come from',
    { skip: PER_NODE_LIMIT },
    async (t) => {
      // The test clock stands still: no token comes back during the test.
      const srv = await startServer({
        users: ['alice', 'bob'],
        rateLimit: { burst: 1000, perSecond: 1000 },
        sendRate: { burst: 10, perSecond: 1 },
      });
      t.after(() => srv.close());
      const [first, second] = await Promise.all([srv.signIn('alice'), srv.signIn('alice')]);
      const one = await burst(first, 'bob', 6, 'first');
      const two = await burst(second, 'bob', 6, 'second');
      assert.deepEqual([...one, ...two].filter((o) => o === 'sent').length, 10);
      assert.deepEqual(two.slice(4), ['RATE_LIMITED', 'RATE_LIMITED']);
      await assert.rejects(first.broadcast('and a broadcast'), { code: 'RATE_LIMITED', message: /too fast \(across all your sessions\)/ });
      // Other requests and other users are not held to it.
      await first.whoelse();
      const bob = await srv.signIn('bob');
      await bob.message('alice', 'hi');
    },
  );
});
