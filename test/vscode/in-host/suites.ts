// In-host suites: mocha tests that run inside a real extension host (code-server's, through the test-only
// extension, or desktop VS Code's through @vscode/test-cli), against the real vscode API and the installed
// Parley extension's exported test API. Each run starts Parley's own local server (port 0) from a command.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ParleyClient } from '../../../src/client/parley-client';
import type { ChatMessage } from '../../../src/protocol';
import type { ParleyTestApi } from '../../../src/extension/host/parley-extension';
import type { ShownMessage } from '../../../src/view-protocol';

// mocha's BDD functions, global while mocha loads this file.
declare const describe: (title: string, body: () => void) => void;
declare const it: (title: string, body: () => Promise<void>) => void;
declare const before: (body: () => Promise<void>) => void;
declare const after: (body: () => Promise<void>) => void;

/** Whether a TCP connection to the port on loopback is accepted ('connected') or refused (the error's code). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
  });
}

const portOf = (url: string | undefined): number => Number(new URL(url ?? 'http://invalid').port);

/** Waits until `check` holds: for state that arrives over the network. */
async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Parley inside the extension host', () => {
  let api: ParleyTestApi;
  let extension: vscode.Extension<ParleyTestApi>;
  let ben: ParleyClient | undefined;
  const received: ChatMessage[] = [];
  // The extension behind the stand-ins that activation registers, and whether activating loaded it.
  const mainBundle = (): string => join(extension.extensionPath, 'dist', 'extension-main.js');
  let mainLoadedByActivation: boolean;

  before(async () => {
    const installed = vscode.extensions.getExtension<ParleyTestApi>('parley.parley');
    assert.ok(installed, 'the Parley extension is installed');
    extension = installed;
    api = await extension.activate();
    mainLoadedByActivation = require.cache[mainBundle()] !== undefined;
    await vscode.workspace.getConfiguration('parley').update('localServer.port', 0, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    ben?.close();
    await vscode.commands.executeCommand('parley.stopLocalServer');
  });

  it('activation loads only the stand-ins; the first command loads the extension behind them', async () => {
    assert.equal(mainLoadedByActivation, false);
    await vscode.commands.executeCommand('parley.showLog');
    assert.ok(require.cache[mainBundle()], 'dist/extension-main.js is loaded');
  });

  it('Start Local Server creates the first user, signs in and shows the chat', async () => {
    const started = await vscode.commands.executeCommand<{ url: string; username?: string }>('parley.startLocalServer', {
      username: 'ann',
      password: 'ann-password',
    });
    assert.equal(started.username, 'ann');
    assert.equal(api.snapshot().connection.phase, 'signed-in');
    assert.match(api.statusBar().text, /signed in as ann · 0 online/);
    assert.equal(api.localServer().url, started.url);
    await until('the chat view', () => api.views().some((v) => v.where === 'sidebar'));
  });

  it('Open Chat in Editor Tab opens a chat panel that comes up beside the sidebar', async () => {
    await vscode.commands.executeCommand('parley.openChatInEditor');
    await until('the editor tab’s chat to be ready', () => api.views().some((v) => v.where === 'editor' && v.ready));
    assert.equal(api.views().filter((v) => v.where === 'editor').length, 1);
    await vscode.commands.executeCommand('parley.openChatInEditor');
    assert.equal(api.views().filter((v) => v.where === 'editor').length, 1, 'the same tab is shown again, not a second one');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('a user added from the editor chats with the signed-in one', async () => {
    await vscode.commands.executeCommand('parley.addLocalUser', { username: 'ben', password: 'ben-password' });
    ben = new ParleyClient(api.localServer().url!);
    ben.on('message', (m) => received.push(m));
    await ben.connect();
    await ben.login('ben', 'ben-password');
    await until('ben online', () => api.snapshot().people.some((p) => p.username === 'ben' && p.online));
    assert.deepEqual(await vscode.commands.executeCommand('parley.whoElse'), ['ben']);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');

    await ben.message('ann', 'hello ann, ben here');
    await until('ben’s message', () => (api.snapshot().messages['dm:ben'] ?? []).some((m) => m.body === 'hello ann, ben here'));
    // Not on screen, so it raises a notification (gathered for a moment, in case more come).
    await until('a notification', () => api.notifications().includes('ben: hello ann, ben here'));

    const sent = await vscode.commands.executeCommand<ChatMessage>('parley.sendMessage', 'ben', 'hi ben');
    assert.equal(sent.to, 'ben');
    await until('ben receives the reply', () => received.some((m) => m.body === 'hi ben' && m.from === 'ann'));
  });

  it('blocking from the editor refuses the other’s messages until unblocked', async () => {
    assert.equal(await vscode.commands.executeCommand('parley.block', 'ben'), 'ben');
    assert.equal(api.snapshot().people.find((p) => p.username === 'ben')?.blocked, true);
    await assert.rejects(ben!.message('ann', 'can you hear me?'), (err: { code?: string }) => err.code === 'BLOCKED');

    assert.equal(await vscode.commands.executeCommand('parley.unblock', 'ben'), 'ben');
    assert.equal(api.snapshot().people.find((p) => p.username === 'ben')?.blocked, false);
    await ben!.message('ann', 'and now?');
    await until('the message after unblocking', () => (api.snapshot().messages['dm:ben'] ?? []).some((m) => m.body === 'and now?'));
  });

  it('Broadcast Message reaches everyone online', async () => {
    const result = await vscode.commands.executeCommand<{ id: number; delivered: number; skipped: number }>(
      'parley.broadcast',
      'hello everyone, from the palette',
    );
    assert.deepEqual({ delivered: result.delivered, skipped: result.skipped }, { delivered: 1, skipped: 0 });
    await until('ben gets the broadcast', () => received.some((m) => m.kind === 'broadcast' && m.id === result.id));
    assert.ok((api.snapshot().messages['everyone'] ?? []).some((m) => m.body === 'hello everyone, from the palette'));
  });

  it('Broadcast to Users reaches the users named and no one else', async () => {
    await vscode.commands.executeCommand('parley.addLocalUser', { username: 'cat', password: 'cat-password' });
    type Result = { id: number; delivered: number; skipped: number };
    // cat is offline: the server keeps it for her.
    const toCat = await vscode.commands.executeCommand<Result>('parley.broadcastToUsers', ['cat'], 'only for cat');
    assert.equal(toCat.delivered, 1);
    const toBen = await vscode.commands.executeCommand<Result>('parley.broadcastToUsers', ['ben'], 'only for ben');
    await until('ben gets his', () => received.some((m) => m.id === toBen.id));
    // Messages arrive in order: had ben been sent cat's, it would have come first.
    assert.ok(!received.some((m) => m.id === toCat.id), 'ben did not get the one for cat');
  });

  it('Copy Join Address copies the loopback address while the server is for this machine only', async () => {
    await vscode.env.clipboard.writeText('nothing yet');
    const copied = await vscode.commands.executeCommand<string>('parley.copyJoinAddress');
    assert.equal(copied, api.localServer().url);
    assert.match(copied, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(api.localServer().joinAddresses, [copied]);
    assert.equal(await vscode.env.clipboard.readText(), copied);
  });

  it('Share Selection to Chat sends the code with a file:line link that opens the place', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    const file = vscode.Uri.joinPath(folder.uri, 'parley-share', 'sample.ts');
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode('// first\nconst two = 2;\nconst three = 3;\n// last\n'));
    try {
      const editor = await vscode.window.showTextDocument(file);
      editor.selection = new vscode.Selection(1, 0, 2, 16);
      const sent = await vscode.commands.executeCommand<ShownMessage>('parley.shareSelection', 'dm:ben');
      const fence = '```';
      assert.equal(
        sent.body,
        `[parley-share/sample.ts:2-3](parley-share/sample.ts#L2-L3)\n${fence}typescript\nconst two = 2;\nconst three = 3;\n${fence}`,
      );
      await until('ben gets the shared code', () => received.some((m) => m.id === sent.id && m.body === sent.body));

      // Following the link, as a click on it in the chat does, opens the file with those lines selected.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const href = /\]\(([^)]+)\)/.exec(sent.body)?.[1];
      assert.equal(href, 'parley-share/sample.ts#L2-L3');
      await api.openLink(href);
      const opened = vscode.window.activeTextEditor;
      assert.equal(opened?.document.uri.toString(), file.toString());
      const { start, end } = opened.selection;
      assert.deepEqual([start.line, start.character, end.line, end.character], [1, 0, 2, 16]);

      // A link out of the workspace, or to a file that is not there, opens nothing.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await api.openLink('../parley-share/sample.ts#L1');
      await api.openLink('parley-share/missing.ts#L1');
      assert.equal(vscode.window.activeTextEditor, undefined);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(folder.uri, 'parley-share'), { recursive: true });
    }
  });

  it('Show Log shows the Parley output channel', async () => {
    const isParleyLog = (d: vscode.TextDocument): boolean =>
      d.uri.scheme === 'output' &&
      /Parley/.test(decodeURIComponent(d.uri.toString())) &&
      !/Server/.test(decodeURIComponent(d.uri.toString()));
    await vscode.commands.executeCommand('parley.showLog');
    const outputs = (): string => vscode.workspace.textDocuments.map((d) => d.uri.toString()).join(', ');
    await until(`the Parley log among the open documents (${outputs()})`, () => vscode.workspace.textDocuments.some(isParleyLog));
    const log = vscode.workspace.textDocuments.find(isParleyLog)!;
    await until('the log to say who signed in', () => /Signed in as ann/.test(log.getText()));
  });

  it('Stop Local Server signs out of it and stops it', async () => {
    const port = portOf(api.localServer().url);
    assert.equal(await vscode.commands.executeCommand('parley.stopLocalServer'), true);
    assert.equal(api.localServer().running, false);
    assert.equal(api.snapshot().connection.phase, 'signed-out');
    assert.equal(await tryConnect(port), 'ECONNREFUSED');
    await until('ben to lose the connection', () => ben!.state !== 'signed-in');
    assert.equal(await vscode.commands.executeCommand('parley.stopLocalServer'), false, 'nothing left to stop');
  });

  // Last: the extension is shut down afterwards.
  it('deactivate stops the local server', async () => {
    await vscode.commands.executeCommand('parley.startLocalServer', { username: 'ann', password: 'ann-password' });
    assert.equal(api.snapshot().connection.phase, 'signed-in');
    const port = portOf(api.localServer().url);
    assert.equal(await tryConnect(port), 'connected');
    // The module VS Code loaded and activated, whose deactivate() it calls when the window closes.
    const main = require.cache[join(extension.extensionPath, 'dist', 'extension.js')];
    assert.ok(main, 'Parley’s main module is loaded');
    await (main.exports as { deactivate(): Promise<void> }).deactivate();
    assert.equal(api.localServer().running, false);
    assert.equal(await tryConnect(port), 'ECONNREFUSED');
  });
});
