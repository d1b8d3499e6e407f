// Scenario 1 in a real VS Code: a fresh install starts the embedded server from the palette, creates the first
// user from the editor's prompts, and signs in. Run with `npm run test:vscode`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VsCode } from './harness';

describe('Parley local server in VS Code (code-server + Chromium)', { timeout: 300_000 }, () => {
  let vscode: VsCode;

  before(async () => {
    vscode = await VsCode.launch({ name: 'local-server', settings: { 'parley.localServer.port': 0 } });
  });

  after(async () => {
    await vscode?.close();
  });

  it('(1) Start Local Server from the palette creates the first user and signs in', async () =>
    vscode.step('local-server', async () => {
      // (The extension activates on its views or commands, so there is no Parley status item before this.)
      await vscode.runCommand('Parley: Start Local Server');
      await vscode.answer('dana', /create the first user/);
      await vscode.answer('dana-password', /At least 8 characters/);
      await vscode.answer('dana-password', /Once more/);
      const status = await vscode.waitForStatus(/signed in as dana/);
      assert.match(status, /signed in as dana · 0 online/);
      await vscode.toast(/the local server is running at http:\/\/127\.0\.0\.1:\d+/).waitFor({ state: 'visible', timeout: 30_000 });
      // Signed in, the Parley view opens by itself, so that the person sees where the chat is.
      await vscode.webview().locator('textarea').waitFor({ state: 'visible', timeout: 30_000 });
      await vscode.screenshot('signed-in');
    }));
});
