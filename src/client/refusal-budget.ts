import { TokenBucket } from '../protocol/token-bucket';

/**
 * Refused handshakes per address, for the peer listener: an address that used up its budget is turned away
 * before its handshake is read, so junk at full speed costs the listener little. Only refusals count: a peer
 * whose dials succeed is never limited.
 */
export class RefusalBudget {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly clock: () => number,
    private readonly burst = 30,
    private readonly perSecond = 0.5,
    /** Addresses remembered at most; the oldest is forgotten first, so that many addresses cannot grow the map. */
    private readonly maxAddresses = 1024,
  ) {}

  allows(address: string): boolean {
    return this.buckets.get(address)?.peek(this.clock()) ?? true;
  }

  spend(address: string): void {
    const now = this.clock();
    let bucket = this.buckets.get(address);
    if (!bucket) {
      if (this.buckets.size >= this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = new TokenBucket(this.burst, this.perSecond, now);
      this.buckets.set(address, bucket);
    }
    bucket.take(now);
  }
}
