import { EventEmitter } from 'node:events';
import type { ChatMessage, PresenceEvent, UserSummary } from '../../protocol';
import {
  EVERYONE,
  compareKeys,
  directId,
  partnerOf,
  privateId,
  privatePartnerOf,
  type ConnectionView,
  type ConversationSummary,
  type ItemKey,
  type NoticeTone,
  type PrivateState,
  type ShownMessage,
  type TimelineItem,
} from '../../view-protocol';

/**
 * All chat state the extension keeps, with no dependency on VS Code or the network: conversations,
 * messages (each id once, ordered by id), notices, unread counts, people and the connection.
 * The session (chat-session.ts) feeds it; the views read it and listen to its events.
 */

export interface Person {
  username: string;
  online: boolean;
  blocked: boolean;
  /** When they went offline, from a presence event (server time, ms). */
  lastSeenAt?: number;
  /** The smallest `wholast` window (minutes) that listed them while offline. */
  seenWithinMinutes?: number;
}

interface Notice {
  kind: 'notice';
  key: ItemKey;
  at: number;
  text: string;
  tone: NoticeTone;
}

interface Conversation {
  id: string;
  /** Sorted by id (private conversations: ids local to the conversation, counted from 1). */
  messages: ShownMessage[];
  ids: Set<number>;
  /** Sorted by key. */
  notices: Notice[];
  unread: number;
  /** Every message of this conversation with an id >= this is loaded (undefined: only what arrived live). */
  loadedFrom: number | undefined;
  /** Whether the server may hold older messages than those loaded. */
  hasOlder: boolean;
  /** Order of creation, to sort conversations that have no message yet. */
  created: number;
}

export interface StateEvents {
  /** Items added to a conversation; `live` when they just arrived rather than from history. */
  items: [conversation: string, items: TimelineItem[], live: boolean];
  conversations: [];
  people: [];
  connection: [];
}

export const NOTICES_MAX = 500;

/** `@alice` in a body, as a word: not part of an e-mail address or a longer name. */
export function mentions(body: string, username: string): boolean {
  const escaped = username.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.@-])@${escaped}(?![A-Za-z0-9_-])(?!\\.[A-Za-z0-9_-])`, 'i').test(body);
}

/** The conversation a message belongs to, seen by `me`. */
export function conversationOf(message: ChatMessage, me: string | undefined): string {
  if (message.kind === 'broadcast') return EVERYONE;
  const other = message.from === me ? message.to : message.from;
  return directId(other ?? message.from);
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

/** A private message as the client core reports it (sent or received over a direct channel). */
export interface PrivateMessageIn {
  from: string;
  to: string;
  body: string;
  /** This client's clock when it was sent or arrived. */
  at: number;
}

function messageItem(message: ShownMessage): TimelineItem {
  return { kind: 'message', key: [message.id, 0], message };
}

export class ChatState extends EventEmitter<StateEvents> {
  private readonly convs = new Map<string, Conversation>();
  private readonly persons = new Map<string, Person>();
  /** The channel state of each private conversation (kept in memory only, like its messages). */
  private readonly privateStates = new Map<string, PrivateState>();
  private created = 0;
  private noticeSeq = 0;
  /** Conversations on screen in a visible view: their messages are read as they arrive. */
  private readonly viewing = new Set<string>();
  /** The oldest id of the pages of all history loaded (undefined: none loaded yet). */
  globalFrom: number | undefined;
  globalHasOlder = true;
  me: string | undefined;
  connection: ConnectionView = { phase: 'signed-out' };

  constructor(private readonly now: () => number = Date.now) {
    super();
    this.ensure(EVERYONE);
  }

  // ---- connection ----

  setConnection(connection: ConnectionView): void {
    this.connection = connection;
    this.emit('connection');
  }

  /** Forgets everything of the previous user (a new sign-in, or sign-out). */
  reset(me: string | undefined): void {
    this.me = me;
    this.convs.clear();
    this.persons.clear();
    this.privateStates.clear();
    this.globalFrom = undefined;
    this.globalHasOlder = true;
    this.ensure(EVERYONE);
    this.emit('conversations');
    this.emit('people');
  }

  // ---- conversations and messages ----

  private ensure(id: string): Conversation {
    let conv = this.convs.get(id);
    if (!conv) {
      conv = { id, messages: [], ids: new Set(), notices: [], unread: 0, loadedFrom: undefined, hasOlder: true, created: this.created++ };
      this.convs.set(id, conv);
      const partner = partnerOf(id) ?? privatePartnerOf(id);
      if (partner) this.person(partner);
      // Private messages live in memory only: there is never anything older on the server.
      if (privatePartnerOf(id) !== undefined) conv.hasOlder = false;
    }
    return conv;
  }

  // ---- private chats (peer to peer; never on the server) ----

  /** Opens (creates if needed) the private conversation with a user; returns its id. */
  openPrivate(username: string): string {
    const id = privateId(username);
    if (!this.convs.has(id)) {
      this.ensure(id);
      if (!this.privateStates.has(username)) this.privateStates.set(username, 'closed');
      this.emit('conversations');
      this.emit('people');
    }
    return id;
  }

  /** The channel state of the private chat with `username` (closed when there is none). */
  privateState(username: string): PrivateState {
    return this.privateStates.get(username) ?? 'closed';
  }

  setPrivateState(username: string, state: PrivateState): void {
    this.openPrivate(username);
    if (this.privateStates.get(username) === state) return;
    this.privateStates.set(username, state);
    this.emit('conversations');
    this.emit('people');
  }

  /** Users whose private chat is connecting or direct. */
  privateChats(): string[] {
    return [...this.privateStates.entries()]
      .filter(([, state]) => state !== 'closed')
      .map(([username]) => username)
      .sort();
  }

  /** Adds a private message (sent or received) to its conversation; `live` ones from others count as unread unless on screen. */
  addPrivateMessage(message: PrivateMessageIn, live = true): ShownMessage {
    const other = message.from === this.me ? message.to : message.from;
    const id = this.openPrivate(other);
    const conv = this.ensure(id);
    const shown: ShownMessage = {
      id: (conv.messages.at(-1)?.id ?? 0) + 1,
      from: message.from,
      to: message.to,
      kind: 'private',
      body: message.body,
      sentAt: message.at,
    };
    conv.messages.push(shown);
    conv.ids.add(shown.id);
    if (live && message.from !== this.me && !this.viewing.has(id)) conv.unread++;
    this.emit('items', id, [messageItem(shown)], live);
    this.emit('conversations');
    return shown;
  }

  /** Opens (creates if needed) a direct conversation; returns its id. */
  openDirect(username: string): string {
    const id = directId(username);
    if (!this.convs.has(id)) {
      this.ensure(id);
      this.emit('conversations');
      this.emit('people');
    }
    return id;
  }

  has(conversation: string): boolean {
    return this.convs.has(conversation);
  }

  /**
   * Adds messages; those already known are skipped. `live` messages from others count as unread
   * unless their conversation is on screen. Returns the messages that were new.
   */
  addMessages(messages: readonly ChatMessage[], live: boolean): ChatMessage[] {
    const added = new Map<string, ChatMessage[]>();
    let unreadChanged = false;
    for (const message of messages) {
      const id = conversationOf(message, this.me);
      const conv = this.ensure(id);
      if (conv.ids.has(message.id)) continue;
      conv.ids.add(message.id);
      insertSorted(conv.messages, message, (a, b) => a.id - b.id);
      if (live && message.from !== this.me && !this.viewing.has(id)) {
        conv.unread++;
        unreadChanged = true;
      }
      this.person(message.from);
      if (message.to) this.person(message.to);
      let list = added.get(id);
      if (!list) added.set(id, (list = []));
      list.push(message);
    }
    for (const [id, list] of added) this.emit('items', id, list.map(messageItem), live);
    if (added.size > 0 || unreadChanged) this.emit('conversations');
    return [...added.values()].flat();
  }

  /** A quiet line (presence, command results, errors) placed after the newest message of a conversation. */
  addNotice(conversation: string, text: string, tone: NoticeTone, at = this.now()): TimelineItem {
    const conv = this.ensure(conversation);
    const last = conv.messages.at(-1)?.id ?? 0;
    const notice: Notice = { kind: 'notice', key: [last, ++this.noticeSeq], at, text, tone };
    insertSorted(conv.notices, notice, (a, b) => compareKeys(a.key, b.key));
    if (conv.notices.length > NOTICES_MAX) conv.notices.splice(0, conv.notices.length - NOTICES_MAX);
    this.emit('items', conversation, [notice], true);
    return notice;
  }

  /** Records what a page of history covered, so that the views know whether older messages exist. */
  recordPage(conversation: string | undefined, page: readonly ChatMessage[], before: number | undefined, more: boolean): void {
    const oldest = page.length ? page[0]!.id : before;
    if (conversation === undefined) {
      if (oldest !== undefined) this.globalFrom = Math.min(this.globalFrom ?? oldest, oldest);
      this.globalHasOlder = more;
    } else {
      const conv = this.ensure(conversation);
      if (oldest !== undefined) conv.loadedFrom = Math.min(conv.loadedFrom ?? oldest, oldest);
      conv.hasOlder = more;
    }
    this.emit('conversations');
  }

  /** Every message of the conversation with an id at or above this is loaded. */
  loadedFrom(conversation: string): number | undefined {
    const conv = this.convs.get(conversation);
    const own = conv?.loadedFrom;
    if (own === undefined) return this.globalFrom;
    if (this.globalFrom === undefined) return own;
    return Math.min(own, this.globalFrom);
  }

  /** Whether the server may hold older messages of this conversation than those loaded. */
  hasOlderOnServer(conversation: string): boolean {
    const conv = this.convs.get(conversation);
    if (!conv) return false;
    if (conversation === EVERYONE) return this.globalHasOlder;
    if (privatePartnerOf(conversation) !== undefined) return false;
    // A conversation's own pages are exact; the pages of all history cover it too when they reach further.
    if (conv.loadedFrom !== undefined && (this.globalFrom === undefined || conv.loadedFrom <= this.globalFrom)) return conv.hasOlder;
    return this.globalHasOlder && conv.hasOlder;
  }

  /** The newest `limit` items of a conversation that sort before `before` (all of them without it). */
  items(conversation: string, options: { before?: ItemKey; limit?: number } = {}): { items: TimelineItem[]; olderInMemory: boolean } {
    const conv = this.convs.get(conversation);
    if (!conv) return { items: [], olderInMemory: false };
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

  messages(conversation: string): readonly ShownMessage[] {
    return this.convs.get(conversation)?.messages ?? [];
  }

  /** Sets which conversations are on screen; those become read. */
  setViewing(conversations: Iterable<string>): void {
    this.viewing.clear();
    let changed = false;
    for (const id of conversations) {
      this.viewing.add(id);
      const conv = this.convs.get(id);
      if (conv && conv.unread > 0) {
        conv.unread = 0;
        changed = true;
      }
    }
    if (changed) this.emit('conversations');
  }

  isViewing(conversation: string): boolean {
    return this.viewing.has(conversation);
  }

  markRead(conversation: string): void {
    const conv = this.convs.get(conversation);
    if (conv && conv.unread > 0) {
      conv.unread = 0;
      this.emit('conversations');
    }
  }

  unread(conversation: string): number {
    return this.convs.get(conversation)?.unread ?? 0;
  }

  get totalUnread(): number {
    let total = 0;
    for (const conv of this.convs.values()) total += conv.unread;
    return total;
  }

  /** Everyone first, then private chats (newest first), then direct conversations, the most recently active first. */
  conversations(): ConversationSummary[] {
    const list = [...this.convs.values()];
    const activity = (c: Conversation): number => c.messages.at(-1)?.id ?? 0;
    const rank = (c: Conversation): number => (c.id === EVERYONE ? 0 : privatePartnerOf(c.id) !== undefined ? 1 : 2);
    list.sort((a, b) => {
      const order = rank(a) - rank(b);
      if (order !== 0) return order;
      // Private ids are local to each conversation: order those by when they were opened.
      if (rank(a) === 1) return b.created - a.created;
      return activity(b) - activity(a) || b.created - a.created;
    });
    return list.map((c) => {
      const direct = partnerOf(c.id);
      const secret = privatePartnerOf(c.id);
      const partner = direct ?? secret;
      const person = partner ? this.persons.get(partner) : undefined;
      return {
        id: c.id,
        title: partner ?? 'Everyone',
        kind: secret !== undefined ? 'private' : direct !== undefined ? 'direct' : 'everyone',
        unread: c.unread,
        online: person?.online ?? false,
        blocked: person?.blocked ?? false,
        ...(secret !== undefined && { privateState: this.privateState(secret) }),
      };
    });
  }

  // ---- people ----

  private person(username: string): Person {
    let person = this.persons.get(username);
    if (!person) {
      person = { username, online: false, blocked: false };
      this.persons.set(username, person);
      if (username !== this.me) queueMicrotask(() => this.emit('people'));
    }
    return person;
  }

  applyPresence(event: PresenceEvent): void {
    if (event.username === this.me) return;
    const person = this.person(event.username);
    person.online = event.online;
    if (!event.online) {
      person.lastSeenAt = event.at;
      person.seenWithinMinutes = undefined;
    }
    this.emit('people');
    this.emit('conversations');
  }

  /** The complete list of who else is online now (login reply, whoelse). */
  setOnline(users: readonly string[]): void {
    const online = new Set(users);
    for (const user of users) this.person(user);
    for (const person of this.persons.values()) {
      const was = person.online;
      person.online = online.has(person.username);
      // Someone who was online and is no longer went offline just now (as far as we can tell).
      if (was && !person.online) person.lastSeenAt ??= this.now();
    }
    this.emit('people');
    this.emit('conversations');
  }

  /** A `wholast` answer: users online or seen within `minutes`. */
  applyWholast(minutes: number, users: readonly string[]): void {
    for (const user of users) {
      if (user === this.me) continue;
      const person = this.person(user);
      if (person.online) continue;
      if (person.seenWithinMinutes === undefined || minutes < person.seenWithinMinutes) person.seenWithinMinutes = minutes;
    }
    this.emit('people');
  }

  /**
   * The `users` answer: every account but mine, with presence (hidden between blocked users) and
   * when each was last seen, so that people never seen this session are listed too.
   */
  applyUsers(users: readonly UserSummary[]): void {
    for (const user of users) {
      if (user.username === this.me) continue;
      const person = this.person(user.username);
      person.online = user.online;
      person.blocked = user.blocked;
      if (!user.online) {
        if (user.lastSeen !== null) person.lastSeenAt = user.lastSeen;
        else delete person.lastSeenAt;
        delete person.seenWithinMinutes;
      }
    }
    this.emit('people');
    this.emit('conversations');
  }

  setBlocked(users: readonly string[]): void {
    const blocked = new Set(users);
    for (const user of users) this.person(user);
    for (const person of this.persons.values()) person.blocked = blocked.has(person.username);
    this.emit('people');
    this.emit('conversations');
  }

  setBlock(username: string, blocked: boolean): void {
    const person = this.person(username);
    person.blocked = blocked;
    // The server hides presence between blocked users: what we knew is no longer news.
    if (blocked) person.online = false;
    this.emit('people');
    this.emit('conversations');
  }

  isBlocked(username: string): boolean {
    return this.persons.get(username)?.blocked ?? false;
  }

  /** Everyone known except me: online first (by name), then by how recently they were seen, then by name. */
  people(): Person[] {
    const now = this.now();
    const recency = (p: Person): number => {
      if (p.lastSeenAt !== undefined) return now - p.lastSeenAt;
      if (p.seenWithinMinutes !== undefined) return p.seenWithinMinutes * 60_000;
      return Number.POSITIVE_INFINITY;
    };
    return [...this.persons.values()]
      .filter((p) => p.username !== this.me)
      .sort((a, b) => {
        if (a.online !== b.online) return a.online ? -1 : 1;
        if (!a.online) {
          const diff = recency(a) - recency(b);
          if (diff !== 0 && !Number.isNaN(diff)) return diff;
        }
        return a.username.localeCompare(b.username);
      })
      .map((p) => ({ ...p }));
  }

  onlineCount(): number {
    let count = 0;
    for (const p of this.persons.values()) if (p.online && p.username !== this.me) count++;
    return count;
  }

  usernames(): string[] {
    return [...this.persons.keys()].filter((u) => u !== this.me).sort();
  }

  /** A plain copy of the state for tests and the test API. */
  snapshot(): StateSnapshot {
    return {
      me: this.me,
      connection: { ...this.connection },
      totalUnread: this.totalUnread,
      conversations: this.conversations(),
      people: this.people(),
      messages: Object.fromEntries([...this.convs.values()].map((c) => [c.id, c.messages.map((m) => ({ ...m }))])),
    };
  }
}

export interface StateSnapshot {
  me: string | undefined;
  connection: ConnectionView;
  totalUnread: number;
  conversations: ConversationSummary[];
  people: Person[];
  messages: Record<string, ShownMessage[]>;
}

/** "last seen 12 min ago", "last seen within 15 min", or "offline". */
export function describeLastSeen(person: Person, now: number): string {
  if (person.online) return 'online';
  if (person.lastSeenAt !== undefined) {
    const minutes = Math.max(0, Math.floor((now - person.lastSeenAt) / 60_000));
    if (minutes < 1) return 'last seen just now';
    if (minutes < 60) return `last seen ${minutes} min ago`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return `last seen ${hours} h ago`;
    return `last seen ${Math.floor(hours / 24)} days ago`;
  }
  if (person.seenWithinMinutes !== undefined) return `last seen within ${person.seenWithinMinutes} min`;
  return 'offline';
}
