import type { HistoryOf } from '../protocol';

/**
 * Where the user has read up to, per conversation, sent as one `read` per conversation at most every `delayMs`: a busy
 * channel shown line by line would otherwise spend the connection's request rate on read positions.
 */
export class ReadMarker {
  private readonly pending = new Map<string, { of: HistoryOf; upTo: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (of: HistoryOf, upTo: number) => Promise<unknown>,
    private readonly delayMs = 250,
  ) {}

  mark(of: HistoryOf, upTo: number): void {
    const key = JSON.stringify(of);
    if ((this.pending.get(key)?.upTo ?? -1) < upTo) this.pending.set(key, { of, upTo });
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Sends what is pending now (also before signing out, so that nothing read is lost). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const { of, upTo } of this.pending.values()) {
      this.send(of, upTo).catch(() => {
        // Best effort: a server without read positions, or a connection gone, changes nothing on screen.
      });
    }
    this.pending.clear();
  }
}
