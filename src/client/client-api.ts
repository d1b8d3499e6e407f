import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import type {
  ChannelEvent,
  ChatMessage,
  PresenceEvent,
  PrivateRevokedEvent,
  ReadEvent,
  SignedOutEvent,
  TicketKeysEvent,
} from '../protocol';
import type { ParleyRequestError } from './request-error';

/**
 * What the terminal client and the extension see of the client core (ParleyClient): its states, events and
 * options. Kept apart from the machinery, as ./private-api.ts is for private chat.
 */

export type ConnectionState = 'offline' | 'connecting' | 'connected' | 'signed-in' | 'reconnecting';

export interface ClientEvents {
  state: [state: ConnectionState];
  message: [message: ChatMessage];
  presence: [event: PresenceEvent];
  /** The server ended the session (logout, idle timeout, shutdown, account removed). */
  signedOut: [event: SignedOutEvent];
  /** Signed in again by itself after a dropped connection. */
  resumed: [];
  /** A problem the user should hear about that belongs to no request (e.g. re-login failed). */
  problem: [error: ParleyRequestError];
  /** One of the two users blocked the other: a private chat between them must close (see PrivateChannels). */
  privateRevoked: [event: PrivateRevokedEvent];
  /** In a cluster: the keys whose tickets this session's peer listener accepts changed (a node joined or left). */
  ticketKeys: [event: TicketKeysEvent];
  /** Protocol 3: a read position moved, in this session or another of the same user's. */
  read: [event: ReadEvent];
  /** Protocol 3: something changed in one of the user's channels. */
  channel: [event: ChannelEvent];
  /** The server issued a new session token (at a sign-in with the password, also one made by itself on reconnect). */
  token: [token: SessionToken];
}

/** A session token (protocol 2) and when it expires unless used: sign in with it instead of the password. */
export interface SessionToken {
  token: string;
  expiresAt: number;
}

export interface ClientOptions {
  /** How long a request waits for its answer before it is retried or fails. Default 10 s. */
  requestTimeoutMs?: number;
  /** Passed to socket.io-client (reconnection delays, transports...). */
  socket?: Partial<ManagerOptions & SocketOptions>;
  /**
   * A sign-in the server refuses as RATE_LIMITED (busy checking others, e.g. everyone signing in again after
   * a restart) is sent again after a delay that doubles from `delayMs` up to `maxDelayMs`, `attempts` in all.
   * Default 8 attempts, 500 ms to 8 s.
   */
  signInRetry?: Partial<SignInRetry>;
}

export interface SignInRetry {
  attempts: number;
  delayMs: number;
  maxDelayMs: number;
}
