/**
 * Start-time and store measures, each in a fresh process started by bench/run.ts: the embedded
 * server's cold start (nothing loaded before the call), seeding a data directory with stored
 * messages through openSqliteStore, and saveMessage throughput with and without group commit.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { serve } from './ipc';
import { BENCH_PASSWORD, BENCH_SCRYPT, type StoreCommands } from './protocol';

const BODY = 'a stored message of about the length people type in a chat window, give or take';

serve<StoreCommands>({
  startTime: async ({ kind, dataDir }) => {
    const t0 = performance.now();
    if (kind === 'parley') {
      const [{ createParleyServer }, { silentLogger }] = await Promise.all([import('../src/server/server'), import('../src/server/log')]);
      const t1 = performance.now();
      // As shipped: default scrypt cost, rate limit, timings; only the log is silenced.
      const server = await createParleyServer({ dataDir, port: 0, host: '127.0.0.1', log: silentLogger });
      await server.listen();
      const t2 = performance.now();
      await server.close();
      return { importMs: t1 - t0, startMs: t2 - t1 };
    }
    const { startBaseline } = await import('./servers/baseline');
    const t1 = performance.now();
    const server = await startBaseline();
    const t2 = performance.now();
    await server.close();
    return { importMs: t1 - t0, startMs: t2 - t1 };
  },

  seed: async ({ dataDir, messages, batch }) => {
    const [{ openSqliteStore }, { hashPassword }] = await Promise.all([
      import('../src/server/store/sqlite-store'),
      import('../src/server/passwords'),
    ]);
    const t0 = performance.now();
    const store = await openSqliteStore(dataDir);
    try {
      const hash = await hashPassword(BENCH_PASSWORD, BENCH_SCRYPT);
      await Promise.all(['alice', 'bob', 'carol'].map((u) => store.putUser(u, hash, Date.now())));
      for (let done = 0; done < messages;) {
        const n = Math.min(batch, messages - done);
        const saved = await Promise.all(
          Array.from({ length: n }, (_, i) => {
            const k = done + i;
            const [from, to] = k % 2 ? ['alice', 'bob'] : ['bob', 'alice'];
            return store.saveMessage({
              from: from!,
              kind: 'direct',
              body: `${k} ${BODY}`,
              sentAt: Date.now(),
              recipients: [to!],
              clientMsgId: randomUUID(),
            });
          }),
        );
        // Most stored messages were delivered long ago: mark them so (history, not a backlog).
        const byRecipient = new Map<string, number[]>();
        for (const { message } of saved) byRecipient.set(message.to!, [...(byRecipient.get(message.to!) ?? []), message.id]);
        await store.markDelivered([...byRecipient].map(([recipient, ids]) => ({ recipient, ids })));
        done += n;
      }
    } finally {
      await store.close();
    }
    return { ms: performance.now() - t0 };
  },

  channelRows: async ({ dataDir, members, posts }) => {
    const [{ openSqliteStore }, { hashPassword }, sqlite] = await Promise.all([
      import('../src/server/store/sqlite-store'),
      import('../src/server/passwords'),
      import('node-sqlite3-wasm'),
    ]);
    // A CommonJS package imported from here: its exports may come as `default` only.
    const { Database } = 'Database' in sqlite ? sqlite : (sqlite as { default: typeof sqlite }).default;
    const names = Array.from({ length: members }, (_, i) => `member${i}`);
    const countRows = (): number => {
      const db = new Database(path.join(dataDir, 'parley.db'));
      try {
        // As the store opens it: without shared memory, a WAL database opens only in exclusive locking mode.
        db.exec('PRAGMA locking_mode = EXCLUSIVE');
        const tables = db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") as { name: string }[];
        return tables.reduce((sum, t) => sum + Number((db.get(`SELECT count(*) AS n FROM "${t.name}"`) as { n: number }).n), 0);
      } finally {
        db.close();
      }
    };
    let store = await openSqliteStore(dataDir);
    let channelId: number | undefined;
    try {
      const hash = await hashPassword(BENCH_PASSWORD, BENCH_SCRYPT);
      for (const name of names) await store.putUser(name, hash, Date.now());
      channelId = await store.createChannel({ name: 'rows', topic: '', private: false, creator: names[0]!, createdAt: Date.now() });
      if (channelId === undefined) throw new Error('the channel could not be created');
      for (const name of names.slice(1)) await store.addMember(channelId, name);
    } finally {
      await store.close();
    }
    const before = countRows();
    store = await openSqliteStore(dataDir);
    try {
      for (let i = 0; i < posts; i++) {
        await store.post({
          from: names[i % members]!,
          channelId,
          body: `${i} ${BODY}`,
          sentAt: Date.now(),
          mentions: [],
          clientMsgId: randomUUID(),
        });
      }
    } finally {
      await store.close();
    }
    return { rowsPerMessage: (countRows() - before) / posts };
  },

  storeThroughput: async ({ dataDir, sequential, concurrent }) => {
    // As the server runs it: in a worker thread, each call crossing to it and back.
    const { openWorkerStore } = await import('../src/server/store/worker-store');
    const store = await openWorkerStore(dataDir);
    const message = (i: number) => ({
      from: 'alice',
      kind: 'direct' as const,
      body: `${i} ${BODY}`,
      sentAt: Date.now(),
      recipients: ['bob'],
      clientMsgId: randomUUID(),
    });
    try {
      // Warm-up: JIT and the file's first pages.
      for (let i = 0; i < 200; i++) await store.saveMessage(message(i));
      await Promise.all(Array.from({ length: 1000 }, (_, i) => store.saveMessage(message(i))));

      let t0 = performance.now();
      for (let i = 0; i < sequential; i++) await store.saveMessage(message(i));
      const oneAtATimePerSec = sequential / ((performance.now() - t0) / 1000);

      t0 = performance.now();
      await Promise.all(Array.from({ length: concurrent }, (_, i) => store.saveMessage(message(i))));
      const groupCommitPerSec = concurrent / ((performance.now() - t0) / 1000);
      return { oneAtATimePerSec, groupCommitPerSec };
    } finally {
      await store.close();
    }
  },
});
