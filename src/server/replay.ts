import type { ChatMessage } from '../protocol';

/** Stored messages read and sent at a time at sign-in: at most ~420 KB of packets (100 of 4 000 characters). */
export const REPLAY_PAGE = 100;

/**
 * One session's replay of its stored messages at sign-in, a page at a time. Live messages that arrive
 * meanwhile are held, so that none overtakes an older stored one, and sent when it ends; one that a
 * page also brought is sent once.
 */
export class Replay {
  private held: ChatMessage[] = [];
  /** The newest id a page has sent. */
  private last = 0;

  constructor(
    private readonly user: string,
    private readonly emit: (message: ChatMessage) => void,
  ) {}

  /** The id to read the next page after. */
  get after(): number {
    return this.last;
  }

  hold(message: ChatMessage): void {
    this.held.push(message);
  }

  /** Sends a page (in id order) and forgets the held messages it covers, so that they do not pile up. */
  send(page: readonly ChatMessage[]): void {
    for (const message of page) this.emit(message);
    this.last = page.at(-1)?.id ?? this.last;
    if (this.held.length > 0) this.held = this.held.filter((m) => !this.covered(m));
  }

  /** Sends what is still held: what arrived after the last page was read. */
  end(): void {
    for (const message of this.held) if (!this.covered(message)) this.emit(message);
    this.held = [];
  }

  /**
   * A page reads every pending message up to its newest id (ids are given in commit order), so a held
   * message addressed to this user at or below `last` went out with a page. The user's own messages,
   * echoed from their other sessions, are never pending for them.
   */
  private covered(message: ChatMessage): boolean {
    return message.id <= this.last && message.from !== this.user;
  }
}
