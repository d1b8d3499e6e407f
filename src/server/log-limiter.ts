import type { Clock } from './clock';
import { KeyedRate } from './keyed-rate';
import type { Logger } from './log';
import { pairKey } from './pair-key';

/**
 * Warnings that an attacker can cause at will (a wrong password, a refused token) are written for each
 * address `burst` times and then once a minute; the lines held back are counted and told in one line per
 * warning when `flush` runs, so that a flood cannot fill the disk through the log.
 */
export class LogLimiter {
  private readonly rate: KeyedRate;
  /** Held-back lines per warning: how many, and from how many addresses. */
  private readonly held = new Map<string, { lines: number; addresses: Set<string> }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    rate = { burst: 20, perSecond: 1 / 60 },
  ) {
    this.rate = new KeyedRate(rate);
  }

  warn(message: string, address: string, fields: Record<string, unknown>): void {
    if (this.rate.take(pairKey(message, address), this.clock())) return this.log.warn(message, { ...fields, address });
    let held = this.held.get(message);
    if (!held) this.held.set(message, (held = { lines: 0, addresses: new Set() }));
    held.lines += 1;
    if (held.addresses.size < 1000) held.addresses.add(address);
  }

  /** Tells what was held back since the last flush, and forgets addresses that have been quiet. */
  flush(now: number): void {
    for (const [message, held] of this.held) {
      this.log.warn(`${message}: more lines held back`, { lines: held.lines, addresses: held.addresses.size });
    }
    this.held.clear();
    this.rate.prune(now);
  }
}
