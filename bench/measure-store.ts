// Measures SqliteStore write costs for each journal mode it supports.
// Usage: node --import tsx bench/measure-store.ts [parent dir for the temp data dirs, default os.tmpdir()]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore, type JournalChoice } from '../src/server/store/sqlite-store';
import type { NewMessage } from '../src/server/store/store';

const SEQUENTIAL = 2000;
const CONCURRENT = 10_000;
const MODES: JournalChoice[] = ['wal', 'rollback-exclusive', 'rollback'];

// The node-sqlite3-wasm VFS syncs through this same fs module, so counting here counts its fsyncs.
const realFsync = fs.fsyncSync;
let fsyncs = 0;
fs.fsyncSync = (fd) => {
  fsyncs++;
  realFsync(fd);
};

function message(i: number): NewMessage {
  return { from: 'alice', kind: 'direct', body: `message number ${i}`, sentAt: Date.now(), recipients: ['bob'] };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(parent: string, journal: JournalChoice): Promise<void> {
  const dir = fs.mkdtempSync(path.join(parent, 'parley-measure-'));
  try {
    const store = await openSqliteStore(dir, { journal });
    for (let i = 0; i < 20; i++) await store.saveMessage(message(i)); // warm up

    // Autocommit: each save awaited before the next, so each is its own transaction.
    const latencies: number[] = [];
    fsyncs = 0;
    for (let i = 0; i < SEQUENTIAL; i++) {
      const start = performance.now();
      await store.saveMessage(message(i));
      latencies.push(performance.now() - start);
    }
    const sequentialFsyncs = fsyncs / SEQUENTIAL;
    latencies.sort((a, b) => a - b);
    const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;

    // Group commit: everything in flight at once.
    fsyncs = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => store.saveMessage(message(i))));
    const elapsed = performance.now() - start;
    await store.close();

    console.log(
      `${journal.padEnd(18)} autocommit: mean ${mean.toFixed(3)} ms, p50 ${percentile(latencies, 50).toFixed(3)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(3)} ms, ${sequentialFsyncs.toFixed(1)} fsyncs/commit | ` +
        `group commit: ${CONCURRENT} saves in ${elapsed.toFixed(0)} ms = ` +
        `${Math.round(CONCURRENT / (elapsed / 1000))} msg/s, ${fsyncs} fsyncs`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const parent = process.argv[2] ?? os.tmpdir();
  console.log(`node ${process.version}, data dirs under ${parent}, synchronous=FULL`);
  for (const journal of MODES) await measure(parent, journal);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
