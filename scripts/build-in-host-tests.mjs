#!/usr/bin/env node
// Builds the test-only extension that runs the in-host suites (test/vscode/in-host/) into the git-ignored
// .test-artifacts/in-host/extension/ and, with --vsix, packages it there for code-server. Never part of the
// product's vsix. Usage: node scripts/build-in-host-tests.mjs [--vsix]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'test', 'vscode', 'in-host');
const target = join(root, '.test-artifacts', 'in-host', 'extension');
mkdirSync(join(target, 'out'), { recursive: true });
for (const file of ['package.json', 'README.md', '.vscodeignore']) copyFileSync(join(source, 'extension', file), join(target, file));

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' };
await build({ ...common, entryPoints: [join(source, 'runner.ts')], outfile: join(target, 'out', 'runner.js'), external: ['vscode'] });
// mocha stays out of the suites: they use the globals of whichever mocha loads them (ours, or @vscode/test-cli's).
await build({
  ...common,
  entryPoints: [join(source, 'suites.ts')],
  outfile: join(target, 'out', 'suites.js'),
  external: ['vscode', 'mocha'],
});

if (process.argv.includes('--vsix')) {
  const vsce = join(root, 'node_modules', '.bin', 'vsce');
  const out = join(root, '.test-artifacts', 'in-host', 'parley-in-host-tests.vsix');
  const args = ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out];
  const result = spawnSync(vsce, args, { cwd: target, encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    process.exit(result.status ?? 1);
  }
}
