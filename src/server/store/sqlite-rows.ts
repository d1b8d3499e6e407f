import type { SQLiteValue } from 'node-sqlite3-wasm';
import type { ChatMessage, MessageKind } from '../../protocol';
import type { SessionTokenRecord, StoredChannel, StoredChannelState, StoredDirectState, UserRecord } from './store';

// Row mappers: node-sqlite3-wasm (and pg) return untyped rows; these check each column once. Both stores' queries
// return rows of these shapes.

export type Row = Record<string, SQLiteValue>;

export function toUser(row: Row): UserRecord {
  return {
    id: int(row, 'id'),
    username: text(row, 'username'),
    passwordHash: text(row, 'password_hash'),
    createdAt: int(row, 'created_at'),
    lastSeen: row['last_seen'] === null ? null : int(row, 'last_seen'),
  };
}

export function toSessionToken(row: Row): SessionTokenRecord {
  return {
    tokenHash: text(row, 'token_hash'),
    username: text(row, 'username'),
    createdAt: int(row, 'created_at'),
    expiresAt: int(row, 'expires_at'),
  };
}

export function toMessage(row: Row): ChatMessage {
  const message: ChatMessage = {
    id: int(row, 'id'),
    from: text(row, 'sender'),
    to: row['recipient'] === null ? null : text(row, 'recipient'),
    kind: kind(text(row, 'kind')),
    body: text(row, 'body'),
    sentAt: int(row, 'sent_at'),
  };
  // Queries of channel messages add these columns (see CHANNEL_MESSAGE_COLUMNS).
  if (message.kind === 'channel' && 'channel' in row) {
    message.channel = text(row, 'channel');
    message.seq = int(row, 'seq');
    message.mentions = JSON.parse(text(row, 'mentions')) as string[];
  }
  return message;
}

function toStoredChannel(row: Row, members: string[]): StoredChannel {
  return {
    id: int(row, 'id'),
    name: text(row, 'name'),
    topic: text(row, 'topic'),
    private: int(row, 'private') === 1,
    creator: row['creator'] === null ? null : text(row, 'creator'),
    lastSeq: int(row, 'last_seq'),
    createdAt: int(row, 'created_at'),
    members,
  };
}

/** Channels with their members, from the channel rows and (channel_id, username) rows. */
export function toStoredChannels(channels: Row[], memberRows: Row[]): StoredChannel[] {
  const members = new Map<number, string[]>();
  for (const row of memberRows) {
    const id = int(row, 'channel_id');
    let list = members.get(id);
    if (!list) members.set(id, (list = []));
    list.push(text(row, 'username'));
  }
  return channels.map((row) => toStoredChannel(row, members.get(int(row, 'id')) ?? []));
}

/** A user's direct conversations ('' as the partner: the broadcasts, always there) from what they received, sent and read. */
export function toDirectStates(received: Row[], sent: Row[], readPositions: Row[]): StoredDirectState[] {
  const states = new Map<string, StoredDirectState>();
  const state = (partner: string): StoredDirectState => {
    let found = states.get(partner);
    if (!found) states.set(partner, (found = { with: partner === '' ? null : partner, lastId: 0, readId: 0, unread: 0 }));
    return found;
  };
  state(''); // the broadcasts, even before the first
  for (const row of received) {
    const s = state(text(row, 'partner'));
    s.lastId = int(row, 'last_id');
    s.unread = int(row, 'unread');
  }
  for (const row of sent) {
    const s = state(text(row, 'partner'));
    s.lastId = Math.max(s.lastId, int(row, 'last_id'));
  }
  for (const row of readPositions) {
    const s = states.get(text(row, 'partner'));
    if (s) s.readId = int(row, 'read_id');
  }
  return [...states.values()];
}

export function toChannelState(row: Row): StoredChannelState {
  return {
    channelId: int(row, 'channel_id'),
    lastSeq: int(row, 'last_seq'),
    readSeq: int(row, 'read_seq'),
    unread: int(row, 'unread'),
    mentions: int(row, 'mentions'),
  };
}

function kind(value: string): MessageKind {
  if (value === 'direct' || value === 'broadcast' || value === 'channel') return value;
  throw new Error(`unknown message kind in the database: ${value}`);
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column}: expected text, got ${typeof value}`);
  return value;
}

export function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value);
  throw new Error(`column ${column}: expected an integer, got ${typeof value}`);
}
