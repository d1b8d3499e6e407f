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

// The embedded database is WebAssembly loaded from next to the script that runs it.
mkdirSync('dist', { recursive: true });
const wasm = join(dirname(require.resolve('node-sqlite3-wasm')), 'node-sqlite3-wasm.wasm');
copyFileSync(wasm, 'dist/node-sqlite3-wasm.wasm');

if (watch) {
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
}
