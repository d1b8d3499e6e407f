import type { PresenceEvent } from '../../protocol';
import { EVERYONE, directId } from '../../view-protocol';
import type { ChatState } from './chat-state';
import type { SessionConnection } from './session-connection';

/**
 * Who is there, for the session: the people list (asked for again after bursts of presence events), the
 * presence notices in the conversations, and blocking, which hides people from each other.
 */
export class People {
  private timer: NodeJS.Timeout | undefined;
  /** Users being blocked now: the server hides them with an "offline" presence event before it answers. */
  private readonly blocking = new Set<string>();

  constructor(
    private readonly state: ChatState,
    private readonly connection: SessionConnection,
    /** How long after a presence event the people list is asked for again. */
    private readonly refreshDelayMs: number,
  ) {}

  /** Every account with presence and when it was last seen (the `users` request). */
  async refresh(): Promise<void> {
    const { users } = await this.connection.requireClient().users();
    this.state.applyUsers(users);
  }

  /** Nothing more to ask of this connection. */
  cancelRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async block(username: string): Promise<void> {
    this.blocking.add(username);
    try {
      await this.connection.requireClient().block(username);
    } finally {
      this.blocking.delete(username);
    }
    this.state.setBlock(username, true);
    this.scheduleRefresh(0);
  }

  async unblock(username: string): Promise<void> {
    await this.connection.requireClient().unblock(username);
    this.state.setBlock(username, false);
    this.scheduleRefresh(0);
  }

  onPresence(event: PresenceEvent): void {
    const before = this.state.presenceOf(event.username);
    this.state.applyPresence(event);
    // Becoming idle or active again is shown in the people list, not told in the conversations.
    if (before !== 'offline' && event.online && (event.idle === true) !== (before === 'idle')) return;
    this.scheduleRefresh();
    // Someone I block is hidden from me, not gone offline: saying "went offline" would be untrue.
    const blocked = this.blocking.has(event.username) || this.state.isBlocked(event.username);
    if (!event.online && blocked) return;
    const text = `${event.username} ${event.online ? 'is online' : 'went offline'}`;
    this.state.addNotice(EVERYONE, text, 'presence', event.at);
    const direct = directId(event.username);
    if (this.state.has(direct)) this.state.addNotice(direct, text, 'presence', event.at);
  }

  /** Asks for the people list again a little later (bursts of presence events make one request). */
  private scheduleRefresh(delay = this.refreshDelayMs): void {
    const client = this.connection.client;
    if (!client) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.connection.client === client && client.state === 'signed-in') void this.refresh().catch(() => {});
    }, delay);
  }
}
