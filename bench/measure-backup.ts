// Measures how long a backup (VACUUM INTO) and a retention sweep hold up the store's commits, on the worker store the
// server runs, for databases of a few sizes: a writer saves one message after another throughout, and its slowest save
// while the backup or the sweep runs is the hold-up a sender sees.
// Usage: node --import tsx bench/measure-backup.ts [messages per size, default 50000,250000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NewMessage, Store } from '../src/server/store/store';
import { openWorkerStore } from '../src/server/store/worker-store';

const SIZES = (process.argv[2] ?? '50000,250000').split(',').map(Number);
const USERS = 200;
const FILL_BATCH = 5_000;
const DAY_MS = 86_400_000;

function message(i: number, sentAt: number): NewMessage {
  const from = `user${i % USERS}`;
  const to = `user${(i * 7 + 1) % USERS}`;
  return { from, kind: 'direct', body: `message ${i}: ${'lorem ipsum '.repeat(6)}`, sentAt, recipients: [to === from ? 'user0' : to] };
}

/** Saves one message after another until `done` resolves; returns the slowest save that overlapped it, and their median. */
async function writeDuring(store: Store, done: Promise<unknown>): Promise<{ maxMs: number; p50Ms: number; saves: number }> {
  let finished = false;
  void done.finally(() => (finished = true));
  const latencies: number[] = [];
  for (let i = 0; !finished; i++) {
    const start = performance.now();
    await store.saveMessage(message(i, Date.now()));
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  return { maxMs: latencies.at(-1) ?? 0, p50Ms: latencies[Math.floor(latencies.length / 2)] ?? 0, saves: latencies.length };
}

async function measure(size: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-measure-backup-'));
  try {
    const store = await openWorkerStore(dir);
    for (let u = 0; u < USERS; u++) await store.putUser(`user${u}`, 'x', 0);
    const old = Date.now() - 40 * DAY_MS;
    for (let done = 0; done < size; done += FILL_BATCH) {
      const saved = await Promise.all(
        Array.from({ length: Math.min(FILL_BATCH, size - done) }, (_, i) => store.saveMessage(message(done + i, old + done + i))),
      );
      // Delivered, as most messages are: their rows move from pending to deliveries.
      const byRecipient = new Map<string, number[]>();
      for (const { message: m } of saved) byRecipient.set(m.to!, [...(byRecipient.get(m.to!) ?? []), m.id]);
      await store.markDelivered([...byRecipient].map(([recipient, ids]) => ({ recipient, ids })));
    }
    const file = path.join(dir, 'backup.db');
    fs.writeFileSync(file, '', { mode: 0o600 });
    const start = performance.now();
    const backup = store.backupTo(file);
    const during = await writeDuring(store, backup);
    const backupMs = performance.now() - start;
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
    console.log(
      `${size} messages, backup ${mib(fs.statSync(file).size)} MiB: VACUUM INTO took ${backupMs.toFixed(0)} ms; ` +
        `saves meanwhile ${during.saves}, slowest ${during.maxMs.toFixed(0)} ms (median ${during.p50Ms.toFixed(1)} ms)`,
    );

    // Retention: every message filled above is 40 days old; a sweep of 30 days deletes them all, a step at a time.
    let steps = 0;
    const sweep = (async () => {
      const sweepStart = performance.now();
      for (let after: number | undefined = 0; after !== undefined; steps++) {
        after = (await store.expireMessages(Date.now() - 30 * DAY_MS, { after, limit: 500 })).last;
      }
      return performance.now() - sweepStart;
    })();
    const sweepDuring = await writeDuring(store, sweep);
    console.log(
      `  retention of all ${size}: ${steps} steps in ${(await sweep).toFixed(0)} ms; ` +
        `saves meanwhile ${sweepDuring.saves}, slowest ${sweepDuring.maxMs.toFixed(0)} ms (median ${sweepDuring.p50Ms.toFixed(1)} ms)`,
    );
    await store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void (async () => {
  for (const size of SIZES) await measure(size);
})();
