/**
 * The original's lockout: after `maxFailures` consecutive wrong passwords, a username is
 * blocked from that address for `blockMs`. Keyed by (username, address) so that one attacker
 * cannot lock a user out everywhere. Unknown usernames are counted like known ones.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { failures: number; lockedUntil: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly blockMs: number,
  ) {}

  private static key(username: string, address: string): string {
    return `${username.toLowerCase()}\u0000${address}`;
  }

  /** Milliseconds until this pair may try again; 0 when it may try now. */
  lockedFor(username: string, address: string, now: number): number {
    const entry = this.entries.get(LoginThrottle.key(username, address));
    return entry && entry.lockedUntil > now ? entry.lockedUntil - now : 0;
  }

  /** Records a failure; returns attempts left before a lockout, or the lockout in ms once reached. */
  fail(username: string, address: string, now: number): { attemptsLeft: number; lockedForMs: number } {
    const key = LoginThrottle.key(username, address);
    const entry = this.entries.get(key) ?? { failures: 0, lockedUntil: 0 };
    if (entry.lockedUntil && entry.lockedUntil <= now) Object.assign(entry, { failures: 0, lockedUntil: 0 });
    entry.failures += 1;
    if (entry.failures >= this.maxFailures) entry.lockedUntil = now + this.blockMs;
    this.entries.set(key, entry);
    return {
      attemptsLeft: Math.max(0, this.maxFailures - entry.failures),
      lockedForMs: entry.lockedUntil > now ? entry.lockedUntil - now : 0,
    };
  }

  succeed(username: string, address: string): void {
    this.entries.delete(LoginThrottle.key(username, address));
  }

  /** Forgets expired lockouts so that the table cannot grow without bound. */
  prune(now: number): void {
    for (const [key, entry] of this.entries) if (entry.lockedUntil && entry.lockedUntil <= now) this.entries.delete(key);
  }
}
