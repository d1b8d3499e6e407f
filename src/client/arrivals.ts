import { LIMITS, type ChatMessage } from '../protocol';

/**
 * How long arrivals are gathered into one `received`: a burst of messages costs the server one
 * request and one write, not one per message. Acknowledgements only spare a later sign-in the
 * replay: a client flushes them when it closes, and one that crashes sees at most this much again.
 */
export const ACK_DELAY_MS = 200;

/** How many message ids a client remembers for dedupe: far more than one replay can hold. */
const SEEN_IDS_KEPT = 50_000;

/** Message ids split into `received` payloads the server accepts (at most LIMITS.receivedIdsMax each). */
export function acknowledgementBatches(ids: readonly number[]): number[][] {
  const batches: number[][] = [];
  for (let i = 0; i < ids.length; i += LIMITS.receivedIdsMax) batches.push(ids.slice(i, i + LIMITS.receivedIdsMax));
  return batches;
}

/**
 * The messages a client receives, each shown once (the server may send one again until it hears that it arrived),
 * and their acknowledgements, sent in one `received` per burst.
 */
export class Arrivals {
  /** Ids already shown. */
  private readonly seen = new Set<number>();
  private toAcknowledge: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  /**
   * `canSend`: whether acknowledgements may go now. Not while signed out: socket.io would buffer the request and
   * send it ahead of the next `login`, to be refused; they go after it. `send` emits one `received` payload.
   */
  constructor(
    private readonly canSend: () => boolean,
    private readonly send: (ids: number[]) => void,
  ) {}

  get hasUnacknowledged(): boolean {
    return this.toAcknowledge.length > 0;
  }

  /** Whether `message` is new; one from someone other than `me` is acknowledged either way. */
  arrived(message: ChatMessage, me: string | undefined): boolean {
    // A channel message is never pending: the member's read position, not an acknowledgement, says where they are.
    if (message.from !== me && message.kind !== 'channel') {
      this.toAcknowledge.push(message.id);
      this.timer ??= setTimeout(() => this.flush(), ACK_DELAY_MS);
    }
    if (this.seen.has(message.id)) return false;
    this.seen.add(message.id);
    // A Set iterates in insertion order: forget the oldest ids, which the server no longer replays.
    if (this.seen.size > SEEN_IDS_KEPT) this.seen.delete(this.seen.values().next().value!);
    return true;
  }

  /** Tells the server which messages arrived, if it may be told now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.canSend()) return;
    const ids = this.toAcknowledge.splice(0);
    // No ack callback, so no reply to write and read: one that fails leaves the messages pending, to come
    // again at the next sign-in, where `seen` drops them.
    for (const batch of acknowledgementBatches(ids)) this.send(batch);
  }

  /** Signed out for good: acknowledgements still held are the server's to replay at the next sign-in, maybe as someone else. */
  forget(): void {
    this.toAcknowledge = [];
  }
}
