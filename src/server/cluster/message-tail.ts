import type { Pool } from 'pg';
import type { ChatMessage } from '../../protocol';
import type { Logger } from '../log';
import { toMessage, type Row } from '../store/sqlite-rows';
import { CLUSTER_SQL } from './cluster-queries';

/** A stored message as live delivery needs it: whom it goes to (null: a channel's members) and the session that sent it. */
export interface LiveMessage {
  message: ChatMessage;
  recipients: string[] | null;
  origin: string | null;
}

const PAGE = 500;

/**
 * Reads the messages every node stored, in id order, for this node to deliver to its sessions. Ids become
 * visible in numeric order (../store/pg-store.ts, takeMessageId), so a reader that remembers the last id it
 * read misses none: a notification only says when to look, and a lost one (a broken connection) delays
 * messages until the next look, never loses them. The sending node delivers through here too, so that every
 * session gets messages in id order whichever node stored them.
 */
export class MessageTail {
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  private constructor(
    private readonly pool: Pool,
    private after: number,
    private readonly deliver: (live: LiveMessage) => void,
    private readonly log: Logger,
  ) {}

  /** Starts after the last message stored so far: older ones are a session's to replay. */
  static async start(pool: Pool, deliver: (live: LiveMessage) => void, log: Logger): Promise<MessageTail> {
    const { rows } = await pool.query<{ id: number }>(CLUSTER_SQL.lastMessageId);
    return new MessageTail(pool, Number(rows[0]?.id ?? 0), deliver, log);
  }

  /** Reads what was stored since the last read; called on every notification, and now and then without one. */
  wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves once the read under way, if any, is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.reading;
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const { rows } = await this.pool.query<Row>(CLUSTER_SQL.tail, [this.after, PAGE]);
        for (const row of rows) {
          this.after = Number(row['id']);
          // A channel deleted since: its messages went with it.
          if (row['kind'] === 'channel' && row['channel'] === null) continue;
          this.deliver({
            message: toMessage(row),
            recipients: (row['recipients'] as string[] | null) ?? null,
            origin: (row['origin'] as string | null) ?? null,
          });
        }
        if (rows.length < PAGE || this.stopped) return;
      }
    } catch (err) {
      // The next notification or look tries again from the same place.
      this.log.warn('could not read the newest messages from the database', { err: String(err) });
    }
  }
}
