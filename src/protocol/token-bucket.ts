/** A token bucket: `burst` at once, refilled at `perSecond`. The server keeps one per connection, a private chat one per channel. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  take(now: number): boolean {
    if (!this.peek(now)) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether `take` would succeed now, without taking. */
  peek(now: number): boolean {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perSecond);
    this.updatedAt = now;
    return this.tokens >= 1;
  }
}
