/** Every error a request can answer with. Clients switch on `code`; `message` is for people. */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNKNOWN_EVENT',
  'UNSUPPORTED_VERSION',
  'NOT_SIGNED_IN',
  'ALREADY_SIGNED_IN',
  'INVALID_CREDENTIALS',
  'LOCKED_OUT',
  /** login with a session token that is unknown, expired or revoked (protocol 2); not a password guess. */
  'INVALID_TOKEN',
  'UNKNOWN_USER',
  'BLOCKED',
  'NOT_BLOCKED',
  'SELF',
  /** startprivate: the user is not signed in. */
  'USER_OFFLINE',
  /** startprivate: the user is signed in, but from no client that takes direct connections. */
  'NO_PEER_LISTENER',
  'TOO_LONG',
  'TOO_MANY_RECIPIENTS',
  'RATE_LIMITED',
  /** message: the recipient already has as many of the sender's messages waiting as one sender may queue for them. */
  'QUEUE_FULL',
  /** Protocol 3: no channel of that name that this user may see (a private channel's non-members get this too). */
  'NO_SUCH_CHANNEL',
  /** createchannel, renamechannel: the name is taken. */
  'CHANNEL_EXISTS',
  /** A channel request for which the user must be a member (post, topic, invite, read...). */
  'NOT_A_MEMBER',
  /** Only the channel's creator may do this, or nobody may (leaving or deleting #general). */
  'FORBIDDEN',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ParleyError {
  code: ErrorCode;
  message: string;
  /** LOCKED_OUT: seconds until the next attempt is allowed. */
  retryAfterSeconds?: number;
  /** UNSUPPORTED_VERSION: what the server speaks. */
  supported?: number[];
}

export type Ok<T> = { ok: true } & T;
export type Failure = { ok: false; error: ParleyError };
export type Reply<T = object> = Ok<T> | Failure;

export function failure(code: ErrorCode, message: string, extra: Partial<ParleyError> = {}): Failure {
  return { ok: false, error: { code, message, ...extra } };
}

/** What was thrown, in words: its message if it is an Error (anything can be thrown in JavaScript). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What was thrown, with its stack where there is one: for logs, not for people. */
export function errorDetail(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
