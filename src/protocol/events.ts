import type { Reply } from './errors';
import type { PrivateRevokedEvent } from './private';
import type { ConversationRef, RequestName, RequestPayload } from './schemas';

/** `channel` only in protocol 3, and only to protocol 3 connections. */
export type MessageKind = 'direct' | 'broadcast' | 'channel';

/** A chat message as every client sees it. `id` is unique per server and grows with time. */
export interface ChatMessage {
  id: number;
  from: string;
  /** The recipient of a direct message; null for a broadcast or a channel message. */
  to: string | null;
  kind: MessageKind;
  body: string;
  /** Milliseconds since the epoch, when the server accepted it. */
  sentAt: number;
  /** A channel message's channel (without `#`) and its place in it: 1, 2, 3... with no gaps. */
  channel?: string;
  seq?: number;
  /** A channel message's mentioned members (`@name`), each once. */
  mentions?: string[];
}

/** A channel as anyone who may see it sees it (protocol 3). */
export interface ChannelInfo {
  name: string;
  topic: string;
  private: boolean;
  /** null for #general, or once the creator's account was removed. */
  creator: string | null;
  members: number;
  /** Whether the requester is a member. */
  member: boolean;
}

/** A channel the user is a member of, with where they stopped reading. */
export interface ChannelState extends ChannelInfo {
  /** The newest message's seq; 0 for none. */
  lastSeq: number;
  readSeq: number;
  /** Messages after readSeq from others, not counting those of users blocked either way. */
  unread: number;
  /** Of those, the ones that mention this user. */
  mentions: number;
}

/** A direct conversation with one user (`with`), or the broadcasts this user received (`with` null). */
export interface DirectState {
  with: string | null;
  /** The newest message's id in it; readId the user's read position; unread counts the others' messages after it. */
  lastId: number;
  readId: number;
  unread: number;
}

/** Event `read`: a session of this user moved a read position; every session of theirs is told. */
export interface ReadEvent {
  conversation: ConversationRef;
  upTo: number;
}

export type ChannelChange = 'created' | 'joined' | 'left' | 'added' | 'removed' | 'topic' | 'renamed' | 'deleted';

/**
 * Event `channel`: something changed in a channel this session's user is a member of (or was, for `removed`,
 * `left` and `deleted`). `username` is who joined, left, was added or removed; `to` the new name; `state` the
 * receiver's view of the channel after the change (absent once they are no longer a member).
 */
export interface ChannelEvent {
  change: ChannelChange;
  channel: string;
  by: string;
  at: number;
  username?: string;
  to?: string;
  topic?: string;
  state?: ChannelState;
}

/** One account as another user sees it (the `users` request): the people list of a client. */
export interface UserSummary {
  username: string;
  /** False, and lastSeen null, when either user blocked the other: presence is hidden between them. */
  online: boolean;
  /** When the user's last session ended; null if never, or hidden. */
  lastSeen: number | null;
  /** The requester blocked this user. */
  blocked: boolean;
  /** Protocol 3: see PresenceEvent. */
  idle?: boolean;
}

export interface PresenceEvent {
  username: string;
  online: boolean;
  at: number;
  /** Protocol 3: online, but every session of theirs said it is idle (request `status`). */
  idle?: boolean;
}

export type SignOutReason = 'logout' | 'idle' | 'shutdown' | 'account-removed' | 'password-changed';

export interface SignedOutEvent {
  reason: SignOutReason;
  message: string;
}

/** Event `ticketKeys`: the whole set of keys whose tickets a client of this cluster accepts now. */
export interface TicketKeysEvent {
  keys: string[];
}

/** Success bodies, one per request. */
export interface ReplyBodies {
  /** `token` and `tokenExpiresAt` only in protocol 2: the session token to sign in with next time, and when it expires. */
  login: { username: string; online: string[]; token?: string; tokenExpiresAt?: number };
  whoelse: { users: string[] };
  wholast: { users: string[] };
  message: { id: number; sentAt: number; online: boolean };
  /** `skipped` counts those left out by a block or a full queue; `queueFull` names the latter. */
  broadcast: { id: number; sentAt: number; delivered: number; skipped: number; queueFull: string[] };
  block: { username: string };
  unblock: { username: string };
  blocklist: { users: string[] };
  users: { users: UserSummary[] };
  received: { count: number };
  history: { messages: ChatMessage[]; more: boolean };
  channels: { channels: ChannelInfo[] };
  /** `broadcasts` is the DirectState of the broadcasts this user received (`with` null). */
  conversations: { channels: ChannelState[]; directs: DirectState[]; broadcasts: DirectState };
  createchannel: { channel: ChannelState };
  join: { channel: ChannelState };
  leave: object;
  topic: { channel: ChannelInfo };
  invite: { channel: string; username: string };
  kick: { channel: string; username: string };
  renamechannel: { channel: string; to: string };
  deletechannel: { channel: string };
  members: { channel: string; members: string[] };
  /** `delivered`: members' sessions it reached live (the others read it from history). */
  post: { id: number; seq: number; sentAt: number; delivered: number };
  /** The position now (a read never moves it back). */
  read: { upTo: number };
  status: object;
  logout: object;
  /**
   * `host`/`port`: what the server will hand out; `ticketKey`: its Ed25519 key that signs tickets; `serverTime` for clock offset;
   * `blocked`: those of the request's `partners` between whom and this user a block stands, either way. `ticketKeys`, in a cluster
   * only: every live node's ticket key, this one's among them (docs/protocol.md 9.1).
   */
  peer: {
    host: string;
    port: number;
    ticketKey: string;
    ticketKeys?: string[];
    serverTime: number;
    ticketTtlMs: number;
    blocked: string[];
  };
  /** The chosen session's address and X25519 key, and a ticket to present to it before `expiresAt` (server time). */
  startprivate: { username: string; host: string; port: number; publicKey: string; ticket: string; expiresAt: number };
}

export type ReplyTo<E extends RequestName> = Reply<ReplyBodies[E]>;

/** Socket.IO's typed event map, client to server: every request carries an acknowledgement. */
export type ClientToServerEvents = {
  [E in Exclude<RequestName, 'received'>]: (payload: RequestPayload<E>, ack: (reply: ReplyTo<E>) => void) => void;
} & {
  /** The one request whose reply is optional: sent without an acknowledgement callback, it is answered only if it fails (protocolError). */
  received: (payload: RequestPayload<'received'>, ack?: (reply: ReplyTo<'received'>) => void) => void;
};

export interface ServerToClientEvents {
  message: (message: ChatMessage) => void;
  /** Who came online or went offline, several at once (the server batches them). */
  presence: (events: PresenceEvent[]) => void;
  signedOut: (event: SignedOutEvent) => void;
  /** One of the two users blocked the other: any private chat between them must close. */
  privateRevoked: (event: PrivateRevokedEvent) => void;
  /** In a cluster: the live nodes' ticket keys changed (a node joined or left); sent to sessions that registered a listener. */
  ticketKeys: (event: TicketKeysEvent) => void;
  /** Protocol 3: a read position moved (by any session of this user). */
  read: (event: ReadEvent) => void;
  /** Protocol 3: a change in one of this user's channels. */
  channel: (event: ChannelEvent) => void;
  /** An event the server could not answer through an acknowledgement (none was given). */
  protocolError: (error: { code: string; message: string; event?: string }) => void;
}

/** What a client sends in the Socket.IO handshake (`io(url, { auth })`). */
export interface HandshakeAuth {
  protocol: number;
}
