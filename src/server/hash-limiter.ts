import { Counts } from './counts';

/** What became of a task handed to the limiter. */
export type Limited<T> = { ran: true; value: T } | { ran: false; reason: 'busy' | 'gone' };

interface Waiting {
  address: string;
  wanted: () => boolean;
  start: () => void;
  drop: () => void;
}

/**
 * Bounds password hashing across the server: scrypt at the default cost takes 128 MiB and most of a core
 * per check, so only `concurrency` run at once and at most `queued` wait for their turn. One address may
 * hold at most `perAddress` of those places (running or waiting), so that a flood from one address cannot
 * fill the queue ahead of everyone else. A task whose `wanted` is false when its turn comes (its socket has
 * gone) is dropped without running.
 */
export class HashLimiter {
  private running = 0;
  private readonly queue: Waiting[] = [];
  private readonly byAddress = new Counts();
  /** Hash checks run so far: for tests and metrics. */
  ran = 0;

  constructor(private readonly limits: { concurrency: number; queued: number; perAddress: number }) {}

  async run<T>(address: string, wanted: () => boolean, work: () => Promise<T>): Promise<Limited<T>> {
    if (!wanted()) return { ran: false, reason: 'gone' };
    // Places held by sockets that have gone (sign-in and disconnect at once) are given back before refusing.
    if (this.full(address)) this.dropGone();
    if (this.full(address)) return { ran: false, reason: 'busy' };
    this.byAddress.add(address);
    if (this.running >= this.limits.concurrency) {
      const turn = await new Promise<boolean>((resolve) =>
        this.queue.push({ address, wanted, start: () => resolve(true), drop: () => resolve(false) }),
      );
      if (!turn) return { ran: false, reason: 'gone' };
    } else {
      this.running += 1;
    }
    try {
      this.ran += 1;
      return { ran: true, value: await work() };
    } finally {
      this.running -= 1;
      this.byAddress.release(address);
      this.next();
    }
  }

  /** Hands the free slot to the first waiting task whose socket is still there; the others leave the queue. */
  private next(): void {
    while (this.running < this.limits.concurrency && this.queue.length > 0) {
      const waiting = this.queue.shift()!;
      if (!waiting.wanted()) {
        this.byAddress.release(waiting.address);
        waiting.drop();
        continue;
      }
      this.running += 1;
      waiting.start();
    }
  }

  private full(address: string): boolean {
    if (this.byAddress.of(address) >= this.limits.perAddress) return true;
    return this.running >= this.limits.concurrency && this.queue.length >= this.limits.queued;
  }

  private dropGone(): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const waiting = this.queue[i]!;
      if (waiting.wanted()) continue;
      this.queue.splice(i, 1);
      this.byAddress.release(waiting.address);
      waiting.drop();
    }
  }
}
