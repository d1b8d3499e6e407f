import type { SQLiteValue } from 'node-sqlite3-wasm';
import type { ChatMessage, MessageKind } from '../../protocol';
import type { SessionTokenRecord, StoredChannel, StoredChannelState, UserRecord } from './store';

// Row mappers: node-sqlite3-wasm returns untyped rows; these check each column once.

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

export function toStoredChannel(row: Row, members: string[]): StoredChannel {
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
