import { TokenBucket } from '../protocol/token-bucket';

/** What a notice that is let through says about the others. */
export interface NoticeCount {
  /** Notices held back since the last one let through. */
  held: number;
  /** The next ones will be held back for a while. */
  quiet: boolean;
}

/**
 * Lets `burst` notices through, then one every `1 / perSecond` seconds, and counts those it holds back, so that
 * a flood of events cannot flood the user's screen while the user still learns how many there were.
 */
export class NoticeLimiter {
  private readonly bucket: TokenBucket;
  private held = 0;

  constructor(
    private readonly clock: () => number,
    burst = 20,
    perSecond = 1 / 30,
  ) {
    this.bucket = new TokenBucket(burst, perSecond, clock());
  }

  /** Undefined when this notice is to be held back. */
  pass(): NoticeCount | undefined {
    const now = this.clock();
    if (!this.bucket.take(now)) {
      this.held += 1;
      return undefined;
    }
    const count = { held: this.held, quiet: !this.bucket.peek(now) };
    this.held = 0;
    return count;
  }
}
