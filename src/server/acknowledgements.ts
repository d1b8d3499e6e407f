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
  /** Batches of it that failed so far. */
  failures: number;
}

/**
 * Waits before each new try of acknowledgements whose batch failed (the database out of reach a moment): about a
 * minute in all. Left pending, delivered messages would come again at the next sign-in and fill their sender's
 * queue to the recipient (--max-pending-per-sender) meanwhile. A try again is harmless: rows already moved count 0.
 */
const RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

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
  /** Acknowledgements of failed batches, to be tried again when `retry` fires. */
  private failed: Waiting[] = [];
  private retry: NodeJS.Timeout | undefined;
  private closing = false;

  /** `onError` hears of each batch whose acknowledgements could not be stored, tries again included (the requests are told once). */
  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown, acknowledgements: number) => void = () => {},
  ) {}

  add(recipient: string, ids: number[], outcome: AcknowledgementOutcome): void {
    this.waiting.push({ ack: { recipient, ids }, outcome, failures: 0 });
    this.immediate ??= setImmediate(() => this.send(this.take()));
  }

  /** Hands everything to the store at once, failed batches' included, for the last time: the store is closing. */
  close(): void {
    this.closing = true;
    if (this.retry) clearTimeout(this.retry);
    this.send([...this.failed.splice(0), ...this.take()]);
  }

  /** What gathered this turn. */
  private take(): Waiting[] {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    return this.waiting.splice(0);
  }

  private send(batch: Waiting[]): void {
    if (batch.length === 0) return;
    this.store.markDelivered(batch.map((w) => w.ack)).then(
      (counts) => batch.forEach((w, i) => w.outcome.stored(counts[i] ?? 0)),
      (error: unknown) => {
        this.onError(error, batch.length);
        for (const w of batch) {
          if (!this.closing && w.failures < RETRY_DELAYS_MS.length) this.failed.push({ ...w, failures: w.failures + 1 });
          else w.outcome.failed(error);
        }
        this.retryLater();
      },
    );
  }

  /** Tries the failed ones again after the wait their failures call for (the first's: they failed at about the same time). */
  private retryLater(): void {
    const first = this.failed[0];
    if (!first || this.retry) return;
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        this.send(this.failed.splice(0));
      },
      RETRY_DELAYS_MS[first.failures - 1],
    ).unref();
  }
}
