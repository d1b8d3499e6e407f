import * as vscode from 'vscode';
import { isUsername } from '../../protocol/limits';
import type { ChatSession } from '../core/chat-session';
import { Auth, type SignInUi } from '../core/sign-in';
import { toastSafe } from '../core/notifications';
import { normalizeServerAddress } from '../../protocol/origin';

/** Signing in (core/sign-in.ts) with VS Code's SecretStorage, the parley.* settings and input boxes. */
export function vscodeAuth(secrets: vscode.SecretStorage, session: ChatSession, log: vscode.LogOutputChannel): Auth {
  return new Auth(secrets, session, signInUi(log), log);
}

function signInUi(log: vscode.LogOutputChannel): SignInUi {
  return {
    settings: () => {
      const config = vscode.workspace.getConfiguration('parley');
      return { url: config.get<string>('serverUrl', '').trim(), username: config.get<string>('username', '').trim() };
    },
    saveSettings: async (url, username) => {
      const config = vscode.workspace.getConfiguration('parley');
      try {
        if (config.get<string>('serverUrl') !== url) await config.update('serverUrl', url, vscode.ConfigurationTarget.Global);
        if (config.get<string>('username') !== username) await config.update('username', username, vscode.ConfigurationTarget.Global);
      } catch (err) {
        log.warn(`Could not save the Parley settings: ${String(err)}`);
      }
    },
    askAddress: (current) =>
      vscode.window.showInputBox({
        title: 'Parley: Connect to Server',
        prompt: 'The address of the Parley server (a teammate\'s "Copy Join Address" gives it)',
        value: current || 'http://127.0.0.1:4000',
        ignoreFocusOut: true,
        validateInput: (value) => (normalizeServerAddress(value) ? undefined : 'An address like http://192.168.1.20:4000'),
      }),
    askUsername: (url, current) =>
      vscode.window.showInputBox({
        title: 'Parley: Sign In',
        prompt: `Your username on ${url}`,
        value: current,
        ignoreFocusOut: true,
        validateInput: (value) => (isUsername(value.trim()) ? undefined : 'Letters, digits, ".", "_" and "-"'),
      }),
    // No progress notification while connecting: the workbench keeps one on screen for at least 800 ms, so a fast
    // failure showed "connecting…" next to its own error. The status item and the chat view say "connecting…".
    askPassword: (prompt) => vscode.window.showInputBox({ title: 'Parley: Sign In', prompt, password: true, ignoreFocusOut: true }),
    explain: ({ code, message }) => {
      const actions = code === 'UNREACHABLE' ? ['Connect to Another Server…', 'Start Local Server'] : [];
      // Not awaited: the sign-in ends now, not when the notification is closed. The message can carry the server's words.
      void vscode.window.showErrorMessage(`Parley: ${toastSafe(message)}`, ...actions).then((choice) => {
        if (choice === 'Connect to Another Server…') void vscode.commands.executeCommand('parley.connect');
        else if (choice === 'Start Local Server') void vscode.commands.executeCommand('parley.startLocalServer');
      });
    },
  };
}
