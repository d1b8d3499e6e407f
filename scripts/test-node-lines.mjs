#!/usr/bin/env node
// CI, after the main suite: the tests of the standalone server and the terminal client (and of their npm package) on
// every Node line that package declares (NODE_LINES). Each line's Node comes from the npm registry, as the real-VS-Code
// setup takes its own (the node-<platform>-<arch> package: the binary alone, no install script), installed once into
// .cache/node/<line>/ (git-ignored); npm itself stays the machine's, run by that Node.
// Usage: node scripts/test-node-lines.mjs [line ...]   (default: every declared line)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { NODE_LINES } from './server-package.mjs';

/** run-tests.mjs filters: test/server-*, test/cli*, test/private-* (not test/client-*; the package's own test is a server-* one). */
const SUITES = ['test/server-', 'test/cli-', 'test/cli.test', 'test/private-'];

const lines = process.argv.length > 2 ? process.argv.slice(2).map(Number) : NODE_LINES;
const say = (line) => console.log(`[test-node-lines] ${line}`);
// What an outer `npm run` exported (npm_*, NODE) would point npm and the tests at another Node or prefix.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE' && key !== 'INIT_CWD'));

/** The bin folder of Node `line`, installed from the registry unless it is there already. */
function nodeBin(line) {
  const dir = resolve('.cache', 'node', String(line));
  const pkg = `node-${process.platform}-${process.arch}`;
  const bin = join(dir, 'node_modules', pkg, 'bin');
  if (!existsSync(join(bin, 'node'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    say(`installing ${pkg}@^${line}.0.0 into ${dir}`);
    const npm = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', `${pkg}@^${line}.0.0`], {
      cwd: dir,
      env,
      stdio: 'inherit',
    });
    if (npm.status !== 0) throw new Error(`npm install ${pkg}@^${line}.0.0 failed`);
  }
  return bin;
}

const failed = [];
for (const line of lines) {
  if (!NODE_LINES.includes(line)) throw new Error(`Node ${line} is not a line the package declares (${NODE_LINES.join(', ')})`);
  const bin = nodeBin(line);
  const started = Date.now();
  const version = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  say(`Node ${version}: ${SUITES.join('*, ')}*`);
  const result = spawnSync(join(bin, 'node'), ['scripts/run-tests.mjs', ...SUITES], {
    env: { ...env, PATH: `${bin}${delimiter}${env.PATH ?? ''}` },
    stdio: 'inherit',
  });
  say(`Node ${version}: ${result.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (result.status !== 0) failed.push(version);
}
if (failed.length) {
  say(`failed on ${failed.join(', ')}`);
  process.exit(1);
}
