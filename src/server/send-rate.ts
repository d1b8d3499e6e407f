import { TokenBucket } from '../protocol/token-bucket';

/**
 * What each user may send (`message`, `broadcast`), across all their sessions: each connection has a
 * bucket of its own for every request, so a user with many windows could otherwise send that much faster.
 */
export class SendRate {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly rate: { burst: number; perSecond: number }) {}

  take(user: string, now: number): boolean {
    let bucket = this.buckets.get(user);
    if (!bucket) this.buckets.set(user, (bucket = new TokenBucket(this.rate.burst, this.rate.perSecond, now)));
    return bucket.take(now);
  }

  /** A removed account's bucket goes with it. */
  forget(user: string): void {
    this.buckets.delete(user);
  }
}
