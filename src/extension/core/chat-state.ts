import { EventEmitter } from 'node:events';
import type { ChannelState, ChatMessage, PresenceEvent, ReplyBodies, UserSummary } from '../../protocol';
import {
  EVERYONE,
  channelId,
  channelOf,
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
import {
  byDisplayOrder,
  conversationOf,
  insertMessage,
  insertNotice,
  messageItem,
  newConversation,
  newestPosition,
  timeline,
  unreadAfter,
  type Conversation,
} from './conversation';
import { summarize } from './conversation-summary';
import { Roster, presenceOf, type Person, type Presence } from './roster';
import { applyReadPosition, applyServerCounts, clearUnread, countArrival, type ServerCounts } from './unread';

export { NOTICES_MAX, conversationOf } from './conversation';
export { mentions, mentionsMe, type ServerCounts } from './unread';
export { describeLastSeen, presenceOf, type Person, type Presence } from './roster';

/**
 * All chat state the extension keeps, with no dependency on VS Code or the network: conversations (their timelines
 * in ./conversation.ts), unread counts (./unread.ts), private chats' states, how much history is loaded, people
 * (./roster.ts) and the connection. The session (chat-session.ts) feeds it; the views read it and listen to its
 * events. It stays one class because it is the one object the views subscribe to: each method only decides which
 * conversation changes and which event says so, and the logic lives in the modules it delegates to.
 */

export interface StateEvents {
  /** Items added to a conversation; `live` when they just arrived rather than from history. */
  items: [conversation: string, items: TimelineItem[], live: boolean];
  conversations: [];
  /** A conversation went (to undefined: a channel left, removed or deleted), was renamed, or its timeline was replaced (to itself). */
  moved: [from: string, to: string | undefined];
  people: [];
  connection: [];
  /** Which conversations are on screen changed (setViewing). */
  viewing: [];
}

/** A private message as the client core reports it (sent or received over a direct channel). */
export interface PrivateMessageIn {
  from: string;
  to: string;
  body: string;
  /** This client's clock when it was sent or arrived. */
  at: number;
}

export class ChatState extends EventEmitter<StateEvents> {
  private readonly convs = new Map<string, Conversation>();
  private readonly persons = new Roster(
    () => this.me,
    () => this.now(),
    () => queueMicrotask(() => this.emit('people')),
  );
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
      conv = newConversation(id, this.created++);
      this.convs.set(id, conv);
      const partner = partnerOf(id) ?? privatePartnerOf(id);
      if (partner) this.persons.person(partner);
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
    insertMessage(conv, shown);
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
      if (!insertMessage(conv, message)) continue;
      if (live && message.from !== this.me && !this.viewing.has(id)) {
        countArrival(conv, message, this.me);
        unreadChanged = true;
      }
      this.persons.person(message.from);
      if (message.to) this.persons.person(message.to);
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
    const notice = insertNotice(this.ensure(conversation), ++this.noticeSeq, at, text, tone);
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
    if (conv?.channel) return own;
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
    // A channel's pages are its own: the pages of all history never hold its messages.
    if (conv.channel) return conv.hasOlder;
    // A conversation's own pages are exact; the pages of all history cover it too when they reach further.
    if (conv.loadedFrom !== undefined && (this.globalFrom === undefined || conv.loadedFrom <= this.globalFrom)) return conv.hasOlder;
    return this.globalHasOlder && conv.hasOlder;
  }

  /** The newest `limit` items of a conversation that sort before `before` (all of them without it). */
  items(conversation: string, options: { before?: ItemKey; limit?: number } = {}): { items: TimelineItem[]; olderInMemory: boolean } {
    const conv = this.convs.get(conversation);
    return conv ? timeline(conv, options) : { items: [], olderInMemory: false };
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
      if (conv && clearUnread(conv)) changed = true;
    }
    if (changed) this.emit('conversations');
    this.emit('viewing');
  }

  isViewing(conversation: string): boolean {
    return this.viewing.has(conversation);
  }

  /** The conversations on screen. */
  viewed(): string[] {
    return [...this.viewing];
  }

  markRead(conversation: string): void {
    const conv = this.convs.get(conversation);
    if (conv && clearUnread(conv)) this.emit('conversations');
  }

  unread(conversation: string): number {
    return this.convs.get(conversation)?.unread ?? 0;
  }

  get totalUnread(): number {
    let total = 0;
    for (const conv of this.convs.values()) total += conv.unread;
    return total;
  }

  /** In the order of byDisplayOrder (./conversation.ts). */
  conversations(): ConversationSummary[] {
    return [...this.convs.values()].sort(byDisplayOrder).map((c) =>
      summarize(
        c,
        (name) => this.persons.get(name),
        (name) => this.privateState(name),
      ),
    );
  }

  // ---- channels and read positions (both kept by the server) ----

  /** Adds or updates a channel the user is a member of, as the server describes it; returns its conversation. */
  setChannel(channel: Pick<ChannelState, 'name' | 'topic' | 'private'>): string {
    const id = this.upsertChannel(channel);
    this.emit('conversations');
    return id;
  }

  private upsertChannel(channel: Pick<ChannelState, 'name' | 'topic' | 'private'>): string {
    const id = channelId(channel.name);
    this.ensure(id).channel = { topic: channel.topic, private: channel.private };
    return id;
  }

  /**
   * The `conversations` answer: every channel of the user's (those no longer in it go), and the server's counts
   * for each conversation. Returns, per channel, the mentions the user had not been told of yet.
   */
  applyConversations(reply: ReplyBodies['conversations']): { conversation: string; mentions: number }[] {
    const member = new Set(reply.channels.map((c) => channelId(c.name)));
    for (const conv of [...this.convs.values()]) if (conv.channel && !member.has(conv.id)) this.dropChannel(channelOf(conv.id)!);
    const told: { conversation: string; mentions: number }[] = [];
    for (const c of reply.channels) {
      const id = this.upsertChannel(c);
      const fresh = this.applyCounts(id, { last: c.lastSeq, read: c.readSeq, unread: c.unread, mentions: c.mentions });
      if (fresh > 0) told.push({ conversation: id, mentions: fresh });
    }
    for (const d of [...reply.directs, reply.broadcasts]) {
      if (d.with === this.me) continue;
      const id = d.with === null ? EVERYONE : directId(d.with);
      if (this.convs.has(id) || d.unread > 0) this.applyCounts(id, { last: d.lastId, read: d.readId, unread: d.unread });
    }
    this.emit('conversations');
    return told;
  }

  /** The server's counts for one conversation (see applyServerCounts); how many more mentions than the user was told of. */
  applyCounts(conversation: string, counts: ServerCounts): number {
    return applyServerCounts(this.ensure(conversation), counts, this.me, this.viewing.has(conversation));
  }

  /**
   * A read position moved on the server (in this session or another of the user's). Returns false when the
   * counts here cannot tell what is still unread: ask the server.
   */
  applyRead(conversation: string, upTo: number): boolean {
    const conv = this.convs.get(conversation);
    if (!conv) return true;
    const outcome = applyReadPosition(conv, upTo);
    if (outcome === 'cleared') this.emit('conversations');
    return outcome !== 'ask';
  }

  /** The user's read position in a conversation as the server last said (undefined: not known). */
  readPosition(conversation: string): number | undefined {
    return this.convs.get(conversation)?.readUpTo;
  }

  /** The position (seq in a channel, id elsewhere) of the newest message of a conversation loaded here; 0 for none. */
  newestPosition(conversation: string): number {
    const conv = this.convs.get(conversation);
    return conv ? newestPosition(conv) : 0;
  }

  /** Where the "new since you last read" line goes: the first message from someone else after `upTo`. */
  firstUnread(conversation: string, upTo: number | undefined): ItemKey | undefined {
    const conv = this.convs.get(conversation);
    const first = conv && upTo !== undefined ? unreadAfter(conv, upTo, this.me)[0] : undefined;
    return first ? [first.id, 0] : undefined;
  }

  mentionCount(conversation: string): number {
    return this.convs.get(conversation)?.mentions ?? 0;
  }

  /** Channels with messages here (to bring up to date after a dropped connection). */
  channelsWithMessages(): string[] {
    return [...this.convs.values()].filter((c) => c.channel && c.messages.length > 0).map((c) => c.id);
  }

  /** Forgets a channel's messages (they have a gap after a long absence); its read position and counts stay. */
  clearMessages(conversation: string): void {
    const conv = this.convs.get(conversation);
    if (!conv) return;
    Object.assign(conv, { messages: [], ids: new Set(), loadedFrom: undefined, hasOlder: true });
    this.emit('moved', conversation, conversation);
  }

  /** A channel the user is no longer in (left, removed or deleted): its conversation goes. */
  dropChannel(name: string): void {
    const id = channelId(name);
    if (!this.convs.delete(id)) return;
    this.viewing.delete(id);
    this.emit('moved', id, undefined);
    this.emit('conversations');
  }

  /** A renamed channel keeps its timeline (and read position) under its new name. */
  renameChannel(from: string, to: string): void {
    const old = channelId(from);
    const conv = this.convs.get(old);
    if (!conv) return;
    const id = channelId(to);
    // Messages that arrived under the new name before the news of the rename join the rest.
    const early = this.convs.get(id)?.messages ?? [];
    this.convs.delete(old);
    conv.id = id;
    conv.messages = conv.messages.map((m) => (m.channel === from ? { ...m, channel: to } : m));
    for (const m of early) insertMessage(conv, m);
    this.convs.set(id, conv);
    if (this.viewing.delete(old)) this.viewing.add(id);
    this.emit('moved', old, id);
    this.emit('conversations');
  }

  // ---- people ----

  applyPresence(event: PresenceEvent): void {
    if (event.username === this.me) return;
    this.persons.applyPresence(event);
    this.emitPeople();
  }

  /** The complete list of who else is online now (login reply, whoelse). */
  setOnline(users: readonly string[]): void {
    this.persons.setOnline(users);
    this.emitPeople();
  }

  /** A `wholast` answer: users online or seen within `minutes`. */
  applyWholast(minutes: number, users: readonly string[]): void {
    this.persons.applyWholast(minutes, users);
    this.emit('people');
  }

  /**
   * The `users` answer: every account but mine, with presence (hidden between blocked users) and
   * when each was last seen, so that people never seen this session are listed too.
   */
  applyUsers(users: readonly UserSummary[]): void {
    this.persons.applyUsers(users);
    this.emitPeople();
  }

  setBlocked(users: readonly string[]): void {
    this.persons.setBlocked(users);
    this.emitPeople();
  }

  setBlock(username: string, blocked: boolean): void {
    this.persons.setBlock(username, blocked);
    this.emitPeople();
  }

  isBlocked(username: string): boolean {
    return this.persons.get(username)?.blocked ?? false;
  }

  presenceOf(username: string): Presence {
    const person = this.persons.get(username);
    return person ? presenceOf(person) : 'offline';
  }

  /** Everyone known except me: online first (active, then idle), then by how recently they were seen, then by name. */
  people(): Person[] {
    return this.persons.list();
  }

  onlineCount(): number {
    return this.persons.onlineCount();
  }

  usernames(): string[] {
    return this.persons.usernames();
  }

  /** People changed in a way the conversation list shows too (online, blocked). */
  private emitPeople(): void {
    this.emit('people');
    this.emit('conversations');
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
