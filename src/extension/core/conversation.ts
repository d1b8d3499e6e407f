import type { ChatMessage } from '../../protocol';
import { GENERAL_CHANNEL } from '../../protocol/limits';
import {
  EVERYONE,
  channelId,
  channelOf,
  compareKeys,
  directId,
  privatePartnerOf,
  type ItemKey,
  type NoticeTone,
  type ShownMessage,
  type TimelineItem,
} from '../../view-protocol';

/**
 * One conversation's timeline as ChatState keeps it: its messages (each id once, sorted by id) and notices (sorted
 * by key), merged into the items the views show. Plain data and functions; ChatState says what changed.
 */

export const NOTICES_MAX = 500;

export interface Notice {
  kind: 'notice';
  key: ItemKey;
  at: number;
  text: string;
  tone: NoticeTone;
}

/** What the server says of a channel the user is a member of. */
export interface ChannelMeta {
  topic: string;
  private: boolean;
}

export interface Conversation {
  id: string;
  /** Sorted by id (private conversations: ids local to the conversation, counted from 1). */
  messages: ShownMessage[];
  ids: Set<number>;
  /** Sorted by key. */
  notices: Notice[];
  unread: number;
  /** Of the unread messages, those that mention the user (channels). */
  mentions: number;
  /** The user's read position on the server, in `positionOf` units (undefined: not known). */
  readUpTo: number | undefined;
  /** The newest position the server counted in (channels not loaded here have their newest message there only). */
  serverLast: number;
  /** Channels only. */
  channel: ChannelMeta | undefined;
  /** Every message of this conversation with an id >= this is loaded (undefined: only what arrived live). */
  loadedFrom: number | undefined;
  /** Whether the server may hold older messages than those loaded. */
  hasOlder: boolean;
  /** Order of creation, to sort conversations that have no message yet. */
  created: number;
}

export function newConversation(id: string, created: number): Conversation {
  // Private messages live in memory only: there is never anything older on the server.
  const hasOlder = privatePartnerOf(id) === undefined;
  const channel = channelOf(id) === undefined ? undefined : { topic: '', private: false };
  return {
    id,
    messages: [],
    ids: new Set(),
    notices: [],
    unread: 0,
    mentions: 0,
    readUpTo: undefined,
    serverLast: 0,
    channel,
    loadedFrom: undefined,
    hasOlder,
    created,
  };
}

/** Where a message stands in its conversation for read positions: its seq in a channel, its id elsewhere. */
export function positionOf(message: ShownMessage): number {
  return message.kind === 'channel' ? (message.seq ?? 0) : message.id;
}

/** The position of the newest message known (0 for none). */
export function newestPosition(conv: Conversation): number {
  const last = conv.messages.at(-1);
  return last ? positionOf(last) : 0;
}

/** The messages from others after a read position. */
export function unreadAfter(conv: Conversation, upTo: number, me: string | undefined): ShownMessage[] {
  return conv.messages.filter((m) => m.from !== me && positionOf(m) > upTo);
}

/** The conversation a message belongs to, seen by `me`. */
export function conversationOf(message: ChatMessage, me: string | undefined): string {
  if (message.kind === 'broadcast') return EVERYONE;
  if (message.kind === 'channel') return channelId(message.channel ?? '');
  const other = message.from === me ? message.to : message.from;
  return directId(other ?? message.from);
}

/** Adds a message unless its id is known already; returns whether it was new. */
export function insertMessage(conv: Conversation, message: ShownMessage): boolean {
  if (conv.ids.has(message.id)) return false;
  conv.ids.add(message.id);
  insertSorted(conv.messages, message, (a, b) => a.id - b.id);
  return true;
}

/** Adds a notice after the newest message, keeping the newest NOTICES_MAX. */
export function insertNotice(conv: Conversation, seq: number, at: number, text: string, tone: NoticeTone): Notice {
  const last = conv.messages.at(-1)?.id ?? 0;
  const notice: Notice = { kind: 'notice', key: [last, seq], at, text, tone };
  insertSorted(conv.notices, notice, (a, b) => compareKeys(a.key, b.key));
  if (conv.notices.length > NOTICES_MAX) conv.notices.splice(0, conv.notices.length - NOTICES_MAX);
  return notice;
}

export function messageItem(message: ShownMessage): TimelineItem {
  return { kind: 'message', key: [message.id, 0], message };
}

/** The newest `limit` items of a conversation that sort before `before` (all of them without it). */
export function timeline(
  conv: Conversation,
  options: { before?: ItemKey; limit?: number },
): { items: TimelineItem[]; olderInMemory: boolean } {
  const all: TimelineItem[] = [];
  let m = 0;
  let n = 0;
  const { messages, notices } = conv;
  while (m < messages.length || n < notices.length) {
    const message = messages[m];
    const notice = notices[n];
    if (message && (!notice || compareKeys([message.id, 0], notice.key) < 0)) {
      all.push(messageItem(message));
      m++;
    } else {
      all.push({ kind: 'notice', key: notice!.key, at: notice!.at, text: notice!.text, tone: notice!.tone });
      n++;
    }
  }
  let end = all.length;
  if (options.before) {
    const before = options.before;
    end = all.findIndex((item) => compareKeys(item.key, before) >= 0);
    if (end < 0) end = all.length;
  }
  const start = options.limit === undefined ? 0 : Math.max(0, end - options.limit);
  return { items: all.slice(start, end), olderInMemory: start > 0 };
}

/**
 * Everyone first, then channels (#general first, then by name), private chats (newest first), and direct
 * conversations, the most recently active first.
 */
export function byDisplayOrder(a: Conversation, b: Conversation): number {
  const order = rank(a) - rank(b);
  if (order !== 0) return order;
  if (rank(a) === 1) return a.id.localeCompare(b.id);
  // Private ids are local to each conversation: order those by when they were opened.
  if (rank(a) === 2) return b.created - a.created;
  return activity(b) - activity(a) || b.created - a.created;
}

function rank(c: Conversation): number {
  if (c.id === EVERYONE) return 0;
  if (c.id === channelId(GENERAL_CHANNEL)) return 0.5;
  return c.channel ? 1 : privatePartnerOf(c.id) !== undefined ? 2 : 3;
}

function activity(c: Conversation): number {
  return c.messages.at(-1)?.id ?? 0;
}

function insertSorted<T>(list: T[], item: T, compare: (a: T, b: T) => number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(list[mid]!, item) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, item);
}
