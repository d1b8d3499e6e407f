import { TokenBucket } from '../protocol/token-bucket';

/**
 * A token bucket per key: per client address for sign-in attempts across all usernames (a per-connection
 * bucket does nothing against an attacker who opens a new connection per attempt), per user for what they
 * send across all their sessions. A bucket left alone long enough to be full again can be pruned, so
 * that the table stays small.
 */
export class KeyedRate {
  private readonly buckets = new Map<string, { bucket: TokenBucket; lastAt: number }>();

  constructor(private readonly rate: { burst: number; perSecond: number }) {}

  take(key: string, now: number): boolean {
    return this.entry(key, now).bucket.take(now);
  }

  /** Whether `take` would succeed now, without taking. */
  peek(key: string, now: number): boolean {
    return this.buckets.get(key)?.bucket.peek(now) ?? true;
  }

  private entry(key: string, now: number): { bucket: TokenBucket; lastAt: number } {
    let entry = this.buckets.get(key);
    if (!entry) this.buckets.set(key, (entry = { bucket: new TokenBucket(this.rate.burst, this.rate.perSecond, now), lastAt: now }));
    entry.lastAt = now;
    return entry;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  prune(now: number): void {
    const refillMs = (this.rate.burst / this.rate.perSecond) * 1000;
    for (const [key, entry] of this.buckets) if (now - entry.lastAt >= refillMs) this.buckets.delete(key);
  }
}
