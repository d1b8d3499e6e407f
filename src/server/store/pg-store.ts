import pg, { type Pool, type PoolClient } from 'pg';
import type { ChatMessage } from '../../protocol';
import { migrate } from './pg-migrations';
import { CommitWatch } from './commit-watch';
import { PgGroupCommit, Undone, type Apply } from './pg-group-commit';
import { PG_SQL, type PgQueryName } from './pg-queries';
import { refuseUnstorable } from './sqlite-prepared';
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

// The store on PostgreSQL, for several nodes sharing one database: each Store method as statements, with the
// semantics of the embedded store (./sqlite-store.ts). The schema is in ./pg-migrations.ts, the SQL in
// ./pg-queries.ts; writes go through ./pg-group-commit.ts. Its length is the Store interface's.

export interface PgStoreOptions {
  /** Connections at most: one for the batch being committed, the rest for reads. */
  maxConnections?: number;
}

/** BIGINT columns and counts as numbers (ids, times and counts stay far below 2^53), as the row mappers read them. */
const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * A pool of connections whose breaking never ends the process, as pg's 'error' events without a listener
 * would: an idle connection that breaks is dropped, and the next query opens another; one that breaks while taken
 * out of the pool (a transaction under way) fails its queries, and is dropped when given back.
 */
export function openPool(config: Omit<pg.PoolConfig, 'types'>): pg.Pool {
  const pool = new pg.Pool({ ...config, types: PG_TYPES });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Connects to the database at `url` (a postgres:// URL) and brings its schema up to date. */
export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
  const pool = openPool({ connectionString: url, max: options.maxConnections ?? 10 });
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PgStore(pool);
}

type Queryable = Pick<PoolClient, 'query'>;

/** Runs the named statement with `values` (arrays for lists), refusing text PostgreSQL would not keep as given. */
async function query(on: Queryable, name: PgQueryName, values: unknown[] = []): Promise<{ rows: Row[]; rowCount: number }> {
  refuseUnstorable(values.flat().filter((v): v is string => typeof v === 'string'));
  const result = await on.query(PG_SQL[name], values);
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}

const rows = async (on: Queryable, name: PgQueryName, values?: unknown[]): Promise<Row[]> => (await query(on, name, values)).rows;

/** Use openPgStore, which brings the schema up to date first. */
export class PgStore implements Store {
  private readonly commits: PgGroupCommit;
  private readonly watch = new CommitWatch();
  private closed: Promise<void> | undefined;

  constructor(private readonly pool: Pool) {
    this.commits = new PgGroupCommit(pool, this.watch.committed);
  }

  health(): StoreHealth {
    return this.watch.health(this.closed ? 'the store is closed' : undefined);
  }

  onCommit(listener: (commit: CommitOutcome) => void): void {
    this.watch.listen(listener);
  }

  getUser(username: string): Promise<UserRecord | undefined> {
    return this.read(async (on) => {
      const [row] = await rows(on, 'getUser', [username]);
      return row && toUser(row);
    });
  }

  listUsers(): Promise<UserRecord[]> {
    return this.read(async (on) => (await rows(on, 'listUsers')).map(toUser));
  }

  putUser(username: string, passwordHash: string, createdAt: number): Promise<void> {
    return this.write(async (on) => {
      if ((await query(on, 'setPassword', [username, passwordHash])).rowCount > 0) return;
      for (const name of ['clearUnowned', 'clearUnownedDeliveries', 'clearUnownedTokens'] as const) await query(on, name, [username]);
      await query(on, 'putUser', [username, passwordHash, createdAt]);
      await query(on, 'joinGeneral', [username]);
    });
  }

  removeUser(username: string): Promise<boolean> {
    return this.write(async (on) => {
      for (const name of [
        'deleteBlocksOf',
        'deleteDeliveriesOf',
        'deletePendingOf',
        'deleteSessionTokensOf',
        'deleteMembershipsOf',
      ] as const) {
        await query(on, name, [username]);
      }
      for (const row of await rows(on, 'emptyPrivateChannels')) await deleteChannelRows(on, int(row, 'id'));
      for (const name of ['deleteMentionsOf', 'deleteReadPositionsOf', 'forgetCreator'] as const) await query(on, name, [username]);
      return (await query(on, 'deleteUser', [username])).rowCount > 0;
    });
  }

  setLastSeen(username: string, at: number): Promise<void> {
    return this.write(async (on) => void (await query(on, 'setLastSeen', [username, at])));
  }

  putSessionToken(token: SessionTokenRecord): Promise<void> {
    return this.write(async (on) => {
      await query(on, 'deleteExpiredTokens', [token.createdAt]);
      await query(on, 'putSessionToken', [token.tokenHash, token.username, token.createdAt, token.expiresAt]);
    });
  }

  getSessionToken(tokenHash: string): Promise<SessionTokenRecord | undefined> {
    return this.read(async (on) => {
      const [row] = await rows(on, 'getSessionToken', [tokenHash]);
      return row && toSessionToken(row);
    });
  }

  renewSessionToken(tokenHash: string, expiresAt: number): Promise<void> {
    return this.write(async (on) => void (await query(on, 'renewSessionToken', [tokenHash, expiresAt])));
  }

  deleteSessionToken(tokenHash: string): Promise<void> {
    return this.write(async (on) => void (await query(on, 'deleteSessionToken', [tokenHash])));
  }

  deleteSessionTokensOf(username: string): Promise<number> {
    return this.write(async (on) => (await query(on, 'deleteSessionTokensOf', [username])).rowCount);
  }

  saveMessage(message: NewMessage): Promise<Saved>;
  saveMessage(message: NewMessage, maxPendingPerSender: number): Promise<Saved | Refused>;
  async saveMessage(message: NewMessage, maxPendingPerSender = Infinity): Promise<Saved | Refused> {
    const { recipients, to } = deliveryOf(message); // throws, so rejects: the method is async
    const { from, kind, body, sentAt } = message;
    const clientMsgId = message.clientMsgId ?? null;
    const cap = maxPendingPerSender === Infinity ? null : maxPendingPerSender;
    return this.write(async (on): Promise<Saved | Refused | Undone<Saved | Refused>> => {
      const [row] = await rows(on, 'send', [from, kind, to, body, sentAt, clientMsgId, message.origin ?? null, recipients, cap]);
      const outcome = text(row!, 'outcome');
      // A retry of a stored send gets its first answer, even once the queue is full.
      if (outcome === 'duplicate') return { message: (await findSent(on, from, clientMsgId!))!, duplicate: true, full: [] };
      if (outcome === 'raced') return new Undone({ message: (await findSent(on, from, clientMsgId!))!, duplicate: true, full: [] });
      const full = JSON.parse(text(row!, 'full_queues')) as string[];
      if (outcome === 'full') return new Undone({ message: undefined, full });
      return { message: { id: int(row!, 'new_id'), from, to, kind, body, sentAt }, duplicate: false, full };
    });
  }

  findSent(from: string, clientMsgId: string): Promise<ChatMessage | undefined> {
    return this.read((on) => findSent(on, from, clientMsgId));
  }

  pendingFor(recipient: string, page: PendingPage = {}): Promise<ChatMessage[]> {
    const { after = 0, limit = null } = page; // LIMIT NULL is none
    return this.read(async (on) => (await rows(on, 'pendingFor', [recipient, after, limit])).map(toMessage));
  }

  markDelivered(acks: readonly Acknowledgement[]): Promise<number[]> {
    const recipients: string[] = [];
    const ids: number[] = [];
    const entries: number[] = [];
    acks.forEach(({ recipient, ids: acknowledged }, entry) => {
      for (const id of acknowledged) {
        recipients.push(recipient);
        ids.push(id);
        entries.push(entry);
      }
    });
    return this.write(async (on) => {
      const counts = acks.map(() => 0);
      if (ids.length === 0) return counts;
      for (const row of await rows(on, 'markDelivered', [recipients, ids, entries])) counts[int(row, 'entry')] = int(row, 'n');
      return counts;
    });
  }

  history(user: string, query: HistoryQuery): Promise<ChatMessage[]> {
    const before = query.before ?? Number.MAX_SAFE_INTEGER;
    const limit = Number.isFinite(query.limit) ? Math.max(0, Math.floor(query.limit)) : 0;
    return this.read(async (on) => {
      const found =
        query.with === undefined
          ? await rows(on, 'history', [user, before, limit])
          : await rows(on, 'historyWith', [user, query.with, before, limit]);
      return found.map(toMessage);
    });
  }

  listChannels(): Promise<StoredChannel[]> {
    return this.read(async (on) => toStoredChannels(await rows(on, 'listChannels'), await rows(on, 'listMembers')));
  }

  createChannel(channel: NewChannel): Promise<number | undefined> {
    return this.write(async (on) => {
      const { name, topic, creator, createdAt } = channel;
      const [row] = await rows(on, 'insertChannel', [name, topic, channel.private ? 1 : 0, creator, createdAt]);
      if (!row) return undefined;
      const id = int(row, 'id');
      await query(on, 'addMember', [id, creator]);
      return id;
    });
  }

  addMember(channelId: number, username: string): Promise<void> {
    return this.write(async (on) => void (await query(on, 'addMember', [channelId, username])));
  }

  removeMember(channelId: number, username: string): Promise<void> {
    return this.write(async (on) => void (await query(on, 'removeMember', [channelId, username])));
  }

  setTopic(channelId: number, topic: string): Promise<void> {
    return this.write(async (on) => void (await query(on, 'setTopic', [channelId, topic])));
  }

  renameChannel(channelId: number, name: string): Promise<void> {
    return this.write(async (on) => void (await query(on, 'renameChannel', [channelId, name])));
  }

  deleteChannel(channelId: number): Promise<void> {
    return this.write((on) => deleteChannelRows(on, channelId));
  }

  post(message: NewChannelMessage): Promise<SavedPost> {
    const { from, channelId, body, sentAt } = message;
    const clientMsgId = message.clientMsgId ?? null;
    return this.write(async (on): Promise<SavedPost | Undone<SavedPost>> => {
      const [row] = await rows(on, 'post', [from, body, sentAt, clientMsgId, channelId, message.origin ?? null, message.mentions]);
      const outcome = text(row!, 'outcome');
      if (outcome === 'duplicate') return { message: (await findPost(on, from, clientMsgId!))!, duplicate: true };
      if (outcome === 'raced') return new Undone({ message: (await findPost(on, from, clientMsgId!))!, duplicate: true });
      const channel = text(row!, 'channel_name');
      const mentions = JSON.parse(text(row!, 'mention_list')) as string[];
      const seq = int(row!, 'new_seq');
      return {
        message: { id: int(row!, 'new_id'), from, to: null, kind: 'channel', body, sentAt, channel, seq, mentions },
        duplicate: false,
      };
    });
  }

  channelHistory(channelId: number, query: ChannelHistoryQuery): Promise<ChatMessage[]> {
    const before = query.before ?? Number.MAX_SAFE_INTEGER;
    const limit = Number.isFinite(query.limit) ? Math.max(0, Math.floor(query.limit)) : 0;
    return this.read(async (on) => (await rows(on, 'channelHistory', [channelId, before, query.hidden, limit])).map(toMessage).reverse());
  }

  channelStates(username: string, hidden: string[]): Promise<StoredChannelState[]> {
    return this.read(async (on) => (await rows(on, 'channelStates', [username, hidden])).map(toChannelState));
  }

  readChannel(channelId: number, username: string, seq: number): Promise<number> {
    return this.write(async (on) => {
      const [row] = await rows(on, 'readChannel', [channelId, username, seq]);
      return row ? int(row, 'read_seq') : 0;
    });
  }

  readDirect(username: string, partner: string | null, id: number): Promise<number> {
    return this.write(async (on) => {
      const [row] = await rows(on, 'readDirect', [username, partner ?? '', id]);
      return row ? int(row, 'read_id') : 0;
    });
  }

  directStates(username: string): Promise<StoredDirectState[]> {
    return this.read(async (on) =>
      toDirectStates(
        await rows(on, 'receivedSummary', [username]),
        await rows(on, 'sentSummary', [username]),
        await rows(on, 'readPositions', [username]),
      ),
    );
  }

  listBlocks(): Promise<{ blocker: string; blocked: string }[]> {
    return this.read(async (on) =>
      (await rows(on, 'listBlocks')).map((row) => ({ blocker: text(row, 'blocker'), blocked: text(row, 'blocked') })),
    );
  }

  addBlock(blocker: string, blocked: string): Promise<void> {
    return this.write(async (on) => void (await query(on, 'addBlock', [blocker, blocked])));
  }

  removeBlock(blocker: string, blocked: string): Promise<void> {
    return this.write(async (on) => void (await query(on, 'removeBlock', [blocker, blocked])));
  }

  expireMessages(cutoff: number, slice: MessageSlice): Promise<SliceResult<number>> {
    return this.write(async (on) => {
      const old: number[] = [];
      for (const row of await rows(on, 'slice', [slice.after, slice.limit])) {
        if (int(row, 'sent_at') >= cutoff) break;
        old.push(int(row, 'id'));
      }
      const done = old.length < slice.limit;
      if (old.length === 0) return { found: 0, last: undefined };
      const last = old.at(-1)!;
      const awaited = new Set((await rows(on, 'awaited', [old[0], last])).map((row) => int(row, 'message_id')));
      const ids = old.filter((id) => !awaited.has(id));
      for (const name of ['expirePending', 'expireDeliveries', 'expireMentions'] as const) await query(on, name, [ids]);
      const found = (await query(on, 'expireMessages', [ids])).rowCount;
      return { found, last: done ? undefined : last };
    });
  }

  postsBy(username: string, slice: MessageSlice): Promise<SliceResult<ChatMessage[]>> {
    return this.read(async (on) => {
      const last = (await rows(on, 'slice', [slice.after, slice.limit])).at(-1);
      if (!last) return { found: [], last: undefined };
      const upTo = int(last, 'id');
      return { found: (await rows(on, 'postsBy', [username, slice.after, upTo])).map(toMessage), last: upTo };
    });
  }

  /** A file copy is the embedded store's: PostgreSQL's own tools back it up (docs/scaling.md). */
  backupTo(): Promise<void> {
    return Promise.reject(new Error('a PostgreSQL store is backed up with pg_dump, not parley-server backup (docs/scaling.md)'));
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.commits.settled();
      await this.pool.end();
    })();
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the PostgreSQL store is closed');
  }

  /** Reads see every write queued before them: they wait for those to commit. */
  private async read<T>(run: (on: Queryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    await this.commits.settled();
    return run(this.pool);
  }

  /** A write resolves once the batch holding it is committed. */
  private write<T>(apply: Apply<T>): Promise<T> {
    try {
      this.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.commits.write(apply);
  }
}

async function findSent(on: Queryable, from: string, clientMsgId: string): Promise<ChatMessage | undefined> {
  const [row] = await rows(on, 'findByClientId', [from, clientMsgId]);
  return row && toMessage(row);
}

/** What `from` sent with `clientMsgId`, with its channel's columns if it is a channel message. */
async function findPost(on: Queryable, from: string, clientMsgId: string): Promise<ChatMessage | undefined> {
  const [first] = await rows(on, 'findByClientId', [from, clientMsgId]);
  if (!first) return undefined;
  const [withChannel] = first['kind'] === 'channel' ? await rows(on, 'channelMessage', [int(first, 'id')]) : [];
  return toMessage(withChannel ?? first);
}

async function deleteChannelRows(on: Queryable, channelId: number): Promise<void> {
  for (const name of ['deleteChannelMentions', 'deleteChannelMessages', 'deleteChannelMembers', 'deleteChannel'] as const) {
    await query(on, name, [channelId]);
  }
}
