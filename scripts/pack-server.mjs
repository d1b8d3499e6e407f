#!/usr/bin/env node
// Packs the npm package `parley`: the standalone message center (parley-server) and the terminal client (parley),
// built. `npm run pack:server` builds, then this writes parley-<version>.tgz (install: npm install ./parley-*.tgz).
// Usage: node scripts/pack-server.mjs [--dist DIR] [--out DIR]   (defaults: the bundles in dist/, the package here)
//
// The package is packed from a staging folder with a package.json of its own, not from the root: the root
// package.json is the extension's manifest, which vsce reads, and a `files` list there would change what vsce
// accepts too; its dependencies are the build's (the bundles hold them all) and would all be installed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVER_FILES, serverManifest } from './server-package.mjs';

/** The folder given with `flag`, or `fallback`. */
function folder(flag, fallback) {
  const at = process.argv.indexOf(flag);
  if (at < 0) return resolve(fallback);
  if (!process.argv[at + 1]) {
    console.error(`${flag} needs a folder.`);
    process.exit(1);
  }
  return resolve(process.argv[at + 1]);
}
const dist = folder('--dist', 'dist');
const out = folder('--out', '.');
for (const file of SERVER_FILES) {
  if (!existsSync(join(dist, file))) {
    console.error(`${join(dist, file)} is missing: run npm run build first.`);
    process.exit(1);
  }
}

const staging = mkdtempSync(join(tmpdir(), 'parley-package-'));
try {
  mkdirSync(join(staging, 'dist'));
  for (const file of SERVER_FILES) copyFileSync(join(dist, file), join(staging, 'dist', file));
  for (const file of ['README.md', 'LICENSE']) copyFileSync(file, join(staging, file));
  const manifest = serverManifest(JSON.parse(readFileSync('package.json', 'utf8')));
  writeFileSync(join(staging, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  mkdirSync(out, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['pack', '--json', '--pack-destination', out], {
    cwd: staging,
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    console.error(`npm pack failed:\n${result.stdout}\n${result.stderr}`);
    process.exit(1);
  }
  const [{ filename, size, unpackedSize }] = JSON.parse(result.stdout);
  console.log(`${join(out, filename)}: ${(size / 1024).toFixed(0)} KiB (${(unpackedSize / 1024).toFixed(0)} KiB unpacked).`);
  console.log(`Install with: npm install ${join(out, filename)}   (then npx parley-server, npx parley)`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
