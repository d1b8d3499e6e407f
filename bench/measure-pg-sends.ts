// Posts per second to one channel from 4 concurrent senders, through a real server on the embedded SQLite store and
// on PostgreSQL (a server this script starts from Debian's packages, as the tests do): docs/scaling.md.
// Usage: node --import tsx bench/measure-pg-sends.ts [posts per sender, default 500]
import { rmSync } from 'node:fs';
import { ParleyClient } from '../src/client/parley-client';
import { silentLogger } from '../src/server/log';
import { createParleyServer } from '../src/server/server';
import { openPgStore } from '../src/server/store/pg-store';
import type { Store } from '../src/server/store/store';
import { createTestDatabase, POSTGRES_MISSING } from '../test/helpers/postgres';
import { passwordOf, TEST_SCRYPT, tempDir } from '../test/helpers/server';

const SENDERS = 4;
const POSTS = Number(process.argv[2] ?? 500);
const UNLIMITED = { burst: 1_000_000, perSecond: 1_000_000 };

/** Each sender posts with one post in flight at a time, as a person's client does; returns posts per second. */
async function measure(store: Store | undefined): Promise<number> {
  const dataDir = tempDir('parley-pg-bench-');
  const server = await createParleyServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    log: silentLogger,
    scryptCost: TEST_SCRYPT,
    rateLimit: UNLIMITED,
    signInLimits: { burst: 10_000, tokenBurst: 10_000, failureBurst: 10_000 },
    ...(store ? { store } : {}),
  });
  const users = Array.from({ length: SENDERS }, (_, i) => `sender${i}`);
  for (const user of users) await server.accounts.add(user, passwordOf(user));
  const { port } = await server.listen();
  const clients = await Promise.all(
    users.map(async (user) => {
      const client = new ParleyClient(`http://127.0.0.1:${port}`, { requestTimeoutMs: 30_000 });
      await client.connect();
      await client.login(user, passwordOf(user));
      return client;
    }),
  );
  try {
    for (const client of clients) for (let i = 0; i < 20; i++) await client.post('general', `warm-up ${i}`);
    const start = performance.now();
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < POSTS; i++) await client.post('general', `sender ${c} post ${i}`);
      }),
    );
    return (SENDERS * POSTS) / ((performance.now() - start) / 1000);
  } finally {
    for (const client of clients) client.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sqlite = await measure(undefined);
  console.log(`SQLite:     ${sqlite.toFixed(0)} posts/s (${SENDERS} senders x ${POSTS})`);
  if (POSTGRES_MISSING) {
    console.log(`PostgreSQL: not measured: ${POSTGRES_MISSING}`);
    return;
  }
  const postgres = await measure(await openPgStore(await createTestDatabase()));
  console.log(`PostgreSQL: ${postgres.toFixed(0)} posts/s (${SENDERS} senders x ${POSTS})`);
}

// The exit handler of ../test/helpers/postgres.ts stops its PostgreSQL.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
