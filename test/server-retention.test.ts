import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ParleyClient } from '../src/client/parley-client';
import { inspectDatabaseFile } from '../src/server/store/sqlite-inspect';
import { collect, eventually, ONE_PROCESS_ONLY, startServer, TestClock } from './helpers/server';

const DAY_MS = 24 * 60 * 60_000;

async function historyIds(client: ParleyClient): Promise<number[]> {
  return (await client.history({ limit: 100 })).messages.map((m) => m.id);
}

test(
  'retention deletes what is older than N days at start, but never a message still waiting for its recipient',
  { skip: ONE_PROCESS_ONLY },
  async (t) => {
    const clock = new TestClock();
    // Nobody is signed out for the month that passes.
    const first = await startServer({ users: ['alice', 'bob', 'carol'], timings: { idleTimeoutMs: 0 } }, clock);
    const alice = await first.signIn('alice');
    const bob = await first.signIn('bob');
    const read = await alice.message('bob', 'old, and read');
    await eventually(async () => (await first.server.store.pendingFor('bob')).length === 0, 3000, "bob's acknowledgement");
    const waiting = await alice.message('carol', 'old, still waiting for carol');
    const oldPost = await alice.post('general', 'old post for @bob');
    clock.advance(31 * DAY_MS);
    const recent = await alice.message('bob', 'recent');
    const newPost = await alice.post('general', 'new post');
    const before = (await bob.request('conversations', {})).channels.find((c) => c.name === 'general')!;
    assert.deepEqual([before.unread, before.mentions, before.readSeq], [2, 1, 0]);
    alice.close();
    bob.close();
    await first.stop();

    const second = await startServer({ dataDir: first.dataDir, retainDays: 30 }, clock);
    t.after(() => second.close());
    const alice2 = await second.signIn('alice');
    await eventually(async () => !(await historyIds(alice2)).includes(read.id), 5000, 'the sweep at start');
    assert.deepEqual(await historyIds(alice2), [waiting.id, recent.id], 'the message carol waits for stays');
    const channel = await alice2.history({ channel: 'general' });
    assert.deepEqual(
      channel.messages.map((m) => m.id),
      [newPost.id],
    );
    assert.equal(channel.more, false);

    // Bob was away: his read position stays, and what counts as unread (and mentions him) is what is kept.
    const bob2 = await second.signIn('bob');
    const general = (await bob2.request('conversations', {})).channels.find((c) => c.name === 'general')!;
    assert.deepEqual([general.unread, general.mentions, general.readSeq, general.lastSeq], [1, 0, 0, newPost.seq]);
    assert.ok(oldPost.seq < newPost.seq);

    // Carol gets the old message at her next sign-in; once she has acknowledged it, the next sweep deletes it.
    const carol = await second.connect();
    const got = collect(carol, 'message');
    await carol.login('carol', 'carol-pw');
    await eventually(() => got.some(([m]) => m.id === waiting.id), 3000, "carol's old message");
    await eventually(async () => (await second.server.store.pendingFor('carol')).length === 0, 3000, "carol's acknowledgement");
    await second.stop();
    const third = await startServer({ dataDir: first.dataDir, retainDays: 30 }, clock);
    t.after(() => third.close());
    const alice3 = await third.signIn('alice');
    await eventually(async () => !(await historyIds(alice3)).includes(waiting.id), 5000, 'the delivered message to go');
    assert.deepEqual(await historyIds(alice3), [recent.id]);
    // Nothing left behind refers to a deleted message (the sweep deletes with SQLite's foreign key checks off).
    await third.stop();
    inspectDatabaseFile(join(first.dataDir, 'parley.db'), 'the swept database');
  },
);

test('a retention under a day is refused before anything opens: clientMsgIds must outlive retries', async () => {
  await assert.rejects(startServer({ retainDays: 0.5 }), /retainDays must be 1 at least, not 0.5/);
});
