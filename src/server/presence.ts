/**
 * Who is signed in, with how many sessions, and when each user was last online.
 * Presence is per user: the first session makes a user online, the last one leaving makes them offline.
 */
export class Presence<Session> {
  private readonly sessions = new Map<string, Set<Session>>();
  private readonly lastSeen = new Map<string, number>();

  constructor(lastSeen: Iterable<[string, number]> = []) {
    for (const [user, at] of lastSeen) this.lastSeen.set(user, at);
  }

  /** Returns true when this is the user's first session (they just came online). */
  add(user: string, session: Session): boolean {
    let set = this.sessions.get(user);
    const first = !set;
    if (!set) this.sessions.set(user, (set = new Set()));
    set.add(session);
    return first;
  }

  /** Returns true when this was the user's last session (they just went offline at `now`). */
  remove(user: string, session: Session, now: number): boolean {
    const set = this.sessions.get(user);
    if (!set?.delete(session)) return false;
    if (set.size > 0) return false;
    this.sessions.delete(user);
    this.lastSeen.set(user, now);
    return true;
  }

  sessionsOf(user: string): ReadonlySet<Session> {
    return this.sessions.get(user) ?? new Set();
  }

  isOnline(user: string): boolean {
    return this.sessions.has(user);
  }

  onlineCount(): number {
    return this.sessions.size;
  }

  online(): string[] {
    return [...this.sessions.keys()];
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
  }
}
