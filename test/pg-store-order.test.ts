import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { openPgStore, type PgStore } from '../src/server/store/pg-store';
import { POSTGRES_MISSING, usePostgres } from './helpers/postgres';

// Clients page and replay by message id, and read channels by seq: an id (or seq) that became visible after a
// larger one would be skipped by a client that had already read past it. Several nodes share one database.

const postgres = usePostgres();

const NODES = 3;
const SENDS_PER_NODE = 240;
/** Sends each node has in flight at once, so that its batches and the other nodes' overlap. */
const IN_FLIGHT = 8;

/** Polls `sql` (a list of numbers, `n`) until stopped; records each value that appeared below one seen earlier. */
function watch(client: pg.Client, sql: string): { late: number[]; seen: Set<number>; stop(): Promise<void> } {
  const seen = new Set<number>();
  const late: number[] = [];
  let stopped = false;
  const poll = async (): Promise<void> => {
    const max = Math.max(0, ...seen);
    const { rows } = await client.query<{ n: string }>(sql);
    for (const { n } of rows) {
      const value = Number(n);
      if (seen.has(value)) continue;
      if (value < max) late.push(value);
      seen.add(value);
    }
  };
  const polling = (async () => {
    while (!stopped) await poll();
  })();
  return {
    late,
    seen,
    // Once more after the last commit, so that the reader has seen everything.
    stop: async () => {
      stopped = true;
      await polling;
      await poll();
    },
  };
}

async function sendAll(store: PgStore, node: number, channelId: number): Promise<void> {
  for (let i = 0; i < SENDS_PER_NODE; i += IN_FLIGHT) {
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, j) => {
        const n = i + j;
        const clientMsgId = `n${node}-${n}`;
        return n % 2 === 0
          ? store.saveMessage({ from: `user${node}`, kind: 'direct', body: `${n}`, sentAt: n, recipients: ['reader'], clientMsgId })
          : store.post({ from: `user${node}`, channelId, body: `${n}`, sentAt: n, mentions: [], clientMsgId });
      }),
    );
  }
}

test(
  'ids and channel seqs from several nodes become visible in numeric order, and seqs have no gaps',
  { skip: POSTGRES_MISSING, timeout: 120_000 },
  async (t) => {
    const url = await postgres.createDatabase();
    const nodes = await Promise.all(Array.from({ length: NODES }, () => openPgStore(url)));
    t.after(() => Promise.all(nodes.map((node) => node.close())));
    const channelId = (await nodes[0]!.createChannel({ name: 'busy', topic: '', private: false, creator: 'user0', createdAt: 1 }))!;

    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    t.after(() => reader.end());
    const ids = watch(reader, 'SELECT id AS n FROM messages');
    const seqs = watch(reader, `SELECT seq AS n FROM messages WHERE channel_id = ${channelId}`);
    try {
      await Promise.all(nodes.map((store, node) => sendAll(store, node, channelId)));
    } finally {
      await ids.stop();
      await seqs.stop();
    }

    const total = NODES * SENDS_PER_NODE;
    assert.equal(ids.seen.size, total, 'the reader saw every message');
    assert.deepEqual(ids.late, [], 'ids that became visible after a larger one');
    assert.deepEqual(seqs.late, [], 'seqs that became visible after a larger one');
    assert.deepEqual(
      [...seqs.seen].sort((a, b) => a - b),
      Array.from({ length: total / 2 }, (_, i) => i + 1),
    );
    // A retry on another node of a send stored by the first is stored once.
    const retried = await nodes[1]!.saveMessage({
      from: 'user0',
      kind: 'direct',
      body: '0',
      sentAt: 0,
      recipients: ['reader'],
      clientMsgId: 'n0-0',
    });
    assert.equal(retried.duplicate, true);
    assert.equal((await nodes[2]!.pendingFor('reader')).length, total / 2);
  },
);

test('the same send on two nodes at once is stored once, and both get its id', { skip: POSTGRES_MISSING, timeout: 120_000 }, async (t) => {
  const url = await postgres.createDatabase();
  const [a, b] = await Promise.all([openPgStore(url), openPgStore(url)]);
  t.after(() => Promise.all([a!.close(), b!.close()]));
  const channelId = (await a!.createChannel({ name: 'both', topic: '', private: false, creator: 'alice', createdAt: 1 }))!;
  const ROUNDS = 40;
  for (let n = 0; n < ROUNDS; n++) {
    const clientMsgId = `twice-${n}`;
    const answers =
      n % 2 === 0
        ? await Promise.all(
            [a!, b!].map((store) =>
              store.saveMessage({ from: 'alice', kind: 'direct', body: `${n}`, sentAt: n, recipients: ['bob'], clientMsgId }),
            ),
          )
        : await Promise.all(
            [a!, b!].map((store) => store.post({ from: 'alice', channelId, body: `${n}`, sentAt: n, mentions: ['bob'], clientMsgId })),
          );
    const [first, second] = answers.map((answer) => answer.message!);
    assert.equal(first!.id, second!.id, `round ${n}: one message`);
    assert.deepEqual(answers.map((answer) => answer.duplicate).sort(), [false, true], `round ${n}: one of the two is the duplicate`);
    assert.deepEqual(first, second, `round ${n}: the same answer`);
  }
  assert.equal((await a!.pendingFor('bob')).length, ROUNDS / 2, 'each direct message waits once');
  const posts = await b!.channelHistory(channelId, { hidden: [], limit: ROUNDS });
  assert.deepEqual(
    posts.map((post) => post.seq),
    Array.from({ length: ROUNDS / 2 }, (_, i) => i + 1),
    'each post took one seq, with no gap',
  );
});
