/**
 * The original's lockout: after `maxFailures` consecutive wrong passwords, a username is
 * blocked from that address for `blockMs`. Keyed by (username, address) so that one attacker
 * cannot lock a user out everywhere. Unknown usernames are counted like known ones.
 * Failures older than `blockMs` are forgotten, so that a typo last month does not count today.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { failures: number; lastFailureAt: number; lockedUntil: number; checking: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly blockMs: number,
  ) {}

  private entry(username: string, address: string, now: number) {
    const key = `${username}\u0000${address}`;
    let entry = this.entries.get(key);
    if (entry && entry.checking === 0 && this.expired(entry, now)) entry = undefined;
    if (!entry) this.entries.set(key, (entry = { failures: 0, lastFailureAt: 0, lockedUntil: 0, checking: 0 }));
    return entry;
  }

  private expired(entry: { lastFailureAt: number; lockedUntil: number }, now: number): boolean {
    return entry.lockedUntil <= now && now - entry.lastFailureAt >= this.blockMs;
  }

  /**
   * Asks to check a password: `lockedForMs` > 0 while locked out; `busy` when earlier attempts
   * are still being checked and could use up the remaining tries (parallel connections must not
   * get more guesses than one connection). Otherwise the attempt is counted as in progress until
   * `fail` or `succeed` is called.
   */
  begin(username: string, address: string, now: number): { lockedForMs: number; busy: boolean } {
    const entry = this.entry(username, address, now);
    if (entry.lockedUntil > now) return { lockedForMs: entry.lockedUntil - now, busy: false };
    if (entry.failures + entry.checking >= this.maxFailures) return { lockedForMs: 0, busy: true };
    entry.checking += 1;
    return { lockedForMs: 0, busy: false };
  }

  /** Records a wrong password; returns attempts left before a lockout, or the lockout in ms once reached. */
  fail(username: string, address: string, now: number): { attemptsLeft: number; lockedForMs: number } {
    const entry = this.entry(username, address, now);
    entry.checking = Math.max(0, entry.checking - 1);
    if (entry.lockedUntil && entry.lockedUntil <= now) Object.assign(entry, { failures: 0, lockedUntil: 0 });
    entry.failures += 1;
    entry.lastFailureAt = now;
    if (entry.failures >= this.maxFailures) entry.lockedUntil = now + this.blockMs;
    return {
      attemptsLeft: Math.max(0, this.maxFailures - entry.failures),
      lockedForMs: entry.lockedUntil > now ? entry.lockedUntil - now : 0,
    };
  }

  succeed(username: string, address: string): void {
    this.entries.delete(`${username}\u0000${address}`);
  }

  /** Forgets lockouts and failures that no longer count, so that the table cannot grow without bound. */
  prune(now: number): void {
    for (const [key, entry] of this.entries) if (entry.checking === 0 && this.expired(entry, now)) this.entries.delete(key);
  }
}
