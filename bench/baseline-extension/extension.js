// The bench's baseline for activation time (bench/activation.ts): registers its command and does nothing.
const vscode = require('vscode');

exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('parleyBenchBaseline.hello', () => undefined));
};
