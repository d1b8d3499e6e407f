import type { ChatState } from './chat-state';
import { conversationRefOf } from './conversation-sync';
import type { SessionConnection } from './session-connection';

/**
 * Tells the server how far the user has read: the newest message of each conversation on screen in a visible,
 * focused view. A burst of messages (or of switches) makes one `read` per conversation, after a short delay.
 */
export class ReadReporter {
  private timer: NodeJS.Timeout | undefined;
  /** Positions waiting to be sent, by conversation. */
  private readonly pending = new Map<string, number>();
  /** What was asked for on this connection already: a failed request is not repeated until there is more to read. */
  private readonly asked = new Map<string, number>();
  private askedOn: unknown;
  private readonly check = (): void => this.collect();

  constructor(
    private readonly state: ChatState,
    private readonly connection: SessionConnection,
    private readonly delayMs = 250,
  ) {
    for (const event of ['viewing', 'items', 'conversations'] as const) state.on(event, this.check);
  }

  /** Looks for conversations on screen with messages past the read position; sends their positions soon. */
  collect(): void {
    const client = this.connection.client;
    if (!client || client.state !== 'signed-in') return;
    if (this.askedOn !== client) {
      this.asked.clear();
      this.askedOn = client;
    }
    for (const conversation of this.state.viewed()) {
      const newest = this.state.newestPosition(conversation);
      const known = Math.max(this.state.readPosition(conversation) ?? 0, this.asked.get(conversation) ?? 0);
      if (newest > known && conversationRefOf(conversation)) this.pending.set(conversation, newest);
    }
    if (this.pending.size > 0) this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  dispose(): void {
    for (const event of ['viewing', 'items', 'conversations'] as const) this.state.off(event, this.check);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private flush(): void {
    this.timer = undefined;
    const client = this.connection.client;
    if (!client || client !== this.askedOn) return this.pending.clear();
    for (const [conversation, upTo] of this.pending) {
      this.asked.set(conversation, upTo);
      client
        .request('read', { conversation: conversationRefOf(conversation)!, upTo })
        .then((reply) => this.connection.client === client && this.state.applyRead(conversation, reply.upTo))
        .catch(() => {});
    }
    this.pending.clear();
  }
}
