import { TokenBucket } from '../protocol/token-bucket';

/**
 * A token bucket per client address, e.g. for sign-in attempts across all usernames (a per-connection
 * bucket does nothing against an attacker who opens a new connection per attempt). A bucket that has
 * been left alone long enough to be full again is forgotten, so that the table stays small.
 */
export class AddressRate {
  private readonly buckets = new Map<string, { bucket: TokenBucket; lastAt: number }>();

  constructor(private readonly rate: { burst: number; perSecond: number }) {}

  take(address: string, now: number): boolean {
    let entry = this.buckets.get(address);
    if (!entry) this.buckets.set(address, (entry = { bucket: new TokenBucket(this.rate.burst, this.rate.perSecond, now), lastAt: now }));
    entry.lastAt = now;
    return entry.bucket.take(now);
  }

  prune(now: number): void {
    const refillMs = (this.rate.burst / this.rate.perSecond) * 1000;
    for (const [address, entry] of this.buckets) if (now - entry.lastAt >= refillMs) this.buckets.delete(address);
  }
}
