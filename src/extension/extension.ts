import type * as vscode from 'vscode';
import { ParleyExtension, type ParleyTestApi } from './host/parley-extension';

/**
 * Parley for VS Code. Activation only builds the UI and registers commands: nothing connects and no
 * server starts until the user asks (or parley.autoConnect says so). See host/parley-extension.ts.
 */

let extension: ParleyExtension | undefined;

export function activate(context: vscode.ExtensionContext): ParleyTestApi {
  extension = new ParleyExtension(context);
  context.subscriptions.push(extension);
  extension.autoConnect();
  return extension.testApi();
}

export async function deactivate(): Promise<void> {
  const current = extension;
  extension = undefined;
  // The local server stops with the window; its clients are told it is shutting down.
  await current?.shutdown();
}
