import fs from 'node:fs';
import path from 'node:path';
import { Database, type RunResult, type SQLiteValue, type Statement } from 'node-sqlite3-wasm';
import type { ChatMessage, MessageKind } from '../../protocol';
import { LONE_SURROGATE } from '../../protocol/limits';
import { claimDataDir } from './data-dir';
import type {
  Acknowledgement,
  HistoryQuery,
  NewMessage,
  PendingPage,
  Refused,
  Saved,
  SessionTokenRecord,
  Store,
  UserRecord,
} from './store';

/**
 * How SQLite journals. 'wal' (the default) needs locking_mode=EXCLUSIVE because the
 * node-sqlite3-wasm VFS has no shared memory; it costs one fsync per commit. The rollback
 * variants (three to four fsyncs per commit) are kept for bench/measure-store.ts.
 */
export type JournalChoice = 'wal' | 'rollback' | 'rollback-exclusive';

export interface SqliteStoreOptions {
  /** 0 (default): flush queued writes on the next turn of the event loop; more: wait up to this long to gather a bigger batch. */
  groupCommitMaxDelayMs?: number;
  journal?: JournalChoice;
}

/** A batch this big is committed at once instead of waiting for the timer. */
const MAX_BATCH = 512;
/** SQLite's page cache, at most (see configure). */
const CACHE_KIB = 32 * 1024;

/** Append-only: entry i takes the schema from user_version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER
  );
  CREATE TABLE blocks (
    blocker TEXT NOT NULL,
    blocked TEXT NOT NULL,
    PRIMARY KEY (blocker, blocked)
  ) WITHOUT ROWID;
  CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused
    sender        TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('direct', 'broadcast')),
    recipient     TEXT,                              -- NULL for a broadcast
    body          TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    client_msg_id TEXT,
    UNIQUE (sender, client_msg_id)
  );
  -- The primary key also serves history: everything a user received, by id.
  CREATE TABLE deliveries (
    message_id INTEGER NOT NULL REFERENCES messages (id),
    recipient  TEXT NOT NULL,
    delivered  INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1)),
    PRIMARY KEY (recipient, message_id)
  ) WITHOUT ROWID;
  -- Delivered rows stay for history; this keeps pendingFor from walking over them.
  CREATE INDEX deliveries_pending ON deliveries (recipient, message_id) WHERE delivered = 0;
  CREATE INDEX messages_by_sender ON messages (sender, id);
  CREATE INDEX messages_by_pair ON messages (sender, recipient, id) WHERE recipient IS NOT NULL;
  `,
  // Unacknowledged deliveries move to a table of their own. It holds only what is in flight, so it
  // stays a few pages that every commit shares; a flag and a partial index on `deliveries` (keyed by
  // recipient, spread over the whole file) cost a page write per recipient twice: when stored, when
  // acknowledged.
  `
  CREATE TABLE pending (
    recipient  TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (recipient, message_id)
  ) WITHOUT ROWID;
  INSERT INTO pending (recipient, message_id) SELECT recipient, message_id FROM deliveries WHERE delivered = 0;
  DROP INDEX deliveries_pending;
  ALTER TABLE deliveries DROP COLUMN delivered;
  `,
  // Accounts get an id of their own, never reused (AUTOINCREMENT), and messages belong to their sender's
  // and recipient's accounts: a user removed and added again is a new account that inherits none of the
  // old one's messages. Names stay for display. A name with no account (one removed before this, or a
  // store used without accounts) has id 0. Deliveries and pending rows are the recipient's own and keep
  // the name: removeUser deletes them, and putUser clears what an account removed before this left.
  `
  CREATE TABLE users_v3 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER
  );
  INSERT INTO users_v3 (username, password_hash, created_at, last_seen)
    SELECT username, password_hash, created_at, last_seen FROM users ORDER BY created_at, username;
  DROP TABLE users;
  ALTER TABLE users_v3 RENAME TO users;

  CREATE TABLE messages_v3 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sender        TEXT NOT NULL,
    sender_id     INTEGER NOT NULL,                  -- users.id, or 0: no account
    kind          TEXT NOT NULL CHECK (kind IN ('direct', 'broadcast')),
    recipient     TEXT,                              -- NULL for a broadcast
    recipient_id  INTEGER,                           -- likewise; NULL for a broadcast
    body          TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    client_msg_id TEXT,
    UNIQUE (sender_id, sender, client_msg_id)
  );
  INSERT INTO messages_v3 (id, sender, sender_id, kind, recipient, recipient_id, body, sent_at, client_msg_id)
    SELECT m.id, m.sender, coalesce(s.id, 0), m.kind, m.recipient,
           CASE WHEN m.recipient IS NULL THEN NULL ELSE coalesce(r.id, 0) END, m.body, m.sent_at, m.client_msg_id
    FROM messages m LEFT JOIN users s ON s.username = m.sender LEFT JOIN users r ON r.username = m.recipient;
  -- Ids are never reused, even those of the newest messages if they were ever deleted.
  UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'messages')) WHERE name = 'messages_v3';
  DROP TABLE messages;
  ALTER TABLE messages_v3 RENAME TO messages;
  CREATE INDEX messages_by_sender ON messages (sender_id, sender, id);
  CREATE INDEX messages_by_pair ON messages (sender_id, sender, recipient_id, recipient, id) WHERE recipient IS NOT NULL;
  `,
  // Pending rows name their sender, so that what one sender has queued for one recipient is counted
  // through an index (the cap in saveMessage) rather than by walking the recipient's whole queue.
  `
  ALTER TABLE pending ADD COLUMN sender TEXT;
  UPDATE pending SET sender = (SELECT sender FROM messages WHERE id = pending.message_id);
  CREATE INDEX pending_by_pair ON pending (recipient, sender);
  `,
  // Session tokens (protocol 2): only their SHA-256 is kept, so that a copy of the file signs nobody in.
  `
  CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX session_tokens_by_user ON session_tokens (username);
  CREATE INDEX session_tokens_by_expiry ON session_tokens (expires_at);
  `,
];

const MESSAGE_COLUMNS = 'm.id, m.sender, m.recipient, m.kind, m.body, m.sent_at';
/** The id of the account named by parameter `n`, 0 if there is none: with the name, what a message belongs to. */
const accountId = (n: number): string => `coalesce((SELECT id FROM users WHERE username = ?${n}), 0)`;
/** Messages that `sender` (parameter `n`) sent: its account's, or the bare name's. */
const sentBy = (n: number): string => `sender_id = ${accountId(n)} AND sender = ?${n}`;
const sentTo = (n: number): string => `recipient_id = ${accountId(n)} AND recipient = ?${n}`;

/** Every statement the store runs, prepared once at open. */
const SQL = {
  begin: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  savepoint: 'SAVEPOINT op',
  release: 'RELEASE op',
  rollbackToSavepoint: 'ROLLBACK TO op',

  getUser: 'SELECT * FROM users WHERE username = ?',
  // Run before putUser: a new account starts with nothing addressed to its bare name (a message that was
  // stored for an account removed meanwhile, say).
  clearUnowned: 'DELETE FROM pending WHERE recipient = ?1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = ?1)',
  clearUnownedDeliveries: 'DELETE FROM deliveries WHERE recipient = ?1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = ?1)',
  clearUnownedTokens: 'DELETE FROM session_tokens WHERE username = ?1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = ?1)',
  listUsers: 'SELECT * FROM users ORDER BY username',
  putUser: `INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)
            ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash`,
  deleteUser: 'DELETE FROM users WHERE username = ?',
  deleteBlocksOf: 'DELETE FROM blocks WHERE blocker = ?1 OR blocked = ?1',
  // Their receipts too: a later account of that name must not find them in its history.
  deleteDeliveriesOf: 'DELETE FROM deliveries WHERE recipient = ?',
  deletePendingOf: 'DELETE FROM pending WHERE recipient = ?',
  setLastSeen: 'UPDATE users SET last_seen = ? WHERE username = ?',

  putSessionToken: 'INSERT INTO session_tokens (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
  deleteExpiredTokens: 'DELETE FROM session_tokens WHERE expires_at <= ?',
  getSessionToken: 'SELECT * FROM session_tokens WHERE token_hash = ?',
  renewSessionToken: 'UPDATE session_tokens SET expires_at = ? WHERE token_hash = ?',
  deleteSessionToken: 'DELETE FROM session_tokens WHERE token_hash = ?',
  deleteSessionTokensOf: 'DELETE FROM session_tokens WHERE username = ?',

  findByClientId: `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE ${sentBy(1)} AND client_msg_id = ?2`,
  // A retried send (same sender and clientMsgId) inserts nothing; NULL ids never conflict.
  insertMessage: `INSERT INTO messages (sender, sender_id, kind, recipient, recipient_id, body, sent_at, client_msg_id)
                  VALUES (?1, ${accountId(1)}, ?2, ?3, iif(?3 IS NULL, NULL, ${accountId(3)}), ?4, ?5, ?6)
                  ON CONFLICT (sender_id, sender, client_msg_id) DO NOTHING`,
  insertPending: 'INSERT INTO pending (recipient, message_id, sender) VALUES (?, ?, ?)',
  // Stops counting at the cap: a full queue costs no more to check than one just under it.
  countPendingFrom: 'SELECT count(*) AS n FROM (SELECT 1 FROM pending WHERE recipient = ? AND sender = ? LIMIT ?)',
  pendingFor: `SELECT ${MESSAGE_COLUMNS} FROM pending p JOIN messages m ON m.id = p.message_id
               WHERE p.recipient = ? AND p.message_id > ? ORDER BY p.message_id LIMIT ?`,
  // An acknowledgement moves its rows from pending to deliveries, two statements for any number of ids
  // (a JSON array). OR IGNORE: databases written before this kept both rows from the start.
  recordDelivered: `INSERT OR IGNORE INTO deliveries (message_id, recipient)
                    SELECT message_id, recipient FROM pending
                    WHERE recipient = ?1 AND message_id IN (SELECT value FROM json_each(?2))`,
  markDelivered: 'DELETE FROM pending WHERE recipient = ?1 AND message_id IN (SELECT value FROM json_each(?2))',

  // What a user's account sent, was delivered, and has yet to acknowledge. Each branch takes its newest `limit`
  // rows through its own index, so a page costs O(limit) however long the history; the outer query
  // keeps the newest `limit` of them all.
  history: `
    WITH page (id) AS (
      SELECT id FROM (SELECT id FROM messages WHERE ${sentBy(1)} AND id < ?2 ORDER BY id DESC LIMIT ?3)
      UNION
      SELECT id FROM (SELECT message_id AS id FROM deliveries
                      WHERE recipient = ?1 AND message_id < ?2 ORDER BY message_id DESC LIMIT ?3)
      UNION
      SELECT id FROM (SELECT message_id AS id FROM pending
                      WHERE recipient = ?1 AND message_id < ?2 ORDER BY message_id DESC LIMIT ?3)
      ORDER BY id DESC LIMIT ?3)
    SELECT ${MESSAGE_COLUMNS} FROM page JOIN messages m ON m.id = page.id ORDER BY m.id`,
  historyWith: `
    WITH page (id) AS (
      SELECT id FROM (SELECT id FROM messages WHERE ${sentBy(1)} AND ${sentTo(2)} AND id < ?3 ORDER BY id DESC LIMIT ?4)
      UNION ALL
      SELECT id FROM (SELECT id FROM messages WHERE ${sentBy(2)} AND ${sentTo(1)} AND id < ?3 ORDER BY id DESC LIMIT ?4)
      ORDER BY id DESC LIMIT ?4)
    SELECT ${MESSAGE_COLUMNS} FROM page JOIN messages m ON m.id = page.id ORDER BY m.id`,

  listBlocks: 'SELECT blocker, blocked FROM blocks ORDER BY blocker, blocked',
  addBlock: 'INSERT OR IGNORE INTO blocks (blocker, blocked) VALUES (?, ?)',
  removeBlock: 'DELETE FROM blocks WHERE blocker = ? AND blocked = ?',
} as const;

type Statements = Record<keyof typeof SQL, Prepared>;
type Row = Record<string, SQLiteValue>;

/**
 * A statement prepared once and reused. After a failed step, node-sqlite3-wasm refuses to
 * bind it again (sqlite3_reset repeats the step's error), so a statement that failed is
 * replaced by a fresh one; this only happens on the error path.
 */
class Prepared {
  private stmt: Statement;

  constructor(
    private readonly db: Database,
    private readonly sql: string,
  ) {
    this.stmt = db.prepare(sql);
  }

  run(values: SQLiteValue[] = []): RunResult {
    refuseUnstorable(values);
    return this.guard(() => this.stmt.run(values));
  }

  /** all() rather than get(): get() leaves the statement mid-step, holding its read open. */
  all(values: SQLiteValue[] = []): Row[] {
    refuseUnstorable(values);
    return this.guard(() => this.stmt.all(values) as Row[]);
  }

  finalize(): void {
    this.stmt.finalize();
  }

  private guard<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      try {
        this.stmt.finalize();
      } catch {
        // finalize reports the failed step's error again
      }
      this.stmt = this.db.prepare(this.sql);
      throw error;
    }
  }
}

/**
 * node-sqlite3-wasm binds text as a C string in UTF-8, so a value would be cut at its first U+0000, and a
 * lone surrogate changed: stored otherwise than acknowledged, or matched against another row. Requests
 * are validated before this; this keeps a caller that was not from losing text silently.
 */
function refuseUnstorable(values: SQLiteValue[]): void {
  for (const value of values) {
    if (typeof value !== 'string') continue;
    if (value.includes('\0')) throw new Error('the store cannot keep text that contains U+0000 (NUL)');
    if (LONE_SURROGATE.test(value)) throw new Error('the store cannot keep text that contains a lone UTF-16 surrogate');
  }
}

/** A queued write: `run` applies it inside the batch transaction and returns how to settle its promise after COMMIT. */
interface QueuedWrite {
  run(): () => void;
  reject(error: unknown): void;
}

/** Opens (creating if needed) the store in `dataDir`, on this thread, after claiming the directory for this process. */
export async function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const { dir, release } = claimDataDir(dataDir);
  try {
    return openClaimedSqliteStore(dir, options, release);
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Opens the store in a directory the caller has claimed (see ./data-dir.ts): the store worker's
 * way in, since the claim is held by the thread that owns the process's other stores.
 * `release` runs when the store closes.
 */
export function openClaimedSqliteStore(dir: string, options: SqliteStoreOptions, release: () => void = () => {}): SqliteStore {
  const file = path.join(dir, 'parley.db');
  // The VFS locks by creating this directory, and a killed process leaves it behind (the
  // next open would fail with SQLITE_BUSY). We hold the pid file, so it can only be stale.
  fs.rmSync(`${file}.lock`, { recursive: true, force: true });
  const db = new Database(file);
  try {
    configure(db, options.journal ?? 'wal');
    migrate(db, file);
    return new SqliteStore(db, dir, options.groupCommitMaxDelayMs ?? 0, release);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Use openSqliteStore, which takes the data directory's locks first. */
export class SqliteStore implements Store {
  private readonly stmts: Statements;
  private queue: QueuedWrite[] = [];
  private cancelScheduledFlush: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly dir: string,
    private readonly maxDelayMs: number,
    private readonly releaseDir: () => void,
  ) {
    const entries = Object.entries(SQL).map(([name, sql]) => [name, new Prepared(db, sql)] as const);
    this.stmts = Object.fromEntries(entries) as Statements;
  }

  getUser(username: string): Promise<UserRecord | undefined> {
    return this.read(() => {
      const [row] = this.rows('getUser', [username]);
      return row && toUser(row);
    });
  }

  listUsers(): Promise<UserRecord[]> {
    return this.read(() => this.rows('listUsers').map(toUser));
  }

  putUser(username: string, passwordHash: string, createdAt: number): Promise<void> {
    return this.write(() => {
      this.stmts.clearUnowned.run([username]);
      this.stmts.clearUnownedDeliveries.run([username]);
      this.stmts.clearUnownedTokens.run([username]);
      this.stmts.putUser.run([username, passwordHash, createdAt]);
    });
  }

  removeUser(username: string): Promise<boolean> {
    return this.write(() => {
      this.stmts.deleteBlocksOf.run([username]);
      this.stmts.deleteDeliveriesOf.run([username]);
      this.stmts.deletePendingOf.run([username]);
      this.stmts.deleteSessionTokensOf.run([username]);
      return this.stmts.deleteUser.run([username]).changes > 0;
    });
  }

  setLastSeen(username: string, at: number): Promise<void> {
    return this.write(() => {
      this.stmts.setLastSeen.run([at, username]);
    });
  }

  putSessionToken(token: SessionTokenRecord): Promise<void> {
    return this.write(() => {
      this.stmts.deleteExpiredTokens.run([token.createdAt]);
      this.stmts.putSessionToken.run([token.tokenHash, token.username, token.createdAt, token.expiresAt]);
    });
  }

  getSessionToken(tokenHash: string): Promise<SessionTokenRecord | undefined> {
    return this.read(() => {
      const [row] = this.rows('getSessionToken', [tokenHash]);
      return row && toSessionToken(row);
    });
  }

  renewSessionToken(tokenHash: string, expiresAt: number): Promise<void> {
    return this.write(() => {
      this.stmts.renewSessionToken.run([expiresAt, tokenHash]);
    });
  }

  deleteSessionToken(tokenHash: string): Promise<void> {
    return this.write(() => {
      this.stmts.deleteSessionToken.run([tokenHash]);
    });
  }

  deleteSessionTokensOf(username: string): Promise<number> {
    return this.write(() => this.stmts.deleteSessionTokensOf.run([username]).changes);
  }

  saveMessage(message: NewMessage): Promise<Saved>;
  saveMessage(message: NewMessage, maxPendingPerSender: number): Promise<Saved | Refused>;
  saveMessage(message: NewMessage, maxPendingPerSender = Infinity): Promise<Saved | Refused> {
    const recipients = [...new Set(message.recipients)];
    const to = message.kind === 'direct' ? recipients[0] : null;
    if (to === undefined || (message.kind === 'direct' && recipients.length !== 1)) {
      return Promise.reject(new Error('a direct message needs exactly one recipient'));
    }
    const clientMsgId = message.clientMsgId ?? null;
    // The conflict check and the count run inside the batch transaction, so they also see writes queued in the same batch.
    return this.write(() => {
      const { from, kind, body, sentAt } = message;
      const full = recipients.filter((recipient) => this.pendingFrom(from, recipient, maxPendingPerSender) >= maxPendingPerSender);
      if (to !== null && full.length > 0) {
        // A retry of a send stored before the queue filled still gets its first answer.
        const [first] = clientMsgId === null ? [] : this.rows('findByClientId', [from, clientMsgId]);
        return first ? { message: toMessage(first), duplicate: true, full: [] } : { message: undefined, full };
      }
      const inserted = this.stmts.insertMessage.run([from, kind, to, body, sentAt, clientMsgId]);
      if (inserted.changes === 0) {
        const [first] = this.rows('findByClientId', [from, clientMsgId]);
        if (!first) throw new Error(`message ${from}/${String(clientMsgId)} conflicted but cannot be found`);
        return { message: toMessage(first), duplicate: true, full: [] };
      }
      const id = Number(inserted.lastInsertRowid);
      // Only the small pending table is written before delivery; see markDelivered.
      for (const recipient of recipients) if (!full.includes(recipient)) this.stmts.insertPending.run([recipient, id, from]);
      return { message: { id, from, to, kind, body, sentAt }, duplicate: false, full };
    });
  }

  /** How many of `from`'s messages wait for `recipient`, counted up to `cap`. */
  private pendingFrom(from: string, recipient: string, cap: number): number {
    if (cap === Infinity) return 0;
    const [row] = this.rows('countPendingFrom', [recipient, from, cap]);
    return row ? int(row, 'n') : 0;
  }

  findSent(from: string, clientMsgId: string): Promise<ChatMessage | undefined> {
    return this.read(() => {
      const [row] = this.rows('findByClientId', [from, clientMsgId]);
      return row && toMessage(row);
    });
  }

  pendingFor(recipient: string, page: PendingPage = {}): Promise<ChatMessage[]> {
    const { after = 0, limit = -1 } = page; // a negative LIMIT is none in SQLite
    return this.read(() => this.rows('pendingFor', [recipient, after, limit]).map(toMessage));
  }

  markDelivered(acks: readonly Acknowledgement[]): Promise<number[]> {
    const lists = acks.map(({ recipient, ids }) => [recipient, JSON.stringify([...new Set(ids)])]);
    // The history row is written here rather than with the message: `deliveries` is keyed by recipient, so a
    // broadcast's rows would touch a page per recipient in the commit its delivery waits for, while one
    // acknowledgement's rows share their recipient's page.
    return this.write(() =>
      lists.map((values) => {
        this.stmts.recordDelivered.run(values);
        return this.stmts.markDelivered.run(values).changes;
      }),
    );
  }

  history(user: string, query: HistoryQuery): Promise<ChatMessage[]> {
    const before = query.before ?? Number.MAX_SAFE_INTEGER;
    const limit = Number.isFinite(query.limit) ? Math.max(0, Math.floor(query.limit)) : 0;
    return this.read(() => {
      const rows =
        query.with === undefined
          ? this.rows('history', [user, before, limit])
          : this.rows('historyWith', [user, query.with, before, limit]);
      return rows.map(toMessage);
    });
  }

  listBlocks(): Promise<{ blocker: string; blocked: string }[]> {
    return this.read(() => this.rows('listBlocks').map((row) => ({ blocker: text(row, 'blocker'), blocked: text(row, 'blocked') })));
  }

  addBlock(blocker: string, blocked: string): Promise<void> {
    return this.write(() => {
      this.stmts.addBlock.run([blocker, blocked]);
    });
  }

  removeBlock(blocker: string, blocked: string): Promise<void> {
    return this.write(() => {
      this.stmts.removeBlock.run([blocker, blocked]);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      try {
        // close_v2 would leave the file open as a "zombie" while any statement lives.
        for (const stmt of Object.values(this.stmts)) stmt.finalize();
        this.db.close();
      } finally {
        this.releaseDir();
      }
    }
  }

  private rows(name: keyof typeof SQL, values: SQLiteValue[] = []): Row[] {
    return this.stmts[name].all(values);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`the store in ${this.dir} is closed`);
  }

  /** Reads see every write queued before them: the queue is committed first. */
  private async read<T>(query: () => T): Promise<T> {
    this.assertOpen();
    if (this.queue.length > 0) this.flush();
    return query();
  }

  /** Queues a write; it resolves once the batch holding it is committed and fsynced. */
  private write<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.assertOpen();
      this.queue.push({
        run: () => {
          const result = apply();
          return () => resolve(result);
        },
        reject,
      });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.cancelScheduledFlush) return;
    if (this.maxDelayMs > 0) {
      const timer = setTimeout(() => this.flush(), this.maxDelayMs);
      this.cancelScheduledFlush = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.flush());
      this.cancelScheduledFlush = () => clearImmediate(immediate);
    }
  }

  /**
   * Commits every queued write in one transaction, so that a burst of sends costs one fsync.
   * The batch first runs plainly; if a write throws (a constraint, say), the batch is rolled back
   * and run again with a savepoint per write, so that the failing one is undone and rejected
   * alone and the rest still commits. Writes only touch the database, so running one twice is safe.
   */
  private flush(): void {
    this.cancelScheduledFlush?.();
    this.cancelScheduledFlush = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;

    let settlers: (() => void)[];
    try {
      settlers = this.commitBatch(batch, false) ?? this.commitBatch(batch, true) ?? [];
    } catch (error) {
      for (const write of batch) write.reject(error);
      try {
        if (this.db.inTransaction) this.stmts.rollback.run();
      } catch {
        // Nothing more to undo; the next batch's BEGIN reports a broken connection to its writers.
      }
      return;
    }
    for (const settle of settlers) settle();
  }

  /**
   * Runs and commits a batch; returns how to settle each write. Without savepoints, a failing write
   * rolls the whole batch back and returns undefined (to be run again with them).
   */
  private commitBatch(batch: QueuedWrite[], savepoints: boolean): (() => void)[] | undefined {
    const { begin, commit, rollback, savepoint, release, rollbackToSavepoint } = this.stmts;
    const settlers: (() => void)[] = [];
    begin.run();
    for (const write of batch) {
      if (!savepoints) {
        try {
          settlers.push(write.run());
        } catch (error) {
          if (!this.db.inTransaction) throw error;
          rollback.run();
          return undefined;
        }
        continue;
      }
      savepoint.run();
      try {
        settlers.push(write.run());
      } catch (error) {
        // Some errors (I/O, disk full) make SQLite roll back the whole transaction.
        if (!this.db.inTransaction) throw error;
        rollbackToSavepoint.run();
        settlers.push(() => write.reject(error));
      }
      release.run();
    }
    commit.run();
    return settlers;
  }
}

function configure(db: Database, journal: JournalChoice): void {
  // Must come before anything reads the file: without shared memory, SQLite can only open
  // a WAL database in exclusive locking mode.
  if (journal !== 'rollback') db.exec('PRAGMA locking_mode = EXCLUSIVE');
  const wanted = journal === 'wal' ? 'wal' : 'delete';
  const [row] = db.all(`PRAGMA journal_mode = ${wanted}`) as Row[];
  const mode = row?.['journal_mode'];
  if (mode !== wanted) throw new Error(`SQLite refused journal_mode=${wanted} (got ${String(mode)})`);
  // FULL: every commit is fsynced before it returns, which is what lets writes resolve durably.
  db.exec('PRAGMA synchronous = FULL');
  // Every signed-in user has a page of their own in each index; with SQLite's default cache (2 MiB) a
  // thousand active users evict each other's pages and every commit reads them back. The cache only
  // grows as pages are used, up to this.
  db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
}

function migrate(db: Database, file: string): void {
  const [row] = db.all('PRAGMA user_version') as Row[];
  const version = row ? int(row, 'user_version') : 0;
  if (version > MIGRATIONS.length) {
    throw new Error(`${file} has schema version ${version}; this server knows up to ${MIGRATIONS.length}`);
  }
  if (version === MIGRATIONS.length) return;
  // SQLite's way to change a table's constraints is to rebuild it, and dropping a table that others
  // reference fails while foreign keys are enforced (this build enforces them); the check below
  // stands in for them. The pragma cannot change inside a transaction.
  const [fk] = db.all('PRAGMA foreign_keys') as Row[];
  db.exec('PRAGMA foreign_keys = OFF');
  try {
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(MIGRATIONS[v] ?? '');
        const broken = db.all('PRAGMA foreign_key_check');
        if (broken.length > 0) throw new Error(`migration ${v + 1} of ${file} left ${broken.length} rows without what they reference`);
        db.exec(`PRAGMA user_version = ${v + 1}`);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    }
  } finally {
    if (fk && int(fk, 'foreign_keys') === 1) db.exec('PRAGMA foreign_keys = ON');
  }
}

// Row mappers: node-sqlite3-wasm returns untyped rows; these check each column once.

function toUser(row: Row): UserRecord {
  return {
    id: int(row, 'id'),
    username: text(row, 'username'),
    passwordHash: text(row, 'password_hash'),
    createdAt: int(row, 'created_at'),
    lastSeen: row['last_seen'] === null ? null : int(row, 'last_seen'),
  };
}

function toSessionToken(row: Row): SessionTokenRecord {
  return {
    tokenHash: text(row, 'token_hash'),
    username: text(row, 'username'),
    createdAt: int(row, 'created_at'),
    expiresAt: int(row, 'expires_at'),
  };
}

function toMessage(row: Row): ChatMessage {
  return {
    id: int(row, 'id'),
    from: text(row, 'sender'),
    to: row['recipient'] === null ? null : text(row, 'recipient'),
    kind: kind(text(row, 'kind')),
    body: text(row, 'body'),
    sentAt: int(row, 'sent_at'),
  };
}

function kind(value: string): MessageKind {
  if (value === 'direct' || value === 'broadcast') return value;
  throw new Error(`unknown message kind in the database: ${value}`);
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column}: expected text, got ${typeof value}`);
  return value;
}

function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value);
  throw new Error(`column ${column}: expected an integer, got ${typeof value}`);
}
