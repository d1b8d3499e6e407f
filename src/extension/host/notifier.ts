import * as vscode from 'vscode';
import type { ChatSession } from '../core/chat-session';
import { Notifier, toastSafe, type ToastAction } from '../core/notifications';

/** The notifier of core/notifications.ts with VS Code's toasts, input box and setting. */
export function vscodeNotifier(session: ChatSession, open: (conversation: string) => Promise<void>, log: (text: string) => void): Notifier {
  return new Notifier(session, {
    enabled: () => vscode.workspace.getConfiguration('parley').get<boolean>('notifications.enabled', true),
    show: (text, actions) => vscode.window.showInformationMessage<ToastAction>(text, ...actions),
    askReply: (title) => vscode.window.showInputBox({ title, prompt: 'Enter sends', ignoreFocusOut: true }),
    open,
    error: (text) => {
      log(text);
      void vscode.window.showErrorMessage(`Parley: ${toastSafe(text)}`);
    },
  });
}
