#!/usr/bin/env node
// Bundles each program into dist/ with esbuild. Usage: node scripts/build.mjs [--watch] [--outdir DIR]
// (--outdir: another folder than dist/, for a test that must not race another test's build of dist/)
import { build, context } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { extensionBundle, nodeBundle } from './bundle-options.mjs';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const outdirFlag = process.argv.indexOf('--outdir');
const outdir = outdirFlag >= 0 ? process.argv[outdirFlag + 1] : 'dist';
if (!outdir) throw new Error('--outdir needs a folder');

/**
 * Code the extension loads only when it is needed, each bundled apart so that loading a bundle that uses it
 * does not parse it: a module that is `import()`ed, or a package imported only by code that is itself
 * `import()`ed. Either becomes `require('./<out>.js')`, beside the bundle that asks for it. None may hold a
 * class that its importers also hold (an `instanceof` across two bundles fails).
 */
const DEFERRED = [
  // Private chat's listener (Socket.IO's server), imported at the first sign-in.
  { in: 'src/client/peer-listener.ts', out: 'peer-listener' },
  // Socket.IO's client: the connection stack (src/extension/core/connection-stack.ts) is imported at the first connect.
  { in: 'socket.io-client', out: 'socket-io-client' },
];

const deferredBundles = {
  name: 'deferred-bundles',
  setup(build) {
    const modules = new Map(DEFERRED.map((d) => [resolve(d.in), d.out]));
    const packages = new Map(DEFERRED.map((d) => [d.in, d.out]));
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const out =
        packages.get(args.path) ??
        (args.kind === 'dynamic-import' && args.path.startsWith('.') && modules.get(`${resolve(args.resolveDir, args.path)}.ts`));
      return out ? { path: `./${out}.js`, external: true } : undefined;
    });
  },
};

const entries = [
  { in: 'src/server/main.ts', out: 'server-cli' },
  { in: 'src/cli/main.ts', out: 'cli' },
].filter((e) => existsSync(e.in));

const options = {
  ...nodeBundle,
  entryPoints: entries,
  outdir,
  sourcemap: true,
  logLevel: 'info',
  plugins: [deferredBundles, ...nodeBundle.plugins],
};

// The VS Code extension: the extension host's bundle, the local server it loads only when asked to start
// one, the modules it defers, and the chat webview's bundle for the browser.
const extensionOptions = {
  ...options,
  ...extensionBundle,
  plugins: [...options.plugins, ...extensionBundle.plugins],
  entryPoints: [
    // The activation entry, and the extension it loads at the first view or command.
    { in: 'src/extension/extension.ts', out: 'extension' },
    { in: 'src/extension/host/parley-extension.ts', out: 'extension-main' },
    { in: 'src/extension/local-server-bundle.ts', out: 'extension-server' },
    // The embedded store's worker thread, started from beside either server bundle (server-cli, extension-server).
    { in: 'src/server/store/sqlite-worker.ts', out: 'sqlite-worker' },
  ]
    .filter((e) => existsSync(e.in))
    // Also required by dist/cli.js, beside it.
    .concat(DEFERRED),
  minify: !watch,
};
const webviewOptions = {
  entryPoints: [{ in: 'src/webview/ui/main.ts', out: 'webview' }].filter((e) => existsSync(e.in)),
  outdir,
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  minify: !watch,
  sourcemap: true,
  logLevel: 'info',
};

// The embedded database is WebAssembly loaded from next to the script that runs it.
mkdirSync(outdir, { recursive: true });
const wasm = join(dirname(require.resolve('node-sqlite3-wasm')), 'node-sqlite3-wasm.wasm');
copyFileSync(wasm, join(outdir, 'node-sqlite3-wasm.wasm'));

// The codicon font for the webview, served from the extension's own files.
mkdirSync(join(outdir, 'codicons'), { recursive: true });
const codicons = join(dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
for (const file of ['codicon.css', 'codicon.ttf']) copyFileSync(join(codicons, file), join(outdir, 'codicons', file));

const all = [options, extensionOptions, webviewOptions].filter((o) => o.entryPoints.length > 0);
if (watch) {
  for (const o of all) await (await context(o)).watch();
} else {
  await Promise.all(all.map((o) => build(o)));
}
