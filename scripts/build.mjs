#!/usr/bin/env node
// Bundles each program into dist/ with esbuild. Usage: node scripts/build.mjs [--watch]
import { build, context } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');

const entries = [
  { in: 'src/server/main.ts', out: 'server-cli' },
  { in: 'src/cli/main.ts', out: 'cli' },
].filter((e) => existsSync(e.in));

const options = {
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'info',
  // socket.io's optional native helpers: ws falls back to plain JavaScript without them.
  external: ['bufferutil', 'utf-8-validate'],
};

// The VS Code extension: the extension host's bundle (vscode is provided by the editor), the local
// server it loads only when asked to start one, and the chat webview's bundle for the browser.
const extensionOptions = {
  ...options,
  entryPoints: [
    { in: 'src/extension/extension.ts', out: 'extension' },
    { in: 'src/extension/local-server-bundle.ts', out: 'extension-server' },
    // The embedded store's worker thread, started from beside either server bundle (server-cli, extension-server).
    { in: 'src/server/store/sqlite-worker.ts', out: 'sqlite-worker' },
  ].filter((e) => existsSync(e.in)),
  external: [...options.external, 'vscode'],
  // What ships in the .vsix: minified (names kept for readable stack traces); the source maps stay out of it.
  minify: !watch,
  keepNames: true,
};
const webviewOptions = {
  entryPoints: [{ in: 'src/webview/ui/main.ts', out: 'webview' }].filter((e) => existsSync(e.in)),
  outdir: 'dist',
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  minify: !watch,
  sourcemap: true,
  logLevel: 'info',
};

// The embedded database is WebAssembly loaded from next to the script that runs it.
mkdirSync('dist', { recursive: true });
const wasm = join(dirname(require.resolve('node-sqlite3-wasm')), 'node-sqlite3-wasm.wasm');
copyFileSync(wasm, 'dist/node-sqlite3-wasm.wasm');

// The codicon font for the webview, served from the extension's own files.
mkdirSync('dist/codicons', { recursive: true });
const codicons = join(dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
for (const file of ['codicon.css', 'codicon.ttf']) copyFileSync(join(codicons, file), join('dist/codicons', file));

const all = [options, extensionOptions, webviewOptions].filter((o) => o.entryPoints.length > 0);
if (watch) {
  for (const o of all) await (await context(o)).watch();
} else {
  await Promise.all(all.map((o) => build(o)));
}
