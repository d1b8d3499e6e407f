import type { Database } from 'node-sqlite3-wasm';
import pg, { type PoolClient } from 'pg';
import { migrate } from './pg-migrations';
import { int, type Row } from './sqlite-rows';

// Copies an embedded store's database (./sqlite-migrations.ts, newest schema) into a PostgreSQL store's
// (./pg-migrations.ts) row for row, ids included, so that a node on it sees what the single server saw.

/** The PostgreSQL type of a column, as its values are sent: an array of them per slice, through unnest. */
type ColumnType = 'bigint' | 'text' | 'smallint';

interface Table {
  name: string;
  /** What an operator calls its rows. */
  label: string;
  /** Named in every statement, so that columns a later schema adds (nullable or with a default) are left to it. */
  columns: Record<string, ColumnType>;
  /** Its `id` is an identity column: given as it was, and the identity then set to continue after it. */
  identity?: boolean;
}

/** In an order that inserts what a row references before the row (the foreign keys are checked as rows go in). */
const TABLES: readonly Table[] = [
  {
    name: 'users',
    label: 'users',
    identity: true,
    columns: { id: 'bigint', username: 'text', password_hash: 'text', created_at: 'bigint', last_seen: 'bigint' },
  },
  { name: 'blocks', label: 'blocks', columns: { blocker: 'text', blocked: 'text' } },
  {
    name: 'session_tokens',
    label: 'session tokens',
    columns: { token_hash: 'text', username: 'text', created_at: 'bigint', expires_at: 'bigint' },
  },
  {
    name: 'channels',
    label: 'channels',
    identity: true,
    columns: { id: 'bigint', name: 'text', topic: 'text', private: 'smallint', creator: 'text', last_seq: 'bigint', created_at: 'bigint' },
  },
  { name: 'channel_members', label: 'channel memberships', columns: { channel_id: 'bigint', username: 'text', read_seq: 'bigint' } },
  {
    name: 'messages',
    label: 'messages',
    columns: {
      id: 'bigint',
      sender: 'text',
      sender_id: 'bigint',
      kind: 'text',
      recipient: 'text',
      recipient_id: 'bigint',
      body: 'text',
      sent_at: 'bigint',
      client_msg_id: 'text',
      channel_id: 'bigint',
      seq: 'bigint',
    },
  },
  { name: 'deliveries', label: 'acknowledged deliveries', columns: { message_id: 'bigint', recipient: 'text' } },
  { name: 'pending', label: 'pending deliveries', columns: { recipient: 'text', message_id: 'bigint', sender: 'text' } },
  { name: 'mentions', label: 'mentions', columns: { message_id: 'bigint', username: 'text', channel_id: 'bigint', seq: 'bigint' } },
  { name: 'read_positions', label: 'read positions', columns: { username: 'text', partner: 'text', read_id: 'bigint' } },
];

/** Rows per INSERT: a slice of the history is in memory at a time, never the whole. */
const SLICE_ROWS = 5_000;

/** How many rows of each table were copied (by label, in the order copied), and the id the next message takes. */
export interface CopyReport {
  rows: Record<string, number>;
  nextMessageId: number;
}

/** Called after each slice: `done` of the `total` rows of the table of that label are copied. */
export type CopyProgress = (label: string, done: number, total: number) => void;

/**
 * Brings the database at `url` to the PostgreSQL store's newest schema (a transaction of its own, as a node's start
 * would), then copies everything `source` holds into it in one transaction: any failure leaves none of it there.
 * Refuses a target with data of its own, saying what; the #general its schema made is replaced by the source's.
 */
export async function copyToPostgres(source: Database, url: string, progress: CopyProgress): Promise<CopyReport> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => {}); // a broken idle connection: the query that needs it fails instead
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
      await client.query('BEGIN');
      try {
        const report = await copyAll(source, client, progress);
        await client.query('COMMIT');
        return report;
      } catch (error) {
        // The error that stopped the copy is the one to report; on a broken connection the server rolled back already.
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

async function copyAll(source: Database, target: PoolClient, progress: CopyProgress): Promise<CopyReport> {
  // Writes of nodes already running on the target wait until the copy is committed, rather than go in beside it.
  await target.query(`LOCK TABLE counters, ${TABLES.map((t) => t.name).join(', ')} IN EXCLUSIVE MODE`);
  const found = Object.entries(await targetData(target)).map(
    ([label, n]) => `${label === 'channels' ? 'channels besides #general' : label} ${n}`,
  );
  if (found.length > 0) {
    throw new Error(`the target database is not empty (it holds ${found.join(', ')}); migrate copies only into a database with no data`);
  }
  await target.query('DELETE FROM channels'); // the #general the schema made, with no members or messages
  const rows: Record<string, number> = {};
  for (const table of TABLES) rows[table.label] = await copyTable(source, target, table, progress);
  // Ids continue after the largest ever taken, also one whose row was deleted since (SQLite's AUTOINCREMENT never reuses them).
  const lastMessageId = lastId(source, 'messages');
  await target.query("UPDATE counters SET value = $1 WHERE name = 'messages'", [lastMessageId]);
  for (const table of TABLES.filter((t) => t.identity)) {
    await target.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), $2, false)`, [table.name, lastId(source, table.name) + 1]);
  }
  return { rows, nextMessageId: lastMessageId + 1 };
}

/** Rows per table the target holds, besides an empty #general; only the tables that have any. */
async function targetData(target: PoolClient): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const { name, label } of TABLES) {
    const unlessDefault = name === 'channels' ? " WHERE NOT (name = 'general' AND last_seq = 0)" : '';
    const [row] = (await target.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}${unlessDefault}`)).rows;
    if (Number(row?.n) > 0) found[label] = Number(row?.n);
  }
  return found;
}

/** Copies one table in slices of SLICE_ROWS; returns how many rows. */
async function copyTable(source: Database, target: PoolClient, table: Table, progress: CopyProgress): Promise<number> {
  const names = Object.keys(table.columns);
  const types = Object.values(table.columns);
  const total = int((source.all(`SELECT count(*) AS n FROM ${table.name}`) as Row[])[0] ?? {}, 'n');
  const insert =
    `INSERT INTO ${table.name} (${names.join(', ')})${table.identity ? ' OVERRIDING SYSTEM VALUE' : ''} ` +
    `SELECT * FROM unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})`;
  const statement = source.prepare(`SELECT ${names.join(', ')} FROM ${table.name}`);
  let done = 0;
  try {
    let slice: Row[] = [];
    const flush = async (): Promise<void> => {
      await target.query(
        insert,
        names.map((name) => slice.map((row) => row[name])),
      );
      done += slice.length;
      slice = [];
      progress(table.label, done, total);
    };
    for (const row of statement.iterate() as Iterable<Row>) {
      slice.push(row);
      if (slice.length === SLICE_ROWS) await flush();
    }
    if (slice.length > 0) await flush();
    if (total === 0) progress(table.label, 0, 0);
  } finally {
    statement.finalize();
  }
  return done;
}

/** The largest id `table` has ever given, whether or not its row is still there. */
function lastId(source: Database, table: string): number {
  const [row] = source.all(
    `SELECT max(coalesce((SELECT max(seq) FROM sqlite_sequence WHERE name = ?), 0), coalesce((SELECT max(id) FROM ${table}), 0)) AS id`,
    [table],
  ) as Row[];
  return int(row ?? {}, 'id');
}
