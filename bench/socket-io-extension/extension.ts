/**
 * The bench's second reference for activation time (bench/activation.ts): the least a chat extension loads,
 * Socket.IO's client, and nothing else. Bundled as Parley's extension is (scripts/bundle-options.mjs).
 */
import { io } from 'socket.io-client';
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  // Holding `io` keeps the bundler from dropping the import.
  context.subscriptions.push(vscode.commands.registerCommand('parleyBenchSocketIo.hello', () => typeof io));
}
