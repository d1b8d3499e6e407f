import { ChatSession } from './chat-session';

export interface BroadcastReply {
  delivered: number;
  skipped: number;
  queueFull: string[];
}

/** How many answers are kept: enough for the commands in flight at once, which read theirs as soon as they end. */
const REPLIES_KEPT = 32;

/**
 * The editor's session: a ChatSession that keeps the server's answers to the messages it sent, by message id.
 * `execute` tells which message a command sent but not the answer, which the palette shows (how many a broadcast
 * reached, whether a recipient was offline) and returns to its caller.
 */
export class EditorSession extends ChatSession {
  private readonly replies = new Map<number, BroadcastReply | { online: boolean }>();

  override async broadcast(body: string, to?: string[]): ReturnType<ChatSession['broadcast']> {
    const result = await super.broadcast(body, to);
    this.keep(result.message.id, { delivered: result.delivered, skipped: result.skipped, queueFull: result.queueFull });
    return result;
  }

  override async sendDirect(to: string, body: string): ReturnType<ChatSession['sendDirect']> {
    const result = await super.sendDirect(to, body);
    this.keep(result.message.id, { online: result.online });
    return result;
  }

  /** The server's answer to the broadcast with this id, taken once. */
  broadcastReply(id: number): BroadcastReply | undefined {
    const reply = this.take(id);
    return reply && 'delivered' in reply ? reply : undefined;
  }

  /** Whether the recipient of the direct message with this id was online, taken once. */
  recipientOnline(id: number): boolean | undefined {
    const reply = this.take(id);
    return reply && 'online' in reply ? reply.online : undefined;
  }

  private keep(id: number, reply: BroadcastReply | { online: boolean }): void {
    this.replies.set(id, reply);
    const oldest = this.replies.keys().next().value;
    if (this.replies.size > REPLIES_KEPT && oldest !== undefined) this.replies.delete(oldest);
  }

  private take(id: number): BroadcastReply | { online: boolean } | undefined {
    const reply = this.replies.get(id);
    this.replies.delete(id);
    return reply;
  }
}
