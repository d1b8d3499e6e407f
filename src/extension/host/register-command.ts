import * as vscode from 'vscode';
import { asRequestError } from '../../client/request-error';
import { LocalServerError } from '../core/local-server';
import { toastSafe } from '../core/notifications';

/** What a command does with its arguments; its result is what `executeCommand` gives a caller (tests, keybindings). */
export type CommandHandler = (...args: never[]) => Promise<unknown>;

/**
 * Registers a command whose failure is logged and shown as an error notification, and resolves with undefined:
 * VS Code would otherwise show its own, less helpful, "command failed" message.
 */
export function registerCommand(id: string, title: string, handler: CommandHandler, log: vscode.LogOutputChannel): vscode.Disposable {
  const run = handler as (...args: unknown[]) => Promise<unknown>;
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await run(...args);
    } catch (err) {
      const message = err instanceof LocalServerError ? err.message : asRequestError(err).message;
      log.error(`${title}: ${message}`);
      void vscode.window.showErrorMessage(`Parley: ${toastSafe(message)}`);
      return undefined;
    }
  });
}
