import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { openPgStore } from '../../src/server/store/pg-store';
import { openSqliteStore } from '../../src/server/store/sqlite-store';
import type { Store } from '../../src/server/store/store';
import { openWorkerStore } from '../../src/server/store/worker-store';
import { POSTGRES_MISSING, usePostgres } from './postgres';

/** A kind of store: where a fresh one lives (a data directory, a database), and how to open it there. */
export interface StoreKind {
  name: string;
  /** Why it cannot run on this machine. */
  skip?: string;
  place(t: TestContext): Promise<string>;
  open(place: string): Promise<Store>;
}

/** A temporary directory, removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-store-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sqliteDir = (t: TestContext): Promise<string> => Promise.resolve(tempDir(t));

/** The embedded store on the calling thread and, as the server runs it, in a worker thread. */
export const SQLITE_KINDS: readonly StoreKind[] = [
  { name: 'SqliteStore on the calling thread', place: sqliteDir, open: (dir) => openSqliteStore(dir) },
  { name: 'SqliteStore in a worker thread', place: sqliteDir, open: (dir) => openWorkerStore(dir) },
];

/** Every store, for the tests of the Store contract; PostgreSQL's in a database of its own per test. Import at the top level. */
export function storeKinds(): readonly StoreKind[] {
  const postgres = usePostgres();
  return [
    ...SQLITE_KINDS,
    { name: 'PgStore', skip: POSTGRES_MISSING, place: () => postgres.createDatabase(), open: (url) => openPgStore(url) },
  ];
}

/** A store in a fresh place, closed after the test (closing twice is harmless). */
export async function freshStore(t: TestContext, kind: StoreKind = SQLITE_KINDS[0]!): Promise<{ store: Store; place: string }> {
  const place = await kind.place(t);
  const store = await kind.open(place);
  t.after(() => store.close());
  return { store, place };
}
