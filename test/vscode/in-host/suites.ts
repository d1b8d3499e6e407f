// In-host suites: mocha tests that run inside a real extension host (code-server's, through the test-only
// extension, or desktop VS Code's through @vscode/test-cli), against the real vscode API and the installed
// Parley extension's exported test API. Each run starts Parley's own local server (port 0) from a command.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ParleyClient } from '../../../src/client/parley-client';
import type { ChatMessage } from '../../../src/protocol';
import type { ParleyTestApi } from '../../../src/extension/host/parley-extension';

// mocha's BDD functions, global while mocha loads this file.
declare const describe: (title: string, body: () => void) => void;
declare const it: (title: string, body: () => Promise<void>) => void;
declare const before: (body: () => Promise<void>) => void;
declare const after: (body: () => Promise<void>) => void;

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
  let ben: ParleyClient | undefined;
  const received: ChatMessage[] = [];

  before(async () => {
    const extension = vscode.extensions.getExtension<ParleyTestApi>('parley.parley');
    assert.ok(extension, 'the Parley extension is installed');
    api = await extension.activate();
    await vscode.workspace.getConfiguration('parley').update('localServer.port', 0, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    ben?.close();
    await vscode.commands.executeCommand('parley.stopLocalServer');
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
});
