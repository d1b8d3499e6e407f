import type { Acknowledgement, Store } from './store/store';

interface Waiting {
  ack: Acknowledgement;
  resolve(count: number): void;
  reject(error: unknown): void;
}

/**
 * Gathers the `received` requests of one turn of the event loop into one store call. Every client
 * acknowledges what it was sent within ACK_DELAY_MS, so a broadcast to thousands comes back as
 * thousands of requests; one call each would cost a promise, a message to the store's thread and a
 * write of its own there. The store applies them in the order they came.
 */
export class AcknowledgementBatcher {
  private waiting: Waiting[] = [];
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly store: Store) {}

  /** Resolves with how many of `ids` were pending for `recipient`, once that is stored. */
  add(recipient: string, ids: number[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ ack: { recipient, ids }, resolve, reject });
      this.immediate ??= setImmediate(() => this.flush());
    });
  }

  /** Hands what has gathered to the store now (before it closes). */
  flush(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    this.store.markDelivered(batch.map((w) => w.ack)).then(
      (counts) => batch.forEach((w, i) => w.resolve(counts[i] ?? 0)),
      (error: unknown) => batch.forEach((w) => w.reject(error)),
    );
  }
}
