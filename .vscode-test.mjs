// Desktop VS Code (Electron) runs the in-host suites through @vscode/test-cli and @vscode/test-electron:
// `npm run test:electron`. It downloads VS Code, so it needs internet; CI runs the same suites in code-server
// (test/vscode/in-host.ui.ts). A fresh user-data folder per run, so that no settings, secrets or local server
// data are left from the last one.
import { defineConfig } from '@vscode/test-cli';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'parley-electron-'));

export default defineConfig({
  label: 'in-host',
  files: '.test-artifacts/in-host/extension/out/suites.js',
  extensionDevelopmentPath: '.',
  workspaceFolder: 'examples',
  mocha: { ui: 'bdd', timeout: 60_000 },
  launchArgs: ['--disable-extensions', `--user-data-dir=${join(scratch, 'user-data')}`, `--extensions-dir=${join(scratch, 'extensions')}`],
});
