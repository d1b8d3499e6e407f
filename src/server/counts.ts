/** How many of something each key holds (connections per address, say); a key at zero is forgotten, so the map stays small. */
export class Counts {
  private readonly counts = new Map<string, number>();

  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Adds one; returns the new count. */
  add(key: string): number {
    const count = this.of(key) + 1;
    this.counts.set(key, count);
    return count;
  }

  release(key: string): void {
    const left = this.of(key) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }
}
