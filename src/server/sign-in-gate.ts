import { failure, type Failure } from '../protocol';
import { errorDetail } from '../protocol/errors';
import type { Accounts } from './accounts';
import type { Clock } from './clock';
import type { HashLimiter } from './hash-limiter';
import { KeyedRate } from './keyed-rate';
import { LogLimiter } from './log-limiter';
import type { Logger } from './log';
import { MemoryLockouts, type LockoutCountsFactory } from './lockout-counts';
import { pairKey } from './pair-key';
import { LockoutsUnavailable, LoginThrottle } from './login-throttle';
import type { Meter } from './meter';
import type { SignInLimits, Timings } from './options';

/**
 * Everything a `login` goes through before its password is accepted, cheapest first: the lockout, the
 * address's rate of attempts and of wrong passwords, the wait for earlier checks of the same username and
 * address, and a place among the server's few password checks. A socket that has gone by then costs no hash.
 */
export class SignInGate {
  private readonly throttle: LoginThrottle;
  private readonly attempts: KeyedRate;
  private readonly tokenAttempts: KeyedRate;
  private readonly failures: KeyedRate;
  private readonly warnings: LogLimiter;
  /** Whose password checks go first when the server is busy: nobody flooding from elsewhere can be among them. */
  private readonly signedInBefore = new RecentPairs(KNOWN_PAIRS, KNOWN_FOR_MS);

  constructor(
    private readonly deps: { accounts: Accounts; clock: Clock; log: Logger; meter: Meter; hashes: HashLimiter },
    timings: Pick<Timings, 'maxLoginFailures' | 'blockMs'>,
    limits: SignInLimits,
    lockouts: LockoutCountsFactory = (rules) => new MemoryLockouts(rules),
  ) {
    const counts = lockouts({ maxFailures: timings.maxLoginFailures, blockMs: timings.blockMs });
    this.throttle = new LoginThrottle(counts, limits.waitingPerUser);
    this.attempts = new KeyedRate(limits);
    this.tokenAttempts = new KeyedRate({ burst: limits.tokenBurst, perSecond: limits.tokenPerSecond });
    this.warnings = new LogLimiter(deps.log, deps.clock);
    this.failures = new KeyedRate({ burst: limits.failureBurst, perSecond: 1 / limits.failureEverySeconds });
  }

  /** Takes one of the address's sign-in attempts, from the password bucket or the session tokens' one. */
  checkRate(address: string, kind: 'password' | 'token' = 'password'): Failure | undefined {
    if ((kind === 'token' ? this.tokenAttempts : this.attempts).take(address, this.deps.clock())) return undefined;
    return failure('RATE_LIMITED', 'Too many sign-in attempts from your address; wait a moment and try again.');
  }

  /**
   * Checks a sign-in; resolves with its refusal, or nothing when the password is right. When the lockout counts
   * cannot be reached, nobody signs in: a password checked without them could be one guess too many.
   */
  async check(username: string, password: string, address: string, wanted: () => boolean): Promise<Failure | undefined> {
    try {
      return await this.checkCounted(username, password, address, wanted);
    } catch (err) {
      if (!(err instanceof LockoutsUnavailable)) throw err;
      this.warnings.warn('sign-in refused: the lockout counts are unavailable', address, { username, err: errorDetail(err) });
      return failure('INTERNAL', 'Sign-in is unavailable for now: the server cannot reach its database. Try again in a moment.');
    }
  }

  private async checkCounted(username: string, password: string, address: string, wanted: () => boolean): Promise<Failure | undefined> {
    const { throttle, deps } = this;
    const lockedForMs = await throttle.lockedFor(username, address, deps.clock());
    if (lockedForMs > 0) return lockedOut(lockedForMs, 'This account is locked from your address for now.');
    const limited = this.checkRate(address);
    if (limited) return limited;
    if (!this.failures.peek(address, deps.clock())) {
      return failure('RATE_LIMITED', 'Too many wrong passwords from your address; wait a minute and try again.');
    }

    const reservation = await throttle.reserve(username, address, deps.clock, wanted);
    if (reservation === 'gone') return closedDuringSignIn();
    if (reservation === 'busy')
      return failure('RATE_LIMITED', 'Other sign-in attempts for this user are still being checked; try again in a moment.');
    if ('lockedForMs' in reservation) return lockedOut(reservation.lockedForMs, 'This account is locked from your address for now.');
    const { check } = reservation;

    let checked;
    try {
      const known = this.signedInBefore.has(username, address, deps.clock());
      checked = await deps.hashes.run(address, wanted, () => deps.accounts.verify(username, password), known);
    } catch (err) {
      await throttle.fail(check, deps.clock());
      throw err;
    }
    if (!checked.ran) {
      await throttle.cancel(check, deps.clock());
      if (checked.reason === 'gone') return closedDuringSignIn();
      return failure('RATE_LIMITED', 'The server is busy checking other sign-ins; try again in a moment.');
    }
    if (!checked.value) {
      this.failures.take(address, deps.clock());
      const { attemptsLeft, lockedForMs } = await throttle.fail(check, deps.clock());
      this.warnings.warn('failed login', address, { username, attemptsLeft });
      if (lockedForMs > 0) {
        deps.meter.lockouts++;
        return lockedOut(lockedForMs, 'Invalid username or password. This account is now locked from your address.');
      }
      return failure('INVALID_CREDENTIALS', `Invalid username or password. ${attemptsLeft} attempt${attemptsLeft === 1 ? '' : 's'} left.`);
    }
    await throttle.succeed(check);
    this.signedInBefore.add(username, address, deps.clock());
    return undefined;
  }

  /** Forgets lockouts and address rates that no longer count. */
  prune(now: number): void {
    this.throttle
      .prune(now)
      .catch((err: unknown) => this.deps.log.warn('the lockout counts could not be pruned', { err: errorDetail(err) }));
    this.attempts.prune(now);
    this.tokenAttempts.prune(now);
    this.failures.prune(now);
    this.signedInBefore.prune(now);
    this.warnings.flush(now);
  }

  /** Logs a session token that was refused, as a wrong password is: limited per address. */
  refusedToken(username: string | undefined, address: string): void {
    this.warnings.warn('refused session token', address, { username });
  }
}

/** How many (username, address) pairs that signed in are remembered, and for how long. */
const KNOWN_PAIRS = 10_000;
const KNOWN_FOR_MS = 30 * 24 * 60 * 60_000;

/** (username, address) pairs seen lately, the oldest forgotten first when there are too many. */
class RecentPairs {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly forMs: number,
  ) {}

  add(username: string, address: string, now: number): void {
    const key = pairKey(username, address);
    this.seen.delete(key); // to the end: the most recent
    this.seen.set(key, now);
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
  }

  has(username: string, address: string, now: number): boolean {
    const at = this.seen.get(pairKey(username, address));
    return at !== undefined && now - at < this.forMs;
  }

  prune(now: number): void {
    for (const [key, at] of this.seen) {
      if (now - at < this.forMs) return; // oldest first: the rest are newer
      this.seen.delete(key);
    }
  }
}

export function closedDuringSignIn(): Failure {
  return failure('INTERNAL', 'The connection closed during sign-in.');
}

function lockedOut(ms: number, message: string): Failure {
  const seconds = Math.ceil(ms / 1000);
  return failure('LOCKED_OUT', `${message} Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, {
    retryAfterSeconds: seconds,
  });
}
