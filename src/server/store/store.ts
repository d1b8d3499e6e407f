import type { ChatMessage, MessageKind } from '../../protocol';

export interface UserRecord {
  /** The account's own identity: never reused, so a user removed and added again is a new account. */
  id: number;
  username: string;
  /** A self-describing scrypt hash (see ../passwords.ts); never a plaintext password. */
  passwordHash: string;
  createdAt: number;
  /** When the user's last session ended; null if never signed out. */
  lastSeen: number | null;
}

/** A session token as stored: only its SHA-256, never the token (see ../session-tokens.ts). */
export interface SessionTokenRecord {
  tokenHash: string;
  username: string;
  createdAt: number;
  expiresAt: number;
}

export interface NewMessage {
  from: string;
  kind: MessageKind;
  body: string;
  sentAt: number;
  /** Who must receive it. A direct message has exactly one; a broadcast those it was sent to. */
  recipients: string[];
  /** Makes a retried send idempotent: the same (from, clientMsgId) returns the first message. */
  clientMsgId?: string;
  /** In a cluster, the sending session (node/socket id): live delivery leaves it out. The embedded store has no use for it. */
  origin?: string;
}

/** Who a message goes to, each once, and its `to`: the one recipient of a direct message, null for a broadcast. */
export function deliveryOf(message: NewMessage): { recipients: string[]; to: string | null } {
  const recipients = [...new Set(message.recipients)];
  const to = message.kind === 'direct' ? recipients[0] : null;
  if (to === undefined || (message.kind === 'direct' && recipients.length !== 1)) {
    throw new Error('a direct message needs exactly one recipient');
  }
  return { recipients, to };
}

/** A recipient's acknowledgement of messages it was delivered (a `received` request). */
export interface Acknowledgement {
  recipient: string;
  ids: number[];
}

/** A page of pending messages: those after the id `after` (default: from the first), at most `limit` (default: all). */
export interface PendingPage {
  after?: number;
  limit?: number;
}

/** A stored message; `full` names the recipients left out because their queue from this sender was full. */
export interface Saved {
  message: ChatMessage;
  duplicate: boolean;
  full: string[];
}

/** A direct message not stored: its recipient's queue from this sender is full. */
export interface Refused {
  message: undefined;
  full: string[];
}

export interface HistoryQuery {
  /** Only the direct conversation with this user's account; otherwise everything `user`'s account sent or received. */
  with?: string;
  /** Only messages with a smaller id (paging backwards). */
  before?: number;
  limit: number;
}

/** A channel as stored; `members` leaves out #general's, who are every account. */
export interface StoredChannel {
  id: number;
  name: string;
  topic: string;
  private: boolean;
  creator: string | null;
  lastSeq: number;
  createdAt: number;
  members: string[];
}

export interface NewChannel {
  name: string;
  topic: string;
  private: boolean;
  creator: string;
  createdAt: number;
}

export interface NewChannelMessage {
  from: string;
  channelId: number;
  body: string;
  sentAt: number;
  /** Members it mentions: a row each. */
  mentions: string[];
  clientMsgId?: string;
  origin?: string;
}

/** A stored channel message; `duplicate` when (from, clientMsgId) was seen before, then `message` is that first one (of any kind). */
export interface SavedPost {
  message: ChatMessage;
  duplicate: boolean;
}

export interface ChannelHistoryQuery {
  /** Only messages with a smaller seq. */
  before?: number;
  limit: number;
  /** Senders left out (blocked either way). */
  hidden: string[];
}

/** Where a member stands in one of their channels; `unread` and `mentions` leave out the senders given. */
export interface StoredChannelState {
  channelId: number;
  lastSeq: number;
  readSeq: number;
  unread: number;
  mentions: number;
}

/** A direct conversation (`with` the other user) or the broadcasts (`with` null), as in the protocol's DirectState. */
export interface StoredDirectState {
  with: string | null;
  lastId: number;
  readId: number;
  unread: number;
}

/** One commit of queued writes: how long it took (BEGIN to COMMIT, its fsync included) and whether it went through. */
export interface CommitOutcome {
  ok: boolean;
  seconds: number;
  /** Why it failed (SQLite's message), when it did. */
  error?: string;
}

/** Whether the store can be written now: open, and its last commit went through (or none has been made yet). */
export type StoreHealth = { ok: true } | { ok: false; reason: string };

/**
 * One step of a walk through every message in id order (retention, exports): a step looks at no more than
 * `limit` messages after the id `after`, so that no one call holds the store for long.
 */
export interface MessageSlice {
  after: number;
  limit: number;
}

/** What a step found, and `last`, the id the next step starts after; undefined when the walk is over. */
export interface SliceResult<T> {
  found: T;
  last: number | undefined;
}

/**
 * Everything the message center keeps. Writes resolve only once they are durable on disk:
 * the server acknowledges a message to its sender after `saveMessage` resolves.
 * Implementations: SqliteStore (embedded default) and PgStore (PostgreSQL, for several nodes).
 */
export interface Store {
  getUser(username: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  /** Creates the user (a new account, with nothing left under its name, a member of #general) or replaces the password hash. */
  putUser(username: string, passwordHash: string, createdAt: number): Promise<void>;
  /**
   * Removes the user with their blocks, deliveries, session tokens, channel memberships and read positions (their
   * channels keep no creator, and private ones left without members go); false if there was none. What they
   * sent stays in the others' history, but belongs to no later account of that name.
   */
  removeUser(username: string): Promise<boolean>;
  setLastSeen(username: string, at: number): Promise<void>;

  /** Stores a message and its pending deliveries; `duplicate` is true when clientMsgId was seen before. */
  saveMessage(message: NewMessage): Promise<Saved>;
  /**
   * The same, but a recipient who already has `maxPendingPerSender` messages of this sender pending is left
   * out (`full`); a direct message to such a recipient is not stored at all (Refused).
   */
  saveMessage(message: NewMessage, maxPendingPerSender: number): Promise<Saved | Refused>;
  /** What `from` sent with this clientMsgId, if anything (a retried send). */
  findSent(from: string, clientMsgId: string): Promise<ChatMessage | undefined>;
  /** Messages to `recipient` not yet acknowledged, oldest first; all of them, or one page. */
  pendingFor(recipient: string, page?: PendingPage): Promise<ChatMessage[]>;
  /**
   * Marks deliveries acknowledged, several recipients' in one write and in order; returns, for each
   * acknowledgement, how many of its ids were pending.
   */
  markDelivered(acks: readonly Acknowledgement[]): Promise<number[]>;
  history(user: string, query: HistoryQuery): Promise<ChatMessage[]>;

  /** Every channel with its members, loaded once at start. */
  listChannels(): Promise<StoredChannel[]>;
  /** Creates a channel with its creator as its only member; undefined if the name is taken. */
  createChannel(channel: NewChannel): Promise<number | undefined>;
  /** Adds a member, reading from the channel's newest message on; nothing if they are one. */
  addMember(channelId: number, username: string): Promise<void>;
  removeMember(channelId: number, username: string): Promise<void>;
  setTopic(channelId: number, topic: string): Promise<void>;
  renameChannel(channelId: number, name: string): Promise<void>;
  /** Removes the channel with its members and messages. */
  deleteChannel(channelId: number): Promise<void>;
  /** Stores a channel message with the channel's next seq: one row, and one per mention, however many members. */
  post(message: NewChannelMessage): Promise<SavedPost>;
  /** A page of a channel's messages, the newest `limit` before `before`, oldest first. */
  channelHistory(channelId: number, query: ChannelHistoryQuery): Promise<ChatMessage[]>;
  /** Every channel `username` is a member of, with unread messages and mentions from anyone but `hidden`. */
  channelStates(username: string, hidden: string[]): Promise<StoredChannelState[]>;
  /** Moves a member's read position forward to `seq` (at most the channel's newest); returns where it is. */
  readChannel(channelId: number, username: string, seq: number): Promise<number>;
  /** The same in a direct conversation (`partner` null: the broadcasts), by message id. */
  readDirect(username: string, partner: string | null, id: number): Promise<number>;
  /** `username`'s direct conversations, and their broadcasts (`with` null, always there). */
  directStates(username: string): Promise<StoredDirectState[]>;

  /** All (blocker, blocked) pairs, loaded once at start. */
  listBlocks(): Promise<{ blocker: string; blocked: string }[]>;
  addBlock(blocker: string, blocked: string): Promise<void>;
  removeBlock(blocker: string, blocked: string): Promise<void>;

  /** Stores a session token, and forgets tokens that expired by its `createdAt` (so that the table stays small). */
  putSessionToken(token: SessionTokenRecord): Promise<void>;
  getSessionToken(tokenHash: string): Promise<SessionTokenRecord | undefined>;
  /** Moves an existing token's expiry (sliding expiry); nothing if it was revoked meanwhile. */
  renewSessionToken(tokenHash: string, expiresAt: number): Promise<void>;
  deleteSessionToken(tokenHash: string): Promise<void>;
  /** Revokes every token of a user (password change); returns how many there were. */
  deleteSessionTokensOf(username: string): Promise<number>;

  /** From what the store already knows, without touching its files (readiness probes call it). */
  health(): StoreHealth;
  /** Tells `listener` of every commit from now on, as it happens (for metrics). */
  onCommit(listener: (commit: CommitOutcome) => void): void;
  /**
   * Deletes messages stored before `cutoff` (ms), with their deliveries and mentions, walking from the oldest: `found` is how
   * many. A message some account has not acknowledged yet is kept. The walk ends at the first message stored at or after
   * the cutoff (ids follow the order of storing).
   */
  expireMessages(cutoff: number, slice: MessageSlice): Promise<SliceResult<number>>;
  /** The channel messages `username`'s account posted, among one slice of messages. */
  postsBy(username: string, slice: MessageSlice): Promise<SliceResult<ChatMessage[]>>;
  /**
   * Writes a consistent copy of everything to `file`, which must exist and be empty (so that its owner and mode are the
   * caller's), between two commits: writes wait meanwhile.
   */
  backupTo(file: string): Promise<void>;

  /** Flushes pending writes and releases the files. */
  close(): Promise<void>;
}
