#!/usr/bin/env node
// Packages the VS Code extension: `npm run package` builds, then this runs vsce on the bundles in dist/.
// Works offline: everything the extension runs is bundled, so vsce need not list npm dependencies.
// Usage: node scripts/package-extension.mjs [--out file.vsix]   (default: <name>-<version>.vsix here)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const { name, version } = JSON.parse(readFileSync('package.json', 'utf8'));
for (const file of [
  'dist/extension.js',
  'dist/extension-main.js',
  'dist/extension-server.js',
  'dist/peer-listener.js',
  'dist/socket-io-client.js',
  'dist/sqlite-worker.js',
  'dist/webview.js',
  'dist/node-sqlite3-wasm.wasm',
]) {
  if (!existsSync(file)) {
    console.error(`${file} is missing: run npm run build first.`);
    process.exit(1);
  }
}
const outFlag = process.argv.indexOf('--out');
const out = outFlag >= 0 ? process.argv[outFlag + 1] : `${name}-${version}.vsix`;
if (!out) {
  console.error('--out needs a file name.');
  process.exit(1);
}
const vsce = join('node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
const result = spawnSync(
  vsce,
  ['package', '--no-dependencies', '--allow-missing-repository', '--readme-path', 'media/extension-readme.md', '--out', out],
  {
    stdio: 'inherit',
  },
);
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(`${out}: ${(statSync(out).size / 1024).toFixed(0)} KiB. Install with: code --install-extension ${out}`);
