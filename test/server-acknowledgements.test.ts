import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { AcknowledgementBatcher } from '../src/server/acknowledgements';
import type { Store } from '../src/server/store/store';
import { openWorkerStore } from '../src/server/store/worker-store';

/** The store as the server runs it (a worker thread), in a fresh directory, with two messages to bob and one to carol pending. */
async function storeWithPending(t: TestContext): Promise<{ store: Store; dir: string; ids: number[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-acks-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = await openWorkerStore(dir);
  t.after(() => store.close());
  const ids: number[] = [];
  for (const to of ['bob', 'bob', 'carol']) {
    const saved = await store.saveMessage({ from: 'alice', kind: 'direct', body: `to ${to}`, sentAt: 1, recipients: [to] });
    ids.push(saved.message.id);
  }
  return { store, dir, ids };
}

/** Adds an acknowledgement to the batch; resolves with its count once stored, rejects if its batch failed. */
function add(batcher: AcknowledgementBatcher, recipient: string, ids: number[]): Promise<number> {
  return new Promise((resolve, reject) => batcher.add(recipient, ids, { stored: resolve, failed: reject }));
}

describe('acknowledgements gathered per turn', () => {
  test("one turn's acknowledgements are one store call, applied in order, each answered with its own count", async (t) => {
    const { store, ids } = await storeWithPending(t);
    const [b1, b2, c1] = ids as [number, number, number];
    let calls = 0;
    const markDelivered = store.markDelivered.bind(store);
    store.markDelivered = (acks) => {
      calls++;
      return markDelivered(acks);
    };
    const batcher = new AcknowledgementBatcher(store);
    const counts = await Promise.all([
      add(batcher, 'bob', [b1, b2, 999]),
      add(batcher, 'carol', [b1]), // not carol's: ignored
      add(batcher, 'bob', [b1]), // already acknowledged by the first
      add(batcher, 'carol', [c1]),
    ]);
    assert.deepEqual(counts, [2, 0, 0, 1]);
    assert.equal(calls, 1);
    assert.deepEqual(await store.pendingFor('bob'), []);
    assert.deepEqual(await store.pendingFor('carol'), []);

    assert.equal(await add(batcher, 'bob', [b1]), 0, 'a later turn is a call of its own');
    assert.equal(calls, 2);
  });

  test('close hands them over at once, so that a store closing right after still stores them', async (t) => {
    const { store, dir, ids } = await storeWithPending(t);
    const batcher = new AcknowledgementBatcher(store);
    const count = add(batcher, 'bob', [ids[0]!]);
    batcher.close();
    await store.close();
    assert.equal(await count, 1);
    const reopened = await openWorkerStore(dir);
    t.after(() => reopened.close());
    assert.deepEqual(
      (await reopened.pendingFor('bob')).map((m) => m.id),
      [ids[1]],
    );
  });

  test('when the store fails as it closes, every acknowledgement of the batch is told, and the batch is reported once', async (t) => {
    const { store, ids } = await storeWithPending(t);
    await store.close();
    const reported: number[] = [];
    const batcher = new AcknowledgementBatcher(store, (_error, acknowledgements) => reported.push(acknowledgements));
    const added = [add(batcher, 'bob', [ids[0]!]), add(batcher, 'carol', [ids[2]!])];
    batcher.close(); // a batch that fails otherwise is tried again for about a minute (test/cluster.test.ts)
    const results = await Promise.allSettled(added);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.deepEqual(reported, [2]);
  });
});
