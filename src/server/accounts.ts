import { readFile } from 'node:fs/promises';
import { describeIssues, passwordSchema, usernameSchema } from '../protocol';
import { decoyHash, hashPassword, verifyPassword, type ScryptCost } from './passwords';
import type { Store } from './store/store';

export interface ImportReport {
  added: string[];
  /** Users already in the store: their stored password is kept (the file is an import source, not the truth). */
  existing: string[];
  /** Lines that could not be read, with their line numbers. */
  rejected: { line: number; reason: string }[];
}

/** Parses the original app's `user_pass.txt`: one `username password` per line; blank lines and `#` comments skipped. */
export function parseCredentials(text: string): { entries: { username: string; password: string }[]; rejected: ImportReport['rejected'] } {
  const entries: { username: string; password: string }[] = [];
  const rejected: ImportReport['rejected'] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [username = '', password, ...extra] = line.split(/\s+/);
    const checked = usernameSchema.safeParse(username);
    const refusal = password === undefined ? undefined : passwordProblem(password);
    if (!checked.success) rejected.push({ line: index + 1, reason: `invalid username "${username}"` });
    else if (!password || extra.length) rejected.push({ line: index + 1, reason: 'expected "username password"' });
    else if (refusal) rejected.push({ line: index + 1, reason: refusal });
    else entries.push({ username, password });
  });
  return { entries, rejected };
}

/**
 * Accounts: the only place that hashes or checks passwords, and the server's list of who exists
 * (kept in memory because every message checks its recipient).
 */
export class Accounts {
  private decoy: Promise<string> | undefined;
  private readonly names = new Set<string>();
  private readonly removedListeners: ((username: string) => void | Promise<void>)[] = [];
  private readonly passwordListeners: ((username: string) => void)[] = [];

  private constructor(
    /** Where the accounts live; admin.sock's backups and exports reach the store through it too. */
    readonly store: Store,
    private readonly cost: ScryptCost,
    private readonly clock: () => number,
  ) {}

  static async open(store: Store, cost: ScryptCost, clock: () => number): Promise<Accounts> {
    const accounts = new Accounts(store, cost, clock);
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

  async add(username: string, password: string): Promise<void> {
    if (!usernameSchema.safeParse(username).success) throw new Error(`"${username}" is not a valid username`);
    if (this.names.has(username)) throw new Error(`user "${username}" already exists`);
    assertPassword(password);
    await this.store.putUser(username, await hashPassword(password, this.cost), this.clock());
    this.names.add(username);
  }

  async setPassword(username: string, password: string): Promise<void> {
    const user = await this.store.getUser(username);
    if (!user) throw new Error(`no user "${username}"`);
    assertPassword(password);
    await this.store.putUser(username, await hashPassword(password, this.cost), user.createdAt);
    // Whoever held the old password may hold a token from it too.
    await this.store.deleteSessionTokensOf(username);
    for (const listener of this.passwordListeners) listener(username);
  }

  async remove(username: string): Promise<boolean> {
    const removed = await this.store.removeUser(username);
    this.names.delete(username);
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

  async importFile(path: string): Promise<ImportReport> {
    const { entries, rejected } = parseCredentials(await readFile(path, 'utf8'));
    const report: ImportReport = { added: [], existing: [], rejected };
    for (const { username, password } of entries) {
      if (this.names.has(username)) {
        report.existing.push(username);
      } else {
        await this.add(username, password);
        report.added.push(username);
      }
    }
    return report;
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
