import { Counts } from './counts';
import type { SignInLimits } from './options';

/** What became of a task handed to the limiter. */
export type Limited<T> = { ran: true; value: T } | { ran: false; reason: 'busy' | 'gone' };

export interface HashLimits {
  concurrency: number;
  queued: number;
  perAddress: number;
  /** How long a task may wait for its turn before it is refused as busy (so that it is answered before the client gives up). */
  maxWaitMs: number;
}

export function hashLimitsOf(limits: SignInLimits): HashLimits {
  return {
    concurrency: limits.concurrentChecks,
    queued: limits.queuedChecks,
    perAddress: limits.checksPerAddress,
    maxWaitMs: limits.checkWaitMs,
  };
}

interface Waiting {
  address: string;
  wanted: () => boolean;
  start: () => void;
  drop: (reason: 'busy' | 'gone') => void;
}

/**
 * Bounds password hashing across the server: scrypt at the default cost takes 128 MiB and most of a core
 * per check, so only `concurrency` run at once and at most `queued` wait for their turn. One address may
 * hold at most `perAddress` of those places (running or waiting), and the free slots go round the
 * addresses that wait, so that a flood from some addresses cannot keep everyone else's turn away; tasks
 * marked `first` (a user who signed in from that address before) go ahead of the rest. A task whose
 * `wanted` is false when its turn comes (its socket has gone) is dropped without running; one that waited
 * `maxWaitMs` is refused as busy.
 */
export class HashLimiter {
  private running = 0;
  private waitingCount = 0;
  /** Waiting tasks by lane, then by address; a Map keeps the addresses in the order their turn comes. */
  private readonly lanes = { first: new Map<string, Waiting[]>(), rest: new Map<string, Waiting[]>() };
  private readonly byAddress = new Counts();
  /** Hash checks run so far: for tests and metrics. */
  ran = 0;

  constructor(private readonly limits: HashLimits) {}

  /** How many tasks may run at once. */
  get concurrency(): number {
    return this.limits.concurrency;
  }

  async run<T>(address: string, wanted: () => boolean, work: () => Promise<T>, first = false): Promise<Limited<T>> {
    if (!wanted()) return { ran: false, reason: 'gone' };
    // Places held by sockets that have gone (sign-in and disconnect at once) are given back before refusing.
    if (this.full(address)) this.dropGone();
    if (this.full(address)) return { ran: false, reason: 'busy' };
    this.byAddress.add(address);
    if (this.running >= this.limits.concurrency) {
      const turn = await this.wait(address, wanted, first);
      if (turn !== 'started') return { ran: false, reason: turn };
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

  private wait(address: string, wanted: () => boolean, first: boolean): Promise<'started' | 'busy' | 'gone'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.remove(waiting)) waiting.drop('busy');
      }, this.limits.maxWaitMs);
      timer.unref?.();
      const waiting: Waiting = {
        address,
        wanted,
        start: () => {
          clearTimeout(timer);
          resolve('started');
        },
        drop: (reason) => {
          clearTimeout(timer);
          this.byAddress.release(address);
          resolve(reason);
        },
      };
      const lane = first ? this.lanes.first : this.lanes.rest;
      const queue = lane.get(address);
      if (queue) queue.push(waiting);
      else lane.set(address, [waiting]);
      this.waitingCount += 1;
    });
  }

  /** Hands the free slots to waiting tasks whose sockets are still there, round the addresses; the others leave. */
  private next(): void {
    while (this.running < this.limits.concurrency) {
      const waiting = this.shift();
      if (!waiting) return;
      if (!waiting.wanted()) {
        waiting.drop('gone');
        continue;
      }
      this.running += 1;
      waiting.start();
    }
  }

  /** The first task of the first address in the first lane that has one; that address goes to the back of its lane. */
  private shift(): Waiting | undefined {
    for (const lane of [this.lanes.first, this.lanes.rest]) {
      const entry = lane.entries().next();
      if (entry.done) continue;
      const [address, queue] = entry.value;
      const waiting = queue.shift()!;
      lane.delete(address);
      if (queue.length > 0) lane.set(address, queue);
      this.waitingCount -= 1;
      return waiting;
    }
    return undefined;
  }

  private remove(waiting: Waiting): boolean {
    for (const lane of [this.lanes.first, this.lanes.rest]) {
      const queue = lane.get(waiting.address);
      const at = queue?.indexOf(waiting) ?? -1;
      if (at < 0) continue;
      queue!.splice(at, 1);
      if (queue!.length === 0) lane.delete(waiting.address);
      this.waitingCount -= 1;
      return true;
    }
    return false;
  }

  private full(address: string): boolean {
    if (this.byAddress.of(address) >= this.limits.perAddress) return true;
    return this.running >= this.limits.concurrency && this.waitingCount >= this.limits.queued;
  }

  private dropGone(): void {
    for (const lane of [this.lanes.first, this.lanes.rest]) {
      for (const queue of lane.values()) {
        for (const waiting of queue.filter((w) => !w.wanted())) {
          this.remove(waiting);
          waiting.drop('gone');
        }
      }
    }
  }
}
