/**
 * The private-chat ticket keys of the cluster's live nodes, as this node knows them (docs/scaling.md "Private chat across
 * nodes"): each node signs with a key of its own, which never leaves its memory, and publishes the public half in
 * `nodes.ticket_key`; a client accepts tickets signed with any of these. This node's own key is always among them.
 */
export class TicketKeys {
  /** Other nodes' keys, by node. */
  private readonly others = new Map<string, string>();
  private readonly listeners: ((keys: string[]) => void)[] = [];

  constructor(
    private readonly node: string,
    private readonly own: string,
  ) {}

  /** This node's key first, then the others' in a stable order. */
  all(): string[] {
    return [this.own, ...[...this.others.keys()].sort().map((node) => this.others.get(node)!)];
  }

  /** Called with the whole set whenever it changes. */
  onChange(listener: (keys: string[]) => void): void {
    this.listeners.push(listener);
  }

  /** A node joined (or joined again) with `key`. */
  set(node: string, key: string): void {
    if (node === this.node || this.others.get(node) === key) return;
    this.others.set(node, key);
    this.changed();
  }

  /** A node left or was taken out: its tickets are no longer accepted. */
  remove(node: string): void {
    if (this.others.delete(node)) this.changed();
  }

  /** Every live node's key as the database lists them (at the start, and after the link to it was lost). */
  replace(live: ReadonlyMap<string, string>): void {
    const before = this.all().join();
    this.others.clear();
    for (const [node, key] of live) if (node !== this.node) this.others.set(node, key);
    if (this.all().join() !== before) this.changed();
  }

  private changed(): void {
    const keys = this.all();
    for (const listener of this.listeners) listener(keys);
  }
}
