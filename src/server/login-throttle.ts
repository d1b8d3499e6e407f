import type { Check, LockoutCounts } from './lockout-counts';
import { pairKey } from './pair-key';

export type Reservation = { check: Check } | { lockedForMs: number } | 'busy' | 'gone';

/** The lockout counts could not be read or written (their database is unreachable): the sign-in cannot be checked. */
export class LockoutsUnavailable extends Error {
  constructor(cause: unknown) {
    super(`the lockout counts are unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * The original's lockout: after `maxFailures` consecutive wrong passwords, a username is locked out from that
 * address for `blockMs`. Keyed by (username, address) so that one attacker cannot lock a user out everywhere.
 * The counts themselves may be shared with other nodes (LockoutCounts); the attempts waiting for a place are
 * this process's. Every failure of the counts is thrown as LockoutsUnavailable.
 */
export class LoginThrottle {
  private readonly waiters = new Map<string, (() => void)[]>();
  /** How many times waiters were woken: a wake between a full count and the wait for it is not missed. */
  private wakes = 0;

  constructor(
    private readonly counts: LockoutCounts,
    private readonly maxWaiting: number,
  ) {}

  lockedFor(username: string, address: string, now: number): Promise<number> {
    return counted(this.counts.lockedFor(username, address, now));
  }

  /**
   * Asks to check a password: locked out, or a check (counted as in progress until `fail`, `succeed` or
   * `cancel`). While earlier attempts still being checked could use up the remaining tries, it waits for
   * them rather than being refused, so that parallel connections get no more guesses than one and the
   * correct sign-ins of several windows all go through. `busy` when `maxWaiting` already wait for this
   * username and address; `gone` when `wanted` turned false while waiting.
   */
  async reserve(username: string, address: string, clock: () => number, wanted: () => boolean): Promise<Reservation> {
    const key = pairKey(username, address);
    for (;;) {
      const wakes = this.wakes;
      const taken = await counted(this.counts.take(username, address, clock()));
      if (taken !== 'full') return taken;
      if (this.wakes !== wakes) continue;
      if ((this.waiters.get(key)?.length ?? 0) >= this.maxWaiting) return 'busy';
      await this.wait(key);
      if (!wanted()) return 'gone';
    }
  }

  /** Ends a reserved attempt whose password was not checked (its socket went first): it counts as nothing. */
  async cancel(check: Check, now: number): Promise<void> {
    await counted(this.counts.cancel(check, now));
    this.wake(check);
  }

  /** Records a wrong password; returns attempts left before a lockout, or the lockout in ms once reached. */
  async fail(check: Check, now: number): Promise<{ attemptsLeft: number; lockedForMs: number }> {
    const result = await counted(this.counts.fail(check, now));
    this.wake(check);
    return result;
  }

  async succeed(check: Check): Promise<void> {
    await counted(this.counts.succeed(check));
    this.wake(check);
  }

  /** Waits until a check of this process ends, or, with counts shared with other nodes, until it is time to look again. */
  private wait(key: string): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(key) ?? [];
      this.waiters.set(key, waiters);
      const { recheckMs } = this.counts;
      const done = (): void => {
        clearTimeout(timer);
        const at = waiters.indexOf(done);
        if (at >= 0) waiters.splice(at, 1);
        if (waiters.length === 0 && this.waiters.get(key) === waiters) this.waiters.delete(key);
        resolve();
      };
      const timer = recheckMs === undefined ? undefined : setTimeout(done, recheckMs);
      waiters.push(done);
    });
  }

  /** Lets the attempts waiting for this username and address look again, in the order they came. */
  private wake({ username, address }: Check): void {
    this.wakes += 1;
    const key = pairKey(username, address);
    const waiters = this.waiters.get(key);
    if (!waiters) return;
    this.waiters.delete(key);
    for (const done of [...waiters]) done();
  }

  /** Forgets lockouts and failures that no longer count. */
  prune(now: number): Promise<void> {
    return counted(this.counts.prune(now));
  }
}

function counted<T>(step: Promise<T>): Promise<T> {
  return step.catch((err: unknown) => {
    throw new LockoutsUnavailable(err);
  });
}
