import type { PresenceEvent, UserSummary } from '../../protocol';

/**
 * Everyone the signed-in user has heard of (from presence, messages, `whoelse`, `wholast`, `users` and blocks),
 * with whether they are online or blocked and when each was last seen. ChatState owns one (its roster) and says what changed.
 */

export interface Person {
  username: string;
  online: boolean;
  /** Online, but away from every session (protocol 3's idle presence). */
  idle: boolean;
  blocked: boolean;
  /** When they went offline, from a presence event (server time, ms). */
  lastSeenAt?: number;
  /** The smallest `wholast` window (minutes) that listed them while offline. */
  seenWithinMinutes?: number;
}

export class Roster {
  private readonly persons = new Map<string, Person>();

  /** `me`: the signed-in user, never listed; `added`: someone other than me was heard of for the first time. */
  constructor(
    private readonly me: () => string | undefined,
    private readonly now: () => number,
    private readonly added: () => void,
  ) {}

  clear(): void {
    this.persons.clear();
  }

  get(username: string): Person | undefined {
    return this.persons.get(username);
  }

  /** The entry for `username`, created when they are new. */
  person(username: string): Person {
    let person = this.persons.get(username);
    if (!person) {
      person = { username, online: false, idle: false, blocked: false };
      this.persons.set(username, person);
      if (username !== this.me()) this.added();
    }
    return person;
  }

  applyPresence(event: PresenceEvent): void {
    const person = this.person(event.username);
    person.online = event.online;
    person.idle = event.online && event.idle === true;
    if (!event.online) {
      person.lastSeenAt = event.at;
      person.seenWithinMinutes = undefined;
    }
  }

  /** The complete list of who else is online now. */
  setOnline(users: readonly string[]): void {
    const online = new Set(users);
    for (const user of users) this.person(user);
    for (const person of this.persons.values()) {
      const was = person.online;
      person.online = online.has(person.username);
      if (!person.online) person.idle = false;
      // Someone who was online and is no longer went offline just now (as far as we can tell).
      if (was && !person.online) person.lastSeenAt ??= this.now();
    }
  }

  applyWholast(minutes: number, users: readonly string[]): void {
    for (const user of users) {
      if (user === this.me()) continue;
      const person = this.person(user);
      if (person.online) continue;
      if (person.seenWithinMinutes === undefined || minutes < person.seenWithinMinutes) person.seenWithinMinutes = minutes;
    }
  }

  applyUsers(users: readonly UserSummary[]): void {
    for (const user of users) {
      if (user.username === this.me()) continue;
      const person = this.person(user.username);
      person.online = user.online;
      person.idle = user.online && user.idle === true;
      person.blocked = user.blocked;
      if (!user.online) {
        if (user.lastSeen !== null) person.lastSeenAt = user.lastSeen;
        else delete person.lastSeenAt;
        delete person.seenWithinMinutes;
      }
    }
  }

  setBlocked(users: readonly string[]): void {
    const blocked = new Set(users);
    for (const user of users) this.person(user);
    for (const person of this.persons.values()) person.blocked = blocked.has(person.username);
  }

  setBlock(username: string, blocked: boolean): void {
    const person = this.person(username);
    person.blocked = blocked;
    // The server hides presence between blocked users: what we knew is no longer news.
    if (blocked) person.online = person.idle = false;
  }

  /** Everyone known except me: online first (active, then idle, by name), then by how recently they were seen, then by name. */
  list(): Person[] {
    const now = this.now();
    const recency = (p: Person): number => {
      if (p.lastSeenAt !== undefined) return now - p.lastSeenAt;
      if (p.seenWithinMinutes !== undefined) return p.seenWithinMinutes * 60_000;
      return Number.POSITIVE_INFINITY;
    };
    return [...this.persons.values()]
      .filter((p) => p.username !== this.me())
      .sort((a, b) => {
        if (a.online !== b.online) return a.online ? -1 : 1;
        if (a.idle !== b.idle) return a.idle ? 1 : -1;
        if (!a.online) {
          const diff = recency(a) - recency(b);
          if (diff !== 0 && !Number.isNaN(diff)) return diff;
        }
        return a.username.localeCompare(b.username);
      })
      .map((p) => ({ ...p }));
  }

  onlineCount(): number {
    let count = 0;
    for (const p of this.persons.values()) if (p.online && p.username !== this.me()) count++;
    return count;
  }

  usernames(): string[] {
    return [...this.persons.keys()].filter((u) => u !== this.me()).sort();
  }
}

/** The three states of presence the people view shows. */
export type Presence = 'online' | 'idle' | 'offline';

export function presenceOf(person: Pick<Person, 'online' | 'idle'>): Presence {
  return person.online ? (person.idle ? 'idle' : 'online') : 'offline';
}

/** "online", "idle", "last seen 12 min ago", "last seen within 15 min", or "offline". */
export function describeLastSeen(person: Person, now: number): string {
  if (person.online) return presenceOf(person);
  if (person.lastSeenAt !== undefined) {
    const minutes = Math.max(0, Math.floor((now - person.lastSeenAt) / 60_000));
    if (minutes < 1) return 'last seen just now';
    if (minutes < 60) return `last seen ${minutes} min ago`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return `last seen ${hours} h ago`;
    return `last seen ${Math.floor(hours / 24)} days ago`;
  }
  if (person.seenWithinMinutes !== undefined) return `last seen within ${person.seenWithinMinutes} min`;
  return 'offline';
}
