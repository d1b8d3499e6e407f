/**
 * Who is signed in, with how many sessions, and when each user was last online.
 * Presence is per user: the first session makes a user online, the last one leaving makes them offline.
 * In a cluster, a user may also be online on other nodes (`setRemote`): they are online while any node has
 * a session of theirs, and this node holds only its own sessions.
 */
export class Presence<Session> {
  private readonly sessions = new Map<string, Set<Session>>();
  /** Per user, the other nodes where they have sessions, and whether all of those are idle there. */
  private readonly remote = new Map<string, Map<string, boolean>>();
  private readonly lastSeen = new Map<string, number>();

  constructor(lastSeen: Iterable<[string, number]> = []) {
    for (const [user, at] of lastSeen) this.lastSeen.set(user, at);
  }

  /** Returns true when this is the user's first session anywhere (they just came online). */
  add(user: string, session: Session): boolean {
    const first = !this.isOnline(user);
    let set = this.sessions.get(user);
    if (!set) this.sessions.set(user, (set = new Set()));
    set.add(session);
    return first;
  }

  /** Returns true when this was the user's last session anywhere (they just went offline at `now`). */
  remove(user: string, session: Session, now: number): boolean {
    const set = this.sessions.get(user);
    if (!set?.delete(session)) return false;
    if (set.size > 0) return false;
    this.sessions.delete(user);
    return this.wentOffline(user, now);
  }

  /**
   * Another node's state of `user`: online there (idle or not), or gone from it at `at`. Returns the change the
   * user made, if any: came online, or went offline (from their last node).
   */
  setRemote(node: string, user: string, state: { idle: boolean } | undefined, at: number): 'online' | 'offline' | undefined {
    const wasOnline = this.isOnline(user);
    let nodes = this.remote.get(user);
    if (state) {
      if (!nodes) this.remote.set(user, (nodes = new Map()));
      nodes.set(node, state.idle);
      return wasOnline ? undefined : 'online';
    }
    if (!nodes?.delete(node)) return undefined;
    if (nodes.size === 0) this.remote.delete(user);
    return wasOnline && this.wentOffline(user, at) ? 'offline' : undefined;
  }

  /** The users online on `node`, as this node knows them. */
  onNode(node: string): string[] {
    return this.remoteEntries().flatMap(([n, user]) => (n === node ? [user] : []));
  }

  /** Every (node, user) online elsewhere, as this node knows them. */
  remoteEntries(): [string, string][] {
    return [...this.remote].flatMap(([user, nodes]) => [...nodes.keys()].map((node): [string, string] => [node, user]));
  }

  private wentOffline(user: string, at: number): boolean {
    if (this.isOnline(user)) return false;
    this.lastSeen.set(user, Math.max(at, this.lastSeen.get(user) ?? 0));
    return true;
  }

  /** This node's sessions of the user. */
  sessionsOf(user: string): ReadonlySet<Session> {
    return this.sessions.get(user) ?? new Set();
  }

  /** The users with sessions both on this node and on another. */
  onThisAndAnother(): string[] {
    return [...this.sessions.keys()].filter((user) => this.remote.has(user));
  }

  /** Whether every session of the user on other nodes is idle (true when there is none). */
  idleElsewhere(user: string): boolean {
    for (const idle of this.remote.get(user)?.values() ?? []) if (!idle) return false;
    return true;
  }

  isOnline(user: string): boolean {
    return this.sessions.has(user) || this.remote.has(user);
  }

  onlineCount(): number {
    let count = this.sessions.size;
    for (const user of this.remote.keys()) if (!this.sessions.has(user)) count++;
    return count;
  }

  online(): string[] {
    return [...new Set([...this.sessions.keys(), ...this.remote.keys()])];
  }

  /** Users online now or within the last `windowMs` (the original's wholast). */
  seenWithin(windowMs: number, now: number): string[] {
    const recent = [...this.lastSeen].filter(([user, at]) => now - at <= windowMs && !this.isOnline(user));
    return [...this.online(), ...recent.map(([user]) => user)];
  }

  lastSeenOf(user: string): number | null {
    return this.lastSeen.get(user) ?? null;
  }

  forget(user: string): void {
    this.lastSeen.delete(user);
    this.remote.delete(user);
  }
}
