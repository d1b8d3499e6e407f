import { join } from 'node:path';
import type * as vscode from 'vscode';
import type * as Main from './host/parley-extension';
import { commandStandIns, testApiStandIn, viewStandIns } from './host/stand-ins';

/**
 * Parley for VS Code. Activation registers stand-ins for the views and commands and loads nothing else: the
 * extension itself (host/parley-extension.ts, bundled apart as dist/extension-main.js) is loaded by the first
 * view shown or command run, so that what VS Code counts as activation stays small. Nothing connects and no
 * server starts until the user asks (or parley.autoConnect says so).
 */

let extension: Main.ParleyExtension | undefined;

export function activate(context: vscode.ExtensionContext): Main.ParleyTestApi {
  const manifest = context.extension.packageJSON as { contributes: { commands: { command: string }[] } };
  const commands = commandStandIns(
    manifest.contributes.commands.map((c) => c.command),
    () => load(),
  );
  // Loaded once: after deactivate, the stand-ins still hand over to the extension that was shut down.
  let loaded: Main.ParleyExtension | undefined;
  const load = (): Main.ParleyExtension => {
    if (loaded) return loaded;
    for (const command of commands) command.dispose();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a runtime path, on purpose not bundled into extension.js
    const { ParleyExtension } = require(join(context.extensionPath, 'dist', 'extension-main.js')) as typeof Main;
    loaded = extension = new ParleyExtension(context);
    context.subscriptions.push(loaded);
    loaded.autoConnect();
    return loaded;
  };
  context.subscriptions.push(...commands, ...viewStandIns(load));
  return testApiStandIn(() => load().testApi());
}

export async function deactivate(): Promise<void> {
  const current = extension;
  extension = undefined;
  // The local server stops with the window; its clients are told it is shutting down.
  await current?.shutdown();
}
