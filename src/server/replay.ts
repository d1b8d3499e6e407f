import type { ChatMessage } from '../protocol';

/** Stored messages read from the store at a time at sign-in. */
export const REPLAY_PAGE = 100;

/**
 * Bytes of packets sent at a time at sign-in before waiting for the client to take them: hundreds of
 * ordinary messages, about ten of the largest (4 000 characters that JSON escapes as six each).
 */
export const REPLAY_PAGE_BYTES = 256 * 1024;

/**
 * Replays one user may have running at once, across their sessions. Two let a second window start while
 * the first is stuck on a dead link until the heartbeat ends it; more would only let one user make the
 * server hold more pages.
 */
export const REPLAYS_PER_USER = 2;

/** What `42["message",` and `]` add to a message's JSON in a Socket.IO event packet. */
const PACKET_FRAME = 14;

/** The bytes a message's packet takes on the wire (UTF-8). */
export function packetBytes(message: ChatMessage): number {
  return Buffer.byteLength(JSON.stringify(message)) + PACKET_FRAME;
}

/**
 * One session's replay of its stored messages at sign-in, a page at a time. Live messages that arrive
 * meanwhile are held, so that none overtakes an older stored one, and sent when it ends; one that a
 * page also brought is sent once.
 */
export class Replay {
  private held: ChatMessage[] = [];
  /** The newest id a page has sent. */
  private last = 0;
  /** Messages of the last page read that it has not sent yet. */
  private unsent = 0;

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

  /** Messages read or held and not sent yet. */
  get backlog(): number {
    return this.unsent + this.held.length;
  }

  /**
   * Sends a page from the front of `messages` (in id order): as many as fit in `maxBytes` of packets, and
   * at least one, so that the largest message still goes. Forgets the held messages it covers, so that they
   * do not pile up, and returns the messages it did not send.
   */
  send(messages: readonly ChatMessage[], maxBytes: number): readonly ChatMessage[] {
    let count = 0;
    for (let bytes = 0; count < messages.length; count++) {
      bytes += packetBytes(messages[count]!);
      if (bytes > maxBytes && count > 0) break;
    }
    for (let i = 0; i < count; i++) this.emit(messages[i]!);
    this.last = messages[count - 1]?.id ?? this.last;
    if (this.held.length > 0) this.held = this.held.filter((m) => !this.covered(m));
    this.unsent = messages.length - count;
    return messages.slice(count);
  }

  /** Sends what is still held: what arrived after the last page was read. */
  end(): void {
    for (const message of this.held) if (!this.covered(message)) this.emit(message);
    this.held = [];
  }

  /**
   * A page reads every pending message up to its newest id (ids are given in commit order), so a held
   * message addressed to this user at or below `last` went out with a page. The user's own messages,
   * echoed from their other sessions, are never pending for them, and neither is a channel message.
   */
  private covered(message: ChatMessage): boolean {
    return message.id <= this.last && message.from !== this.user && message.kind !== 'channel';
  }
}
