import { setTimeout as delay } from 'node:timers/promises';
import { describeIssues, passwordSchema, usernameSchema } from '../protocol';
import { HashLimiter, hashLimitsOf } from './hash-limiter';
import { DEFAULT_SIGN_IN_LIMITS } from './options';
import { decoyHash, hashPassword, verifyPassword, type ScryptCost } from './passwords';
import type { Store } from './store/store';

export type AccountChange = 'added' | 'removed' | 'password';

export interface ImportReport {
  added: string[];
  /** Users already in the store: their stored password is kept (the file is an import source, not the truth). */
  existing: string[];
  /** Lines that could not be read, with their line numbers. */
  rejected: { line: number; reason: string }[];
}

export interface ImportOptions {
  /** Told every IMPORT_PROGRESS_EVERY users added, and at the end of an import that long. */
  progress?: (done: number, total: number) => void;
  /** False once nobody waits for the import any more: it stops before the next password. */
  wanted?: () => boolean;
}

/** A long import says how far it is this often (in users), so that an operator does not wait on silence. */
export const IMPORT_PROGRESS_EVERY = 25;

export function importProgressLine(done: number, total: number): string {
  return `imported ${done}/${total} users`;
}

/** The key under which imports take their turns at hashing, among the sign-ins' addresses: no address looks so. */
const IMPORT_TURNS = 'credentials import';
/** How long an import waits before asking again when the hashing queue is full of sign-ins. */
const IMPORT_RETRY_MS = 100;

/**
 * Parses the original app's `user_pass.txt`: one `username password` per line; blank lines and `#` comments
 * skipped. A line that cannot be an account is rejected with its number, and so is a username's second line
 * (which of its passwords was meant cannot be told), so that the rest of the file is still imported.
 */
export function parseCredentials(text: string): { entries: { username: string; password: string }[]; rejected: ImportReport['rejected'] } {
  const entries: { username: string; password: string }[] = [];
  const rejected: ImportReport['rejected'] = [];
  const lineOf = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (!content || content.startsWith('#')) return;
    const [username = '', password, ...extra] = content.split(/\s+/);
    const refusal = password === undefined ? undefined : passwordProblem(password);
    const earlier = lineOf.get(username);
    if (!usernameSchema.safeParse(username).success) rejected.push({ line, reason: `invalid username "${username}"` });
    else if (!password || extra.length) rejected.push({ line, reason: 'expected "username password"' });
    else if (refusal) rejected.push({ line, reason: refusal });
    else if (earlier !== undefined) rejected.push({ line, reason: `"${username}" is already on line ${earlier}` });
    else {
      lineOf.set(username, line);
      entries.push({ username, password });
    }
  });
  return { entries, rejected };
}

/**
 * Accounts: the only place that hashes or checks passwords, and the server's list of who exists
 * (kept in memory because every message checks its recipient). `hashes` is the server's bound on
 * concurrent hashing, shared with the sign-ins' password checks.
 */
export class Accounts {
  private decoy: Promise<string> | undefined;
  private readonly names = new Set<string>();
  private readonly removedListeners: ((username: string) => void | Promise<void>)[] = [];
  private readonly passwordListeners: ((username: string) => void)[] = [];
  private readonly changeListeners: ((username: string, change: AccountChange) => void)[] = [];
  /** Names being stored now, so that two adds of one name cannot both pass the check while their passwords hash. */
  private readonly adding = new Set<string>();

  private constructor(
    /** Where the accounts live; admin.sock's backups and exports reach the store through it too. */
    readonly store: Store,
    private readonly cost: ScryptCost,
    private readonly clock: () => number,
    private readonly hashes: HashLimiter,
  ) {}

  static async open(
    store: Store,
    cost: ScryptCost,
    clock: () => number,
    hashes = new HashLimiter(hashLimitsOf(DEFAULT_SIGN_IN_LIMITS)),
  ): Promise<Accounts> {
    const accounts = new Accounts(store, cost, clock, hashes);
    for (const user of await store.listUsers()) accounts.names.add(user.username);
    return accounts;
  }

  has(username: string): boolean {
    return this.names.has(username);
  }

  usernames(): string[] {
    return [...this.names].sort();
  }

  /** Called after a user is removed, so that their sessions end and they leave presence. */
  onRemoved(listener: (username: string) => void | Promise<void>): void {
    this.removedListeners.push(listener);
  }

  /** Called after a user's password changed, so that the sessions signed in with the old one end. */
  onPasswordChanged(listener: (username: string) => void): void {
    this.passwordListeners.push(listener);
  }

  /** Called after each change made through this object (not those applied from elsewhere): a cluster tells its other nodes. */
  onChanged(listener: (username: string, change: AccountChange) => void): void {
    this.changeListeners.push(listener);
  }

  /** A change another node made (cluster mode): the store has it; this node's list and sessions follow. */
  async applyRemote(username: string, change: AccountChange): Promise<void> {
    if (change === 'added') this.names.add(username);
    else if (change === 'password') for (const listener of this.passwordListeners) listener(username);
    else if (this.names.delete(username)) for (const listener of this.removedListeners) await listener(username);
  }

  /** Reads the accounts again (after this node lost the other nodes' news) and applies what changed. */
  async reload(): Promise<void> {
    const stored = new Set((await this.store.listUsers()).map((u) => u.username));
    for (const name of stored) if (!this.names.has(name)) await this.applyRemote(name, 'added');
    for (const name of [...this.names]) if (!stored.has(name)) await this.applyRemote(name, 'removed');
  }

  private changed(username: string, change: AccountChange): void {
    for (const listener of this.changeListeners) listener(username, change);
  }

  async add(username: string, password: string): Promise<void> {
    if (!usernameSchema.safeParse(username).success) throw new Error(`"${username}" is not a valid username`);
    if (this.names.has(username)) throw new Error(`user "${username}" already exists`);
    assertPassword(password);
    if (!(await this.insert(username, await hashPassword(password, this.cost)))) throw new Error(`user "${username}" already exists`);
  }

  /** Stores a new account; false when its name was taken while its password was being hashed. */
  private async insert(username: string, passwordHash: string): Promise<boolean> {
    if (this.names.has(username) || this.adding.has(username)) return false;
    this.adding.add(username);
    try {
      await this.store.putUser(username, passwordHash, this.clock());
      this.names.add(username);
      this.changed(username, 'added');
      return true;
    } finally {
      this.adding.delete(username);
    }
  }

  async setPassword(username: string, password: string): Promise<void> {
    const user = await this.store.getUser(username);
    if (!user) throw new Error(`no user "${username}"`);
    assertPassword(password);
    await this.store.putUser(username, await hashPassword(password, this.cost), user.createdAt);
    // Whoever held the old password may hold a token from it too.
    await this.store.deleteSessionTokensOf(username);
    this.changed(username, 'password');
    for (const listener of this.passwordListeners) listener(username);
  }

  async remove(username: string): Promise<boolean> {
    const removed = await this.store.removeUser(username);
    this.names.delete(username);
    if (removed) this.changed(username, 'removed');
    if (removed) for (const listener of this.removedListeners) await listener(username);
    return removed;
  }

  async list(): Promise<{ username: string; createdAt: number; lastSeen: number | null }[]> {
    const users = await this.store.listUsers();
    return users.map(({ username, createdAt, lastSeen }) => ({ username, createdAt, lastSeen }));
  }

  /** Checks a password; an unknown user costs one hash too, so that timing does not tell who exists. */
  async verify(username: string, password: string): Promise<boolean> {
    const user = await this.store.getUser(username);
    if (!user) {
      this.decoy ??= decoyHash(this.cost);
      await verifyPassword(password, await this.decoy);
      return false;
    }
    return verifyPassword(password, user.passwordHash);
  }

  /**
   * Adds the users of a credentials file who do not exist yet, leaving the others as they are. Passwords
   * are hashed on as many cores as the server's bound allows, in turns shared with sign-ins, so that the
   * users signing in meanwhile wait for one hash at most, not for the whole import.
   */
  async importCredentials(text: string, options: ImportOptions = {}): Promise<ImportReport> {
    const { entries, rejected } = parseCredentials(text);
    const report: ImportReport = { added: [], existing: [], rejected };
    const fresh: typeof entries = [];
    for (const entry of entries) {
      if (this.names.has(entry.username)) report.existing.push(entry.username);
      else fresh.push(entry);
    }
    const wanted = options.wanted ?? (() => true);
    let next = 0;
    let done = 0;
    let failed = false;
    const importer = async (): Promise<void> => {
      try {
        while (!failed && next < fresh.length && wanted()) {
          const { username, password } = fresh[next++]!;
          const passwordHash = await this.hashInTurn(password, wanted);
          if (passwordHash === undefined) return;
          if (await this.insert(username, passwordHash)) report.added.push(username);
          else report.existing.push(username); // added meanwhile, by `users add`
          done += 1;
          if (done % IMPORT_PROGRESS_EVERY === 0 || (done === fresh.length && done > IMPORT_PROGRESS_EVERY))
            options.progress?.(done, fresh.length);
        }
      } catch (err) {
        failed = true;
        throw err;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.hashes.concurrency, fresh.length) }, importer));
    return report;
  }

  /** A hash made in one of the server's hashing turns; undefined when it is no longer wanted. */
  private async hashInTurn(password: string, wanted: () => boolean): Promise<string | undefined> {
    for (;;) {
      const turn = await this.hashes.run(IMPORT_TURNS, wanted, () => hashPassword(password, this.cost));
      if (turn.ran) return turn.value;
      if (turn.reason === 'gone') return undefined;
      await delay(IMPORT_RETRY_MS); // the queue is full of sign-ins: they go first
    }
  }
}

/** Why a password breaks the sign-in rule (passwordSchema), in its words; undefined when it is fine. */
export function passwordProblem(password: string): string | undefined {
  const checked = passwordSchema.safeParse(password);
  return checked.success ? undefined : describeIssues(checked.error);
}

function assertPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new Error(problem);
}
