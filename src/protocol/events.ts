import type { Reply } from './errors';
import type { PrivateRevokedEvent } from './private';
import type { RequestName, RequestPayload } from './schemas';

export type MessageKind = 'direct' | 'broadcast';

/** A chat message as every client sees it. `id` is unique per server and grows with time. */
export interface ChatMessage {
  id: number;
  from: string;
  /** The recipient of a direct message; null for a broadcast. */
  to: string | null;
  kind: MessageKind;
  body: string;
  /** Milliseconds since the epoch, when the server accepted it. */
  sentAt: number;
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
}

export interface PresenceEvent {
  username: string;
  online: boolean;
  at: number;
}

export type SignOutReason = 'logout' | 'idle' | 'shutdown' | 'account-removed' | 'password-changed';

export interface SignedOutEvent {
  reason: SignOutReason;
  message: string;
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
  logout: object;
  /**
   * `host`/`port`: what the server will hand out; `ticketKey`: its Ed25519 key that signs tickets; `serverTime` for clock offset;
   * `blocked`: those of the request's `partners` between whom and this user a block stands, either way.
   */
  peer: { host: string; port: number; ticketKey: string; serverTime: number; ticketTtlMs: number; blocked: string[] };
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
  /** An event the server could not answer through an acknowledgement (none was given). */
  protocolError: (error: { code: string; message: string; event?: string }) => void;
}

/** What a client sends in the Socket.IO handshake (`io(url, { auth })`). */
export interface HandshakeAuth {
  protocol: number;
}
