/** Who blocked whom, kept in memory for the hot paths (every delivery checks it) and mirrored in the store. */
export class Blocks {
  private readonly byBlocker = new Map<string, Set<string>>();
  private readonly byBlocked = new Map<string, Set<string>>();

  constructor(pairs: Iterable<{ blocker: string; blocked: string }> = []) {
    for (const { blocker, blocked } of pairs) this.add(blocker, blocked);
  }

  add(blocker: string, blocked: string): void {
    addTo(this.byBlocker, blocker, blocked);
    addTo(this.byBlocked, blocked, blocker);
  }

  remove(blocker: string, blocked: string): boolean {
    this.byBlocked.get(blocked)?.delete(blocker);
    return this.byBlocker.get(blocker)?.delete(blocked) ?? false;
  }

  has(blocker: string, blocked: string): boolean {
    return this.byBlocker.get(blocker)?.has(blocked) ?? false;
  }

  /** True when either user blocked the other: then neither sees the other's presence. */
  between(a: string, b: string): boolean {
    return this.has(a, b) || this.has(b, a);
  }

  /** Everyone `user` blocked or was blocked by. */
  relatedTo(user: string): Set<string> {
    return new Set([...(this.byBlocker.get(user) ?? []), ...(this.byBlocked.get(user) ?? [])]);
  }

  blockedBy(blocker: string): string[] {
    return [...(this.byBlocker.get(blocker) ?? [])].sort();
  }

  /** Every (blocker, blocked) pair. */
  pairs(): { blocker: string; blocked: string }[] {
    return [...this.byBlocker].flatMap(([blocker, set]) => [...set].map((blocked) => ({ blocker, blocked })));
  }

  forget(username: string): void {
    for (const index of [this.byBlocker, this.byBlocked]) {
      index.delete(username);
      for (const set of index.values()) set.delete(username);
    }
  }
}

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}
