/**
 * What loading an extension bundle costs outside VS Code: `require` of dist/extension.js (what activation loads)
 * and of dist/extension-main.js (what the first view or command loads) in a fresh Node process each, with a
 * stand-in `vscode` module, against the socket.io-client reference (bench/socket-io-extension, bundled as Parley
 * is) and an empty bundle, interleaved. Node's networking modules are loaded first, as the extension host
 * has them already. Prints the median wall and CPU time of the `require` (CPU varies less on a busy machine).
 * Usage: npm run build && node --import tsx bench/measure-extension-load.ts [runs, default 15] [more bundles...]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { extensionBundle } from '../scripts/bundle-options.mjs';
import { median } from './stats';

// Run with `node -e` in each child: argv[1] is the bundle. The stand-in answers every property and call with itself.
const LOADER = `
const Module = require('node:module');
for (const m of ['http', 'https', 'tls', 'net', 'crypto', 'zlib', 'events', 'stream', 'url', 'fs', 'os', 'path', 'util']) require(m);
const api = new Proxy(function () {}, { get: (_t, p) => (p === 'then' ? undefined : api), apply: () => api, construct: () => api });
const vscode = Object.fromEntries(['window', 'commands', 'workspace', 'env', 'Uri', 'Disposable', 'EventEmitter', 'TreeItem',
  'ThemeIcon', 'ThemeColor', 'Range', 'StatusBarAlignment', 'ConfigurationTarget', 'ViewColumn', 'TreeItemCollapsibleState',
  'ProgressLocation', 'FileType'].map((k) => [k, api]));
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? vscode : load.call(this, request, ...rest); };
const cpu = process.cpuUsage();
const t = performance.now();
require(process.argv[1]);
const wall = performance.now() - t;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ wall, cpu: (used.user + used.system) / 1000 }));
`;

async function main(runs: number, more: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-load-'));
  try {
    const socketIo = join(dir, 'socket-io.js');
    const empty = join(dir, 'empty.js');
    await build({ ...extensionBundle, entryPoints: ['bench/socket-io-extension/extension.ts'], outfile: socketIo, logLevel: 'silent' });
    writeFileSync(empty, 'exports.activate = () => {};\n');
    const bundles = [resolve('dist/extension.js'), resolve('dist/extension-main.js'), socketIo, empty, ...more.map((b) => resolve(b))];
    const times = new Map(bundles.map((b) => [b, { wall: [] as number[], cpu: [] as number[] }]));
    for (let i = 0; i < runs; i++)
      for (const bundle of bundles) {
        const { wall, cpu } = JSON.parse(execFileSync(process.execPath, ['-e', LOADER, bundle], { encoding: 'utf8' })) as {
          wall: number;
          cpu: number;
        };
        times.get(bundle)!.wall.push(wall);
        times.get(bundle)!.cpu.push(cpu);
      }
    console.log(`require() of each bundle, median of ${runs} fresh processes:`);
    for (const [bundle, { wall, cpu }] of times)
      console.log(
        `  ${bundle.startsWith(dir) ? bundle.slice(dir.length + 1) : bundle}: ${median(wall).toFixed(1)} ms wall, ${median(cpu).toFixed(1)} ms CPU`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(Number(process.argv[2] ?? 15), process.argv.slice(3)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
