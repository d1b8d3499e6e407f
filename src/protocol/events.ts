import type { Reply } from './errors';
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

export interface PresenceEvent {
  username: string;
  online: boolean;
  at: number;
}

export type SignOutReason = 'logout' | 'idle' | 'shutdown' | 'account-removed';

export interface SignedOutEvent {
  reason: SignOutReason;
  message: string;
}

/** Success bodies, one per request. */
export interface ReplyBodies {
  login: { username: string; online: string[] };
  whoelse: { users: string[] };
  wholast: { users: string[] };
  message: { id: number; sentAt: number; online: boolean };
  broadcast: { id: number; sentAt: number; delivered: number; skipped: number };
  block: { username: string };
  unblock: { username: string };
  blocklist: { users: string[] };
  received: { count: number };
  history: { messages: ChatMessage[]; more: boolean };
  logout: object;
}

export type ReplyTo<E extends RequestName> = Reply<ReplyBodies[E]>;

/** Socket.IO's typed event map, client to server: every request carries an acknowledgement. */
export type ClientToServerEvents = {
  [E in RequestName]: (payload: RequestPayload<E>, ack: (reply: ReplyTo<E>) => void) => void;
};

export interface ServerToClientEvents {
  message: (message: ChatMessage) => void;
  presence: (event: PresenceEvent) => void;
  signedOut: (event: SignedOutEvent) => void;
  /** An event the server could not answer through an acknowledgement (none was given). */
  protocolError: (error: { code: string; message: string; event?: string }) => void;
}

/** What a client sends in the Socket.IO handshake (`io(url, { auth })`). */
export interface HandshakeAuth {
  protocol: number;
}
