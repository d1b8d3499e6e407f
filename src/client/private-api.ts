import type { PeerRefusal } from '../protocol';
import type { PrivateCloseReason } from './private-channel';

/**
 * What the terminal client and the extension see of private chat: PrivateChannels' events, errors and
 * options. Kept apart from the machinery so that a UI imports shapes, not sockets.
 */

export type { PrivateCloseReason } from './private-channel';

/** A private message, sent or received over a direct channel; it never passed through the message center. */
export interface PrivateMessage {
  private: true;
  from: string;
  to: string;
  body: string;
  /** The sender's clock when it was sent: shown only, the peer's word. */
  sentAt: number;
  /** This client's clock when it arrived (or was sent). */
  at: number;
}

export interface PrivateOpened {
  username: string;
  /** `outgoing` when this client asked (startprivate), `incoming` when the peer did. */
  direction: 'outgoing' | 'incoming';
  /** The same on both screens unless someone is in between (see ChannelKeys.safetyCode). */
  safetyCode: string;
}

export interface PrivateClosed {
  username: string;
  reason: PrivateCloseReason;
  /** True when the peer ended it (its goodbye, or its connection went away). */
  byPeer: boolean;
}

/** A connection to the listener that was refused before it could become a channel, for the user to see and the log. */
export interface PrivateRefused {
  code: PeerRefusal;
  message: string;
  /** The username the ticket names as the caller, when it could be read. */
  claimed?: string;
  address: string;
  /** Refusals not reported since the last one that was: a flood is reported in part (NoticeLimiter). */
  held?: number;
  /** The refusals that follow are not reported for a while (their number comes with the next one that is). */
  quiet?: boolean;
}

export interface PrivateChannelsEvents {
  opened: [info: PrivateOpened];
  closed: [info: PrivateClosed];
  message: [message: PrivateMessage];
  refused: [info: PrivateRefused];
  /** The listener is up and the current session of the message center knows it. */
  ready: [endpoint: { host: string; port: number }];
  /** Something failed that belongs to no call (e.g. registering the listener after a reconnect). */
  problem: [error: Error];
}

export type PrivateChatErrorCode =
  'NOT_SIGNED_IN' | 'NO_CHANNEL' | 'PEER_UNREACHABLE' | 'PEER_REFUSED' | 'KEY_CONFIRMATION_FAILED' | 'CLOSED' | 'BAD_MESSAGE';

export class PrivateChatError extends Error {
  constructor(
    readonly code: PrivateChatErrorCode,
    message: string,
    /** PEER_REFUSED: the peer's reason. */
    readonly refusal?: string,
  ) {
    super(message);
    this.name = 'PrivateChatError';
  }
}

export interface PrivateChannelsOptions {
  /** Take direct connections (default true). Without a listener this client can still start chats. */
  listen?: boolean;
  /**
   * The interface the listener binds. Default: loopback when the message center's URL is loopback
   * (a local server means local peers), else every interface.
   */
  host?: string;
  /** What peers should dial when it is not what is bound, e.g. a port forwarded on a router. */
  advertise?: { host?: string; port?: number };
  /**
   * Local time; injected by tests. Ticket times are judged on the server's clock, offset from this one
   * (by default from a monotonic clock, which a step of the wall clock does not move).
   */
  clock?: () => number;
  /** How long dialling a peer may take (default 5 s). */
  connectTimeoutMs?: number;
  /** How long a peer has to prove it holds its key once connected (default 5 s). */
  confirmTimeoutMs?: number;
  /** Clock difference tolerated on ticket times beyond the measured offset (default 5 s). */
  clockSkewMs?: number;
}

/**
 * Why a private chat closed, in words for people; `who` is the peer's name as the caller displays it,
 * and `terse` replaces some words where a client has less room (the terminal).
 */
export function privateCloseReason(info: PrivateClosed, who: string, terse: Partial<Record<PrivateClosed['reason'], string>> = {}): string {
  const why: Record<PrivateClosed['reason'], string> = {
    stopped: info.byPeer ? `${who} stopped it` : 'you stopped it',
    'signed-out': info.byPeer ? `${who} signed out` : 'you signed out',
    blocked: 'one of you blocked the other',
    lost: 'the direct connection was lost',
    timeout: 'no key confirmation in time',
    tampered: 'a message failed authentication',
    'out-of-order': 'a message was replayed or out of order',
    malformed: 'the peer sent something invalid',
    flooded: 'the peer sent messages faster than a person types',
    replaced: 'replaced by a new connection',
  };
  return terse[info.reason] ?? why[info.reason];
}
