import type { SQLiteValue } from 'node-sqlite3-wasm';
import type { ChatMessage, MessageKind } from '../../protocol';
import type { SessionTokenRecord, UserRecord } from './store';

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
