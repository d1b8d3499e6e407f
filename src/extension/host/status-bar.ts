import * as vscode from 'vscode';
import type { TimelineItem } from '../../view-protocol';
import type { ChatState } from '../core/chat-state';
import { EDITOR_COMMANDS } from '../core/command-ids';
import { statusText } from '../core/status';

/**
 * The status bar item (connection, people online, unread) and the context keys that the menus and the
 * walkthrough read: parley.signedIn, parley.privateOnly and parley.saidHello.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('parley.status', vscode.StatusBarAlignment.Left, 100);
  private lastPhase: string | undefined;
  private saidHello = false;
  private readonly update = (): void => this.updateItem();
  private readonly onConnection = (): void => void this.updateContext();
  private readonly onItems = (_conversation: string, items: TimelineItem[], live: boolean): void => {
    // The walkthrough's last step ("say hello") completes with the first message sent.
    if (this.saidHello || !live || !items.some((i) => i.kind === 'message' && i.message.from === this.state.me)) return;
    this.saidHello = true;
    void vscode.commands.executeCommand('setContext', 'parley.saidHello', true);
  };

  constructor(private readonly state: ChatState) {
    this.item.name = 'Parley';
    for (const event of ['connection', 'conversations', 'people'] as const) state.on(event, this.update);
    state.on('connection', this.onConnection);
    state.on('items', this.onItems);
    this.updateItem();
    this.item.show();
  }

  /** For tests: what the status bar shows. */
  describe(): { text: string; tooltip: string } {
    return { text: this.item.text, tooltip: String(this.item.tooltip ?? '') };
  }

  dispose(): void {
    for (const event of ['connection', 'conversations', 'people'] as const) this.state.off(event, this.update);
    this.state.off('connection', this.onConnection);
    this.state.off('items', this.onItems);
    this.item.dispose();
  }

  private updateItem(): void {
    const { text, tooltip } = statusText(this.state);
    this.item.text = text;
    this.item.tooltip = tooltip;
    const phase = this.state.connection.phase;
    this.item.command = phase === 'signed-out' || phase === 'private-only' ? EDITOR_COMMANDS.connect.id : EDITOR_COMMANDS.openChat.id;
    this.item.accessibilityInformation = { label: tooltip };
  }

  private async updateContext(): Promise<void> {
    const phase = this.state.connection.phase;
    if (phase === this.lastPhase) return;
    this.lastPhase = phase;
    await vscode.commands.executeCommand('setContext', 'parley.signedIn', phase === 'signed-in' || phase === 'reconnecting');
    // Signed out by the server with private chats still open: they can still be stopped, and Sign Out ends them.
    await vscode.commands.executeCommand('setContext', 'parley.privateOnly', phase === 'private-only');
  }
}
