import { pairKey } from './pair-key';

/** The lockout's rule: `maxFailures` consecutive wrong passwords lock a username out from an address for `blockMs`. */
export interface LockoutRules {
  maxFailures: number;
  blockMs: number;
}

/** A password check counted as in progress: handed back to end it. `id` is the counts' own (see PgLockouts). */
export interface Check {
  readonly username: string;
  readonly address: string;
  readonly id: number;
}

/** A check that may go ahead, a lockout, or `full`: the checks in progress could use up the tries that are left. */
export type Taken = { check: Check } | { lockedForMs: number } | 'full';

/**
 * What the lockout counts per (username, address): consecutive failures, the last one's time, the lockout's end,
 * and the checks in progress. Shared by every process that takes sign-ins for the same users (cluster/pg-lockouts.ts)
 * or kept in this one (MemoryLockouts). Waiting for a place is the caller's (login-throttle.ts).
 */
export interface LockoutCounts {
  /** How long the username is still locked out from the address; 0 when it is not. */
  lockedFor(username: string, address: string, now: number): Promise<number>;
  /** Counts a check as in progress, unless the username is locked out or the count is full; at once (atomically). */
  take(username: string, address: string, now: number): Promise<Taken>;
  /** Ends a check whose password was not checked: it counts as nothing. */
  cancel(check: Check, now: number): Promise<void>;
  /** Ends a check with a wrong password; returns attempts left before a lockout, or the lockout in ms once reached. */
  fail(check: Check, now: number): Promise<{ attemptsLeft: number; lockedForMs: number }>;
  /** Ends a check with the right password: the failures are forgotten. */
  succeed(check: Check): Promise<void>;
  /** Forgets lockouts and failures that no longer count, so that the table cannot grow without bound. */
  prune(now: number): Promise<void>;
  /**
   * How often a wait for a full count looks again, when checks end where this process is not told (another node);
   * absent when every check is this process's, which wakes its waiters itself.
   */
  readonly recheckMs?: number;
}

/** Makes the counts for a server's rules (ServerOptions.lockouts). */
export type LockoutCountsFactory = (rules: LockoutRules) => LockoutCounts;

/**
 * The counts in this process's memory: a single server's. Unknown usernames are counted like known ones.
 * Failures older than `blockMs` are forgotten, so that a typo last month does not count today.
 */
export class MemoryLockouts implements LockoutCounts {
  private readonly entries = new Map<string, { failures: number; lastFailureAt: number; lockedUntil: number; checking: number }>();

  constructor(private readonly rules: LockoutRules) {}

  private entry(username: string, address: string, now: number) {
    const key = pairKey(username, address);
    let entry = this.entries.get(key);
    if (entry && entry.checking === 0 && this.expired(entry, now)) entry = undefined;
    if (!entry) this.entries.set(key, (entry = { failures: 0, lastFailureAt: 0, lockedUntil: 0, checking: 0 }));
    return entry;
  }

  private expired(entry: { lastFailureAt: number; lockedUntil: number }, now: number): boolean {
    return entry.lockedUntil <= now && now - entry.lastFailureAt >= this.rules.blockMs;
  }

  async lockedFor(username: string, address: string, now: number): Promise<number> {
    return Math.max(0, this.entry(username, address, now).lockedUntil - now);
  }

  async take(username: string, address: string, now: number): Promise<Taken> {
    const entry = this.entry(username, address, now);
    if (entry.lockedUntil > now) return { lockedForMs: entry.lockedUntil - now };
    if (entry.failures + entry.checking >= this.rules.maxFailures) return 'full';
    entry.checking += 1;
    return { check: { username, address, id: 0 } };
  }

  async cancel({ username, address }: Check, now: number): Promise<void> {
    const entry = this.entry(username, address, now);
    entry.checking = Math.max(0, entry.checking - 1);
  }

  async fail({ username, address }: Check, now: number): Promise<{ attemptsLeft: number; lockedForMs: number }> {
    const { maxFailures, blockMs } = this.rules;
    const entry = this.entry(username, address, now);
    entry.checking = Math.max(0, entry.checking - 1);
    if (entry.lockedUntil && entry.lockedUntil <= now) Object.assign(entry, { failures: 0, lockedUntil: 0 });
    entry.failures += 1;
    entry.lastFailureAt = now;
    if (entry.failures >= maxFailures) entry.lockedUntil = now + blockMs;
    return {
      attemptsLeft: Math.max(0, maxFailures - entry.failures),
      lockedForMs: entry.lockedUntil > now ? entry.lockedUntil - now : 0,
    };
  }

  async succeed({ username, address }: Check): Promise<void> {
    this.entries.delete(pairKey(username, address));
  }

  async prune(now: number): Promise<void> {
    for (const [key, entry] of this.entries) if (entry.checking === 0 && this.expired(entry, now)) this.entries.delete(key);
  }
}
