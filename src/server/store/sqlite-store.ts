import fs from 'node:fs';
import path from 'node:path';
import { Database, type SQLiteValue } from 'node-sqlite3-wasm';
import type { ChatMessage } from '../../protocol';
import { CommitWatch } from './commit-watch';
import { claimDataDir } from './data-dir';
import { GroupCommit } from './group-commit';
import { migrate } from './sqlite-migrations';
import { Prepared } from './sqlite-prepared';
import { SQL, type QueryName } from './sqlite-queries';
import { int, text, toChannelState, toDirectStates, toMessage, toSessionToken, toStoredChannels, toUser, type Row } from './sqlite-rows';
import {
  deliveryOf,
  type Acknowledgement,
  type ChannelHistoryQuery,
  type CommitOutcome,
  type HistoryQuery,
  type MessageSlice,
  type NewChannel,
  type NewChannelMessage,
  type NewMessage,
  type PendingPage,
  type Refused,
  type Saved,
  type SavedPost,
  type SessionTokenRecord,
  type SliceResult,
  type Store,
  type StoredChannel,
  type StoredChannelState,
  type StoredDirectState,
  type StoreHealth,
  type UserRecord,
} from './store';

// The embedded store: opening the file, and each Store method as statements run through the group commit. The schema
// is in ./sqlite-migrations.ts, the SQL in ./sqlite-queries.ts, rows in ./sqlite-rows.ts. Its length is the Store
// interface's: one short method per Store method, which splitting would scatter.

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

/** SQLite's page cache, at most (see configure). */
const CACHE_KIB = 32 * 1024;

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

type Statements = Record<QueryName, Prepared>;

/** Use openSqliteStore, which takes the data directory's locks first. */
export class SqliteStore implements Store {
  private readonly stmts: Statements;
  private readonly commits: GroupCommit;
  private readonly watch = new CommitWatch();
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly dir: string,
    maxDelayMs: number,
    private readonly releaseDir: () => void,
  ) {
    const entries = Object.entries(SQL).map(([name, sql]) => [name, new Prepared(db, sql)] as const);
    this.stmts = Object.fromEntries(entries) as Statements;
    this.commits = new GroupCommit(db, maxDelayMs, this.watch.committed);
  }

  health(): StoreHealth {
    return this.watch.health(this.closed ? 'the store is closed' : undefined);
  }

  onCommit(listener: (commit: CommitOutcome) => void): void {
    this.watch.listen(listener);
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
      this.stmts.joinGeneral.run([username]);
    });
  }

  removeUser(username: string): Promise<boolean> {
    return this.write(() => {
      this.stmts.deleteBlocksOf.run([username]);
      this.stmts.deleteDeliveriesOf.run([username]);
      this.stmts.deletePendingOf.run([username]);
      this.stmts.deleteSessionTokensOf.run([username]);
      this.stmts.deleteMembershipsOf.run([username]);
      for (const row of this.rows('emptyPrivateChannels', [])) this.deleteChannelRows(int(row, 'id'));
      this.stmts.deleteMentionsOf.run([username]);
      this.stmts.deleteReadPositionsOf.run([username]);
      this.stmts.forgetCreator.run([username]);
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
  async saveMessage(message: NewMessage, maxPendingPerSender = Infinity): Promise<Saved | Refused> {
    const { recipients, to } = deliveryOf(message); // throws, so rejects: the method is async
    const clientMsgId = message.clientMsgId ?? null;
    // The conflict check and the count run inside the batch transaction, so they also see writes queued in the same batch.
    return this.write(() => {
      const { from, kind, body, sentAt } = message;
      const full = this.fullQueues(from, recipients, maxPendingPerSender);
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

  /** The recipients for whom `cap` of `from`'s messages wait already. */
  private fullQueues(from: string, recipients: string[], cap: number): string[] {
    if (cap === Infinity) return [];
    return this.rows('fullQueues', [JSON.stringify(recipients), from, cap]).map((row) => String(row.recipient));
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

  listChannels(): Promise<StoredChannel[]> {
    return this.read(() => toStoredChannels(this.rows('listChannels'), this.rows('listMembers')));
  }

  createChannel(channel: NewChannel): Promise<number | undefined> {
    return this.write(() => {
      const { name, topic, creator, createdAt } = channel;
      const inserted = this.stmts.insertChannel.run([name, topic, channel.private ? 1 : 0, creator, createdAt]);
      if (inserted.changes === 0) return undefined;
      const id = Number(inserted.lastInsertRowid);
      this.stmts.addMember.run([id, creator]);
      return id;
    });
  }

  addMember(channelId: number, username: string): Promise<void> {
    return this.write(() => {
      this.stmts.addMember.run([channelId, username]);
    });
  }

  removeMember(channelId: number, username: string): Promise<void> {
    return this.write(() => {
      this.stmts.removeMember.run([channelId, username]);
    });
  }

  setTopic(channelId: number, topic: string): Promise<void> {
    return this.write(() => {
      this.stmts.setTopic.run([topic, channelId]);
    });
  }

  renameChannel(channelId: number, name: string): Promise<void> {
    return this.write(() => {
      this.stmts.renameChannel.run([name, channelId]);
    });
  }

  deleteChannel(channelId: number): Promise<void> {
    return this.write(() => this.deleteChannelRows(channelId));
  }

  private deleteChannelRows(channelId: number): void {
    for (const stmt of ['deleteChannelMentions', 'deleteChannelMessages', 'deleteChannelMembers', 'deleteChannel'] as const) {
      this.stmts[stmt].run([channelId]);
    }
  }

  post(message: NewChannelMessage): Promise<SavedPost> {
    const clientMsgId = message.clientMsgId ?? null;
    return this.write(() => {
      const { from, channelId, body, sentAt } = message;
      const inserted = this.stmts.insertChannelMessage.run([from, body, sentAt, clientMsgId, channelId]);
      if (inserted.changes === 0) {
        const [first] = this.rows('findByClientId', [from, clientMsgId]);
        if (!first) throw new Error(`message ${from}/${String(clientMsgId)} conflicted but cannot be found`);
        const [withChannel] = first['kind'] === 'channel' ? this.rows('channelMessage', [first['id'] ?? 0]) : [];
        return { message: toMessage(withChannel ?? first), duplicate: true };
      }
      const id = Number(inserted.lastInsertRowid);
      this.stmts.bumpLastSeq.run([channelId]);
      for (const username of new Set(message.mentions)) this.stmts.insertMention.run([id, username]);
      const [row] = this.rows('channelMessage', [id]);
      if (!row) throw new Error(`channel message ${id} was stored but cannot be read`);
      return { message: toMessage(row), duplicate: false };
    });
  }

  channelHistory(channelId: number, query: ChannelHistoryQuery): Promise<ChatMessage[]> {
    const before = query.before ?? Number.MAX_SAFE_INTEGER;
    const limit = Number.isFinite(query.limit) ? Math.max(0, Math.floor(query.limit)) : 0;
    return this.read(() =>
      this.rows('channelHistory', [channelId, before, JSON.stringify(query.hidden), limit])
        .map(toMessage)
        .reverse(),
    );
  }

  channelStates(username: string, hidden: string[]): Promise<StoredChannelState[]> {
    return this.read(() => this.rows('channelStates', [username, JSON.stringify(hidden)]).map(toChannelState));
  }

  readChannel(channelId: number, username: string, seq: number): Promise<number> {
    return this.write(() => {
      this.stmts.readChannel.run([channelId, username, seq]);
      const [row] = this.rows('channelReadSeq', [channelId, username]);
      return row ? int(row, 'read_seq') : 0;
    });
  }

  readDirect(username: string, partner: string | null, id: number): Promise<number> {
    return this.write(() => {
      this.stmts.readDirect.run([username, partner ?? '', id]);
      const [row] = this.rows('directReadId', [username, partner ?? '']);
      return row ? int(row, 'read_id') : 0;
    });
  }

  directStates(username: string): Promise<StoredDirectState[]> {
    return this.read(() =>
      toDirectStates(
        this.rows('receivedSummary', [username]),
        this.rows('sentSummary', [username]),
        this.rows('readPositions', [username]),
      ),
    );
  }

  expireMessages(cutoff: number, slice: MessageSlice): Promise<SliceResult<number>> {
    return this.withoutForeignKeys(() => {
      const old: number[] = [];
      for (const row of this.rows('slice', [slice.after, slice.limit])) {
        if (int(row, 'sent_at') >= cutoff) break;
        old.push(int(row, 'id'));
      }
      const done = old.length < slice.limit;
      if (old.length === 0) return { found: 0, last: undefined };
      const first = old[0]!;
      const last = old.at(-1)!;
      const awaited = new Set(this.rows('awaited', [first, last]).map((row) => int(row, 'message_id')));
      const ids = JSON.stringify(old.filter((id) => !awaited.has(id)));
      this.stmts.expirePending.run([ids]);
      this.stmts.expireDeliveries.run([ids, first, last]);
      this.stmts.expireMentions.run([ids]);
      const found = this.stmts.expireMessages.run([ids]).changes;
      return { found, last: done ? undefined : last };
    });
  }

  postsBy(username: string, slice: MessageSlice): Promise<SliceResult<ChatMessage[]>> {
    return this.read(() => {
      const last = this.rows('slice', [slice.after, slice.limit]).at(-1);
      if (!last) return { found: [], last: undefined };
      const upTo = int(last, 'id');
      return { found: this.rows('postsBy', [username, slice.after, upTo]).map(toMessage), last: upTo };
    });
  }

  /**
   * Runs `apply` in a transaction of its own, after the queued writes, with foreign keys off: deleting a message makes
   * SQLite look for rows that reference it, and `deliveries` has no index by message (keyed by recipient for the write
   * path), so each deleted message would cost a scan of the whole table. `apply` deletes those rows itself.
   */
  private async withoutForeignKeys<T>(apply: () => T): Promise<T> {
    this.assertOpen();
    this.commits.flush();
    const [row] = this.db.all('PRAGMA foreign_keys') as Row[];
    this.db.exec('PRAGMA foreign_keys = OFF'); // only outside a transaction
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = apply();
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      if (row && int(row, 'foreign_keys') === 1) this.db.exec('PRAGMA foreign_keys = ON');
    }
  }

  backupTo(file: string): Promise<void> {
    // VACUUM cannot run inside a transaction: the queued writes are committed first, and none starts until it is done.
    return this.read(() => void this.db.run('VACUUM INTO ?', [file]));
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
      this.commits.flush();
    } finally {
      try {
        // close_v2 would leave the file open as a "zombie" while any statement lives.
        for (const stmt of Object.values(this.stmts)) stmt.finalize();
        this.commits.finalize();
        this.db.close();
      } finally {
        this.releaseDir();
      }
    }
  }

  private rows(name: QueryName, values: SQLiteValue[] = []): Row[] {
    return this.stmts[name].all(values);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`the store in ${this.dir} is closed`);
  }

  /** Reads see every write queued before them: the queue is committed first. */
  private async read<T>(query: () => T): Promise<T> {
    this.assertOpen();
    if (this.commits.hasQueued) this.commits.flush();
    return query();
  }

  /** A write resolves once the batch holding it is committed and fsynced. */
  private write<T>(apply: () => T): Promise<T> {
    try {
      this.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.commits.write(apply);
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
