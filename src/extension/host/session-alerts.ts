import * as vscode from 'vscode';
import type { ChatSession } from '../core/chat-session';
import { EDITOR_COMMANDS } from '../core/command-ids';
import { asRequestError } from '../../client/request-error';
import { toastSafe } from '../core/notifications';

/**
 * What the session tells the user outside the chat: a failed sign-in again, a private chat that failed (with the
 * server as the fallback) or that someone opened. The password the server refused is forgotten by Auth. Texts
 * from a server or a peer go through toastSafe.
 */
export function alertSessionEvents(
  session: ChatSession,
  reveal: (conversation: string, focusComposer: boolean) => Promise<void>,
  log: vscode.LogOutputChannel,
): void {
  session.on('problem', (error) => {
    void vscode.window.showErrorMessage(`Parley: could not sign in again: ${toastSafe(error.message)}`, 'Connect…').then((choice) => {
      if (choice) void vscode.commands.executeCommand(EDITOR_COMMANDS.connect.id);
    });
  });
  session.on('privateFailed', (failure) => {
    log.warn(`Private chat with ${failure.username}: ${failure.message}`);
    const actions = failure.offerServer ? ['Send via Server'] : [];
    void vscode.window.showWarningMessage(`Parley: ${toastSafe(failure.message)}`, ...actions).then(async (choice) => {
      if (choice !== 'Send via Server') return;
      // The user's explicit choice: an ordinary direct message, stored on the server.
      const conversation = session.state.openDirect(failure.username);
      try {
        if (failure.body !== undefined) await session.sendTo(conversation, failure.body);
        await reveal(conversation, true);
      } catch (err) {
        void vscode.window.showErrorMessage(`Parley: not sent: ${toastSafe(asRequestError(err).message)}`);
      }
    });
  });
  session.on('privateOpened', ({ username, conversation, direction }) => {
    log.info(`Private chat with ${username} is open (${direction}).`);
    if (direction !== 'incoming' || session.state.isViewing(conversation)) return;
    void vscode.window
      .showInformationMessage(
        `Parley: ${toastSafe(username)} opened a private chat with you (direct, encrypted, not stored on the server).`,
        'Open',
      )
      .then((choice) => {
        if (choice === 'Open') void reveal(conversation, true);
      });
  });
  session.on('privateRefused', (text) => log.warn(text));
  session.on('ended', (message) => log.info(`Session ended: ${message}`));
}
