import type { Acknowledgement, Store } from './store/store';

/** Told how an acknowledgement went, once its batch has been stored (or has failed). */
export interface AcknowledgementOutcome {
  /** `count` of its ids were pending for the recipient, and now are not. */
  stored(count: number): void;
  failed(error: unknown): void;
}

interface Waiting {
  ack: Acknowledgement;
  outcome: AcknowledgementOutcome;
}

/**
 * Gathers the `received` requests of one turn of the event loop into one store call. Every client
 * acknowledges what it was sent within ACK_DELAY_MS, so a broadcast to thousands comes back as
 * thousands of requests; one call each would cost a promise, a message to the store's thread and a
 * write of its own there. The store applies them in the order they came. Each is told how it went
 * through an outcome rather than a promise of its own: nothing per request waits on the commit.
 */
export class AcknowledgementBatcher {
  private waiting: Waiting[] = [];
  private immediate: NodeJS.Immediate | undefined;

  /** `onError` hears of each batch that could not be stored, once (its requests are each told too). */
  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown, acknowledgements: number) => void = () => {},
  ) {}

  add(recipient: string, ids: number[], outcome: AcknowledgementOutcome): void {
    this.waiting.push({ ack: { recipient, ids }, outcome });
    this.immediate ??= setImmediate(() => this.flush());
  }

  /** Hands what has gathered to the store now (before it closes). */
  flush(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    this.store.markDelivered(batch.map((w) => w.ack)).then(
      (counts) => batch.forEach((w, i) => w.outcome.stored(counts[i] ?? 0)),
      (error: unknown) => {
        this.onError(error, batch.length);
        for (const w of batch) w.outcome.failed(error);
      },
    );
  }
}
