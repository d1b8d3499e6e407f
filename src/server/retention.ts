import type { Clock } from './clock';
import type { Logger } from './log';
import type { Store } from './store/store';
import { errorDetail } from '../protocol/errors';

/** How often the sweep runs after the one at start: messages outlive their time by at most this. */
export const RETENTION_SWEEP_MS = 60 * 60_000;

/**
 * Messages one step deletes: a step is one write, committed with whatever else is queued, so a long sweep (the first one
 * on years of messages) holds sends up for one step at a time, never for the whole of it.
 */
const STEP_MESSAGES = 500;

const DAY_MS = 24 * 60 * 60_000;

/**
 * A day at least: a message's clientMsgId is deleted with it, and a retried send must still find it (docs/protocol.md 6.5:
 * the reference client gives up on a send within minutes).
 */
export const MIN_RETAIN_DAYS = 1;

/** Throws unless `days` is a retention this server accepts. */
export function checkRetainDays(days: number): void {
  if (!(days >= MIN_RETAIN_DAYS)) throw new Error(`retainDays must be ${MIN_RETAIN_DAYS} at least, not ${days}`);
}

/**
 * `--retain-days N`: deletes the messages (direct, broadcast, channel) stored more than N days ago, at start and every
 * RETENTION_SWEEP_MS; see docs/operations.md for what goes and what stays.
 */
export class Retention {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly days: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    checkRetainDays(days);
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), RETENTION_SWEEP_MS);
    this.timer.unref();
  }

  /** Runs a sweep, or joins the one running; resolves with how many messages it deleted (0 after a failure, which is logged). */
  sweep(): Promise<number> {
    return (this.running ??= this.run().finally(() => (this.running = undefined)));
  }

  /** Stops sweeping; resolves once the step in progress is committed, so that the store can close. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async run(): Promise<number> {
    const cutoff = this.clock() - this.days * DAY_MS;
    let deleted = 0;
    try {
      let after: number | undefined = 0;
      while (after !== undefined && !this.stopped) {
        const step = await this.store.expireMessages(cutoff, { after, limit: STEP_MESSAGES });
        deleted += step.found;
        after = step.last;
      }
      if (deleted > 0) this.log.info('retention: deleted old messages', { deleted, olderThan: new Date(cutoff).toISOString() });
    } catch (err) {
      this.log.error('retention: the sweep failed; the next one tries again', { deleted, err: errorDetail(err) });
    }
    return deleted;
  }
}
