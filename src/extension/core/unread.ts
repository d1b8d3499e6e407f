import type { ShownMessage } from '../../view-protocol';
import { newestPosition, unreadAfter, type Conversation } from './conversation';

/**
 * A conversation's unread and mention counts, reconciled from what arrives here and what the server counted:
 * plain functions on a Conversation; ChatState says what changed.
 */

/** `@alice` in a body, as a word: not part of an e-mail address or a longer name. */
export function mentions(body: string, username: string): boolean {
  const escaped = username.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.@-])@${escaped}(?![A-Za-z0-9_-])(?!\\.[A-Za-z0-9_-])`, 'i').test(body);
}

/** Whether a message is for the user's attention: a channel message that names them (the server says whom), or `@me` elsewhere. */
export function mentionsMe(message: ShownMessage, me: string): boolean {
  return message.kind === 'channel' ? (message.mentions?.includes(me) ?? false) : mentions(message.body, me);
}

/** What the server counted in one conversation: up to `last`, `unread` messages from others after `read`. */
export interface ServerCounts {
  last: number;
  read: number;
  unread: number;
  mentions?: number;
}

/** Marks everything read; whether anything was unread. */
export function clearUnread(conv: Conversation): boolean {
  if (conv.unread === 0) return false;
  conv.unread = 0;
  conv.mentions = 0;
  return true;
}

/** Counts a message that just arrived from someone else while its conversation is not on screen. */
export function countArrival(conv: Conversation, message: ShownMessage, me: string | undefined): void {
  conv.unread++;
  if (conv.channel && me && mentionsMe(message, me)) conv.mentions++;
}

/**
 * The server's counts for a conversation. Messages known here past what it counted arrived since and count
 * too; a conversation on screen is read. Returns how many more mentions there are than before.
 */
export function applyServerCounts(conv: Conversation, counts: ServerCounts, me: string | undefined, onScreen: boolean): number {
  conv.readUpTo = Math.max(conv.readUpTo ?? 0, counts.read);
  conv.serverLast = Math.max(conv.serverLast, counts.last);
  const before = conv.mentions;
  if (onScreen) {
    clearUnread(conv);
    return 0;
  }
  const since = unreadAfter(conv, Math.max(counts.last, conv.readUpTo), me);
  conv.unread = counts.unread + since.length;
  conv.mentions = (counts.mentions ?? 0) + (conv.channel ? since.filter((m) => me && mentionsMe(m, me)).length : 0);
  return Math.max(0, conv.mentions - before);
}

/**
 * A read position moved on the server. 'cleared' when that read everything here; 'ask' when the counts here
 * cannot tell what is still unread (read up to a point short of the newest message); 'same' otherwise.
 */
export function applyReadPosition(conv: Conversation, upTo: number): 'cleared' | 'ask' | 'same' {
  conv.readUpTo = Math.max(conv.readUpTo ?? 0, upTo);
  if (conv.unread === 0) return 'same';
  if (upTo < Math.max(newestPosition(conv), conv.serverLast)) return 'ask';
  clearUnread(conv);
  return 'cleared';
}
