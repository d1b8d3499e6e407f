export type Reservation = { lockedForMs: number } | 'reserved' | 'busy' | 'gone';

/** One key for a username and an address (no username or address holds U+0000). */
export const keyOf = (username: string, address: string): string => `${username}\u0000${address}`;

/**
 * The original's lockout: after `maxFailures` consecutive wrong passwords, a username is
 * locked out from that address for `blockMs`. Keyed by (username, address) so that one attacker
 * cannot lock a user out everywhere. Unknown usernames are counted like known ones.
 * Failures older than `blockMs` are forgotten, so that a typo last month does not count today.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { failures: number; lastFailureAt: number; lockedUntil: number; checking: number }>();
  private readonly waiters = new Map<string, (() => void)[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly blockMs: number,
    private readonly maxWaiting: number,
  ) {}

  private entry(username: string, address: string, now: number) {
    const key = keyOf(username, address);
    let entry = this.entries.get(key);
    if (entry && entry.checking === 0 && this.expired(entry, now)) entry = undefined;
    if (!entry) this.entries.set(key, (entry = { failures: 0, lastFailureAt: 0, lockedUntil: 0, checking: 0 }));
    return entry;
  }

  private expired(entry: { lastFailureAt: number; lockedUntil: number }, now: number): boolean {
    return entry.lockedUntil <= now && now - entry.lastFailureAt >= this.blockMs;
  }

  /** How long the username is still locked out from the address; 0 when it is not. */
  lockedFor(username: string, address: string, now: number): number {
    return Math.max(0, this.entry(username, address, now).lockedUntil - now);
  }

  /**
   * Asks to check a password: locked out, or `reserved` (counted as in progress until `fail`, `succeed` or
   * `cancel`). While earlier attempts still being checked could use up the remaining tries, it waits for
   * them rather than being refused, so that parallel connections get no more guesses than one and the
   * correct sign-ins of several windows all go through. `busy` when `maxWaiting` already wait for this
   * username and address; `gone` when `wanted` turned false while waiting.
   */
  async reserve(username: string, address: string, clock: () => number, wanted: () => boolean): Promise<Reservation> {
    const key = keyOf(username, address);
    for (;;) {
      const now = clock();
      const entry = this.entry(username, address, now);
      if (entry.lockedUntil > now) return { lockedForMs: entry.lockedUntil - now };
      if (entry.failures + entry.checking < this.maxFailures) {
        entry.checking += 1;
        return 'reserved';
      }
      const waiters = this.waiters.get(key) ?? [];
      if (waiters.length >= this.maxWaiting) return 'busy';
      this.waiters.set(key, waiters);
      await new Promise<void>((resolve) => waiters.push(resolve));
      if (!wanted()) return 'gone';
    }
  }

  /** Ends a reserved attempt whose password was not checked (its socket went first): it counts as nothing. */
  cancel(username: string, address: string, now: number): void {
    const entry = this.entry(username, address, now);
    entry.checking = Math.max(0, entry.checking - 1);
    this.wake(keyOf(username, address));
  }

  /** Records a wrong password; returns attempts left before a lockout, or the lockout in ms once reached. */
  fail(username: string, address: string, now: number): { attemptsLeft: number; lockedForMs: number } {
    const entry = this.entry(username, address, now);
    entry.checking = Math.max(0, entry.checking - 1);
    this.wake(keyOf(username, address));
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
    this.entries.delete(keyOf(username, address));
    this.wake(keyOf(username, address));
  }

  /** Lets the attempts waiting for this username and address look again, in the order they came. */
  private wake(key: string): void {
    const waiters = this.waiters.get(key);
    if (!waiters) return;
    this.waiters.delete(key);
    for (const resolve of waiters) resolve();
  }

  /** Forgets lockouts and failures that no longer count, so that the table cannot grow without bound. */
  prune(now: number): void {
    for (const [key, entry] of this.entries) if (entry.checking === 0 && this.expired(entry, now)) this.entries.delete(key);
  }
}
