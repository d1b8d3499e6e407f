import { EVERYONE, channelOf } from '../../view-protocol';
import type { ChatSession, NotifyEvent } from './chat-session';
import { errorMessage } from '../../protocol/errors';

/**
 * What the notifications say and do, without VS Code: the session emits `notify` for a direct message or an
 * @mention whose conversation is not on screen; these are gathered for a moment so that a burst gives one
 * toast, and nothing is said for what was read meanwhile. host/notifier.ts shows the toasts.
 */

/**
 * Text from other people or from a server, made fit for a VS Code notification. The workbench turns
 * `[label](https://…)`, `[label](command:…)` and `[label](file:…)` in a notification's message into
 * clickable links, so a message could carry a link that runs a command when clicked; with a space between
 * `]` and `(` nothing is a link any more, and the text still reads the same. Control and bidirectional
 * formatting characters go too (they could make the text read differently from what it is), and the text
 * is one line.
 */
export function toastSafe(text: string): string {
  return text
    .replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\]\(/g, '] (');
}

/** A message's body for a notification: made safe, and cut to `max` characters (whole code points) with an ellipsis. */
export function toastPreview(body: string, max = 120): string {
  const safe = [...toastSafe(body)];
  return safe.length > max ? `${safe.slice(0, max).join('').trimEnd()}…` : safe.join('');
}

export type ToastAction = 'Reply' | 'Open';

export interface Toast {
  text: string;
  actions: ToastAction[];
  /** What "Open" shows and "Reply" answers in. */
  conversation: string;
  /** The sender, for the reply box's title (a single message only). */
  from?: string;
}

/**
 * The toast for a batch of events, leaving out conversations read meanwhile; undefined when nothing is left.
 * The sender's name is made safe too: the client core does not check what a server says a name is.
 */
export function toastFor(events: readonly NotifyEvent[], unread: (conversation: string) => number): Toast | undefined {
  const left = events.filter((e) => unread(e.conversation) > 0);
  if (left.length === 0) return undefined;
  if (left.length === 1) {
    const { message, conversation, reason } = left[0]!;
    const from = toastSafe(message.from);
    const preview = toastPreview(message.body);
    const text = reason === 'mention' ? `${from} mentioned you: ${preview}` : `${from}: ${preview}`;
    return { text, actions: ['Reply', 'Open'], conversation, from };
  }
  const senders = [...new Set(left.map((e) => toastSafe(e.message.from)))];
  return { text: `${left.length} new messages from ${senders.join(', ')}`, actions: ['Open'], conversation: left.at(-1)!.conversation };
}

/** One toast for the mentions that came while the user was away, per channel; "Open" shows the one with the most. */
export function awayToast(mentions: readonly { conversation: string; mentions: number }[]): Toast | undefined {
  const sorted = [...mentions].filter((m) => m.mentions > 0).sort((a, b) => b.mentions - a.mentions);
  if (sorted.length === 0) return undefined;
  const total = sorted.reduce((sum, m) => sum + m.mentions, 0);
  const times = total === 1 ? 'once' : `${total} times`;
  const where = sorted.map((m) => `#${channelOf(m.conversation) ?? m.conversation}${sorted.length > 1 ? ` (${m.mentions})` : ''}`);
  return {
    text: `You were mentioned ${times} while away, in ${where.join(', ')}.`,
    actions: ['Open'],
    conversation: sorted[0]!.conversation,
  };
}

function replyTitle(toast: Toast): string {
  const channel = channelOf(toast.conversation);
  if (channel !== undefined) return `Reply in #${channel}`;
  return toast.conversation === EVERYONE ? 'Reply to everyone online' : `Reply to ${toast.from ?? toast.conversation}`;
}

/** The chat view's badge: the number of unread messages, or none. */
export function unreadBadge(unread: number): { value: number; tooltip: string } | undefined {
  return unread > 0 ? { value: unread, tooltip: `${unread} unread message${unread === 1 ? '' : 's'}` } : undefined;
}

/** What the notifier needs from the editor. */
export interface NotifierUi {
  /** The setting parley.notifications.enabled, read when a message arrives. */
  enabled(): boolean;
  /** Shows a toast; resolves with the action chosen, if any. */
  show(text: string, actions: readonly ToastAction[]): PromiseLike<ToastAction | undefined>;
  /** Asks for the text of a reply. */
  askReply(title: string): PromiseLike<string | undefined>;
  /** Shows a conversation with its composer focused. */
  open(conversation: string): PromiseLike<void>;
  /** Says that something failed. */
  error(text: string): void;
}

export class Notifier {
  private batch: NotifyEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly listener = (event: NotifyEvent): void => this.onNotify(event);
  private readonly awayListener = (mentions: { conversation: string; mentions: number }[]): void => {
    const toast = this.ui.enabled() ? awayToast(mentions) : undefined;
    if (toast) void this.present(toast);
  };
  /** The toast texts shown, for tests. */
  readonly shown: string[] = [];

  constructor(
    private readonly session: ChatSession,
    private readonly ui: NotifierUi,
    private readonly batchMs = 400,
  ) {
    session.on('notify', this.listener);
    session.on('mentionsAway', this.awayListener);
  }

  private onNotify(event: NotifyEvent): void {
    if (!this.ui.enabled()) return;
    this.batch.push(event);
    this.timer ??= setTimeout(() => void this.flush(), this.batchMs);
  }

  /** Shows the toast for what has gathered; resolves once the user's choice is carried out. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const toast = toastFor(this.batch.splice(0), (c) => this.session.state.unread(c));
    if (toast) await this.present(toast);
  }

  private async present(toast: Toast): Promise<void> {
    this.shown.push(toast.text);
    const choice = await this.ui.show(toast.text, toast.actions);
    if (choice === 'Open') await this.ui.open(toast.conversation);
    else if (choice === 'Reply') await this.reply(toast);
  }

  private async reply(toast: Toast): Promise<void> {
    const text = await this.ui.askReply(replyTitle(toast));
    if (!text?.trim()) return;
    try {
      await this.session.sendTo(toast.conversation, text);
      this.session.state.markRead(toast.conversation);
    } catch (err) {
      this.ui.error(`the reply was not sent: ${errorMessage(err)}`);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.batch.length = 0;
    this.session.off('notify', this.listener);
    this.session.off('mentionsAway', this.awayListener);
  }
}
