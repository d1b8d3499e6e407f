/**
 * PARLEY as shipped (embedded SQLite store, synchronous=FULL, group commit, validation, presence),
 * with two bench-only settings: the seeded users' passwords are hashed with a cheap scrypt cost
 * (stored in each hash, so it changes only what a sign-in costs), and the per-connection rate
 * limit is raised so that the token bucket is not what gets measured. Its log is silenced.
 */
import { silentLogger } from '../../src/server/log';
import { hashPassword, type ScryptCost } from '../../src/server/passwords';
import { createParleyServer } from '../../src/server/server';
import { openSqliteStore } from '../../src/server/store/sqlite-store';
import type { Store } from '../../src/server/store/store';
import { storeThreadUtilization } from '../../src/server/store/worker-store';
import { BENCH_PASSWORD, BENCH_RATE_LIMIT, BENCH_SCRYPT } from '../protocol';
import type { RunningServer } from './running';

/** Writes the users straight into the store (one hash shared by all: same password, same cost). */
export async function seedUsers(dataDir: string, users: string[], cost: ScryptCost = BENCH_SCRYPT): Promise<void> {
  await putUsers(await openSqliteStore(dataDir), users, cost);
}

/** The same into a cluster's PostgreSQL database, before its nodes start (pg is loaded only here). */
export async function seedClusterUsers(url: string, users: string[]): Promise<void> {
  const { openPgStore } = await import('../../src/server/store/pg-store');
  await putUsers(await openPgStore(url), users, BENCH_SCRYPT);
}

async function putUsers(store: Store, users: string[], cost: ScryptCost): Promise<void> {
  try {
    const hash = await hashPassword(BENCH_PASSWORD, cost);
    const now = Date.now();
    await Promise.all(users.map((u) => store.putUser(u, hash, now)));
  } finally {
    await store.close();
  }
}

/**
 * `shipped`: the shipped scrypt cost for new hashes and the shipped limits, as the hardening measures need.
 * `postgres`: a node of the cluster on that database (cluster mode) instead of SQLite in `dataDir`.
 */
export async function startParley(
  dataDir: string,
  { port = 0, shipped = false, postgres }: { port?: number; shipped?: boolean; postgres?: string } = {},
): Promise<RunningServer> {
  const server = await createParleyServer({
    dataDir,
    ...(postgres !== undefined && { cluster: { url: postgres } }),
    port,
    host: '127.0.0.1',
    ...(!shipped && {
      scryptCost: BENCH_SCRYPT,
      rateLimit: BENCH_RATE_LIMIT,
      // Every load client comes from 127.0.0.1, and a ramp signs hundreds in at once: only the checks at once stay as shipped.
      maxConnectionsPerAddress: Number.MAX_SAFE_INTEGER,
      signInLimits: {
        burst: Number.MAX_SAFE_INTEGER,
        perSecond: Number.MAX_SAFE_INTEGER,
        tokenBurst: Number.MAX_SAFE_INTEGER,
        tokenPerSecond: Number.MAX_SAFE_INTEGER,
        queuedChecks: Number.MAX_SAFE_INTEGER,
        checksPerAddress: Number.MAX_SAFE_INTEGER,
      },
    }),
    log: silentLogger,
  });
  const bound = await server.listen();
  return { port: bound.port, close: () => server.close(), storeUtilization: () => storeThreadUtilization(server.store) };
}
