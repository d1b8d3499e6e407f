import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from './clock';
import type { Store } from './store/store';

/** A token as its holder gets it: the secret itself, and when it stops working unless used again. */
export interface IssuedToken {
  token: string;
  username: string;
  expiresAt: number;
}

/**
 * Resumable session tokens (protocol 2): a client that signs in with one costs a store read instead of a
 * password hash. A token is 32 random bytes, so a fast unsalted SHA-256 is enough to keep the database
 * from holding anything that signs in; scrypt's cost would defeat the purpose. Expiry slides: each use
 * moves it `ttlMs` ahead, so that an editor in daily use never has to ask for the password again.
 */
export class SessionTokens {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  async issue(username: string): Promise<IssuedToken> {
    const token = randomBytes(32).toString('base64url');
    const createdAt = this.clock();
    const expiresAt = createdAt + this.ttlMs;
    await this.store.putSessionToken({ tokenHash: hashToken(token), username, createdAt, expiresAt });
    return { token, username, expiresAt };
  }

  /**
   * The token's user, with its expiry moved ahead; undefined when the token is unknown, revoked, expired,
   * or belongs to someone else than `username` (when given).
   */
  async resume(token: string, username?: string): Promise<IssuedToken | undefined> {
    const tokenHash = hashToken(token);
    const record = await this.store.getSessionToken(tokenHash);
    const now = this.clock();
    if (!record || record.expiresAt <= now || (username !== undefined && record.username !== username)) return undefined;
    const expiresAt = now + this.ttlMs;
    await this.store.renewSessionToken(tokenHash, expiresAt);
    return { token, username: record.username, expiresAt };
  }

  /** Ends one token (logout of the session that holds it). */
  revoke(token: string): Promise<void> {
    return this.store.deleteSessionToken(hashToken(token));
  }
}

/** What the store keeps of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
