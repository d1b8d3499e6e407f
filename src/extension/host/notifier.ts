import * as vscode from 'vscode';
import type { ChatSession, NotifyEvent } from '../core/chat-session';

/**
 * Toasts for direct messages and @mentions that arrive while their conversation is not on screen
 * (the session decides that), gathered for a moment so that a burst gives one toast.
 */
export class Notifier implements vscode.Disposable {
  private batch: NotifyEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly listener = (event: NotifyEvent): void => this.onNotify(event);
  /** What was shown, for tests: the toast texts. */
  readonly shown: string[] = [];

  constructor(
    private readonly session: ChatSession,
    private readonly open: (conversation: string) => Promise<void>,
    private readonly log: (text: string) => void,
  ) {
    session.on('notify', this.listener);
  }

  private onNotify(event: NotifyEvent): void {
    if (!vscode.workspace.getConfiguration('parley').get<boolean>('notifications.enabled', true)) return;
    this.batch.push(event);
    this.timer ??= setTimeout(() => this.flush(), 400);
  }

  private flush(): void {
    this.timer = undefined;
    // Read meanwhile (the user opened the conversation): nothing to say.
    const events = this.batch.splice(0).filter((e) => this.session.state.unread(e.conversation) > 0);
    if (events.length === 0) return;
    if (events.length === 1) {
      const { message, conversation, reason } = events[0]!;
      const oneLine = message.body.replace(/\s+/g, ' ').trim();
      const preview = oneLine.length > 120 ? `${oneLine.slice(0, 120)}…` : oneLine;
      const text = reason === 'mention' ? `${message.from} mentioned you: ${preview}` : `${message.from}: ${preview}`;
      this.shown.push(text);
      void vscode.window.showInformationMessage(text, 'Reply', 'Open').then(async (choice) => {
        if (choice === 'Open') await this.open(conversation);
        else if (choice === 'Reply') await this.reply(conversation, message.from);
      });
      return;
    }
    const senders = [...new Set(events.map((e) => e.message.from))];
    const text = `${events.length} new messages from ${senders.join(', ')}`;
    this.shown.push(text);
    const target = events.at(-1)!.conversation;
    void vscode.window.showInformationMessage(text, 'Open').then(async (choice) => {
      if (choice === 'Open') await this.open(target);
    });
  }

  private async reply(conversation: string, to: string): Promise<void> {
    const text = await vscode.window.showInputBox({
      title: conversation === 'everyone' ? 'Reply to everyone online' : `Reply to ${to}`,
      prompt: 'Enter sends',
      ignoreFocusOut: true,
    });
    if (!text?.trim()) return;
    try {
      await this.session.sendTo(conversation, text);
      this.session.state.markRead(conversation);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log(`Reply failed: ${message}`);
      void vscode.window.showErrorMessage(`Parley: the reply was not sent: ${message}`);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.session.off('notify', this.listener);
  }
}
