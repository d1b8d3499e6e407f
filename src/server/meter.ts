import type { ErrorCode, MessageKind, RequestName } from '../protocol';

/** Why a connection was refused before it could sign in (see docs/monitoring.md). */
export const REFUSAL_REASONS = ['tcp-per-address', 'tcp-total', 'per-address', 'origin', 'version'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const MESSAGE_KINDS: readonly MessageKind[] = ['direct', 'broadcast', 'channel'];

/**
 * Counts by a key from a small fixed set: a request name, an error code, a message kind, never a name a
 * user chose, so that what metrics.ts exports stays bounded.
 */
export class Tally<K extends string> {
  private readonly counts = new Map<K, number>();

  /** `keys` start at 0, so that they are exported before they first happen. */
  constructor(keys: readonly K[] = []) {
    for (const key of keys) this.counts.set(key, 0);
  }

  add(key: K, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  entries(): IterableIterator<[K, number]> {
    return this.counts.entries();
  }
}

/**
 * What the server counts as it works: plain numbers, one increment on the paths they sit on, read only
 * when metrics are scraped (metrics.ts, loaded only when they are served, so that prom-client stays out of
 * the editor's local server).
 */
export class Meter {
  /** Requests as they arrive, by name; `unknown` for events that are none. */
  readonly requests = new Tally<RequestName | 'unknown'>();
  /** Failure replies, by code. */
  readonly errors = new Tally<ErrorCode>();
  /** New messages stored (a retried send found stored is not counted again). */
  readonly stored = new Tally<MessageKind>(MESSAGE_KINDS);
  /** Messages written to a session, live or replayed: one per session. */
  readonly delivered = new Tally<MessageKind>(MESSAGE_KINDS);
  readonly refused = new Tally<RefusalReason>(REFUSAL_REASONS);
  /** Lockouts begun: a username locked from an address after too many wrong passwords. */
  lockouts = 0;
}
