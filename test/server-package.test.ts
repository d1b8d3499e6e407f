import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { canRequire, requiredModules } from './helpers/bundles';
import { Program, WAIT_MS } from './helpers/processes';
import { readTarGz, type TarEntry } from './helpers/tar';

// The npm package `parley` as `npm run pack:server` makes it (the same two scripts, built into a folder of the test's
// own so that no other test's build of dist/ can change a file while it is packed), then installed into empty folders
// with npm's cache empty and --offline: nothing may come from the registry. The programs run through npx on the Node
// that runs this test (scripts/test-node-lines.mjs runs it on every Node line the package declares).

const KiB = 1024;
/** 966 KiB when this was written (a third of it the SQLite WebAssembly). */
const MAX_PACKED_BYTES = 2048 * KiB;

const PACKAGE_FILES = [
  'package/package.json',
  'package/README.md',
  'package/LICENSE',
  'package/dist/server-cli.js',
  'package/dist/cli.js',
  'package/dist/sqlite-worker.js',
  'package/dist/node-sqlite3-wasm.wasm',
  'package/dist/peer-listener.js',
  'package/dist/socket-io-client.js',
];

/** npm and the programs it starts find this test's Node first; nothing of an outer `npm test` (npm_config_*) leaks in. */
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'INIT_CWD' && key !== 'NODE')),
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
  npm_config_update_notifier: 'false',
};

function run(command: string, args: string[], cwd = '.'): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} failed (${result.error?.message ?? result.status}):\n${result.stdout}\n${result.stderr}`,
  );
  return result;
}

/** A program of the installed package through npx, in a process group of its own (npx starts it as a child). */
function npx(t: TestContext, app: string, bin: string, ...args: string[]): Program {
  const program = new Program({ command: 'npx', args: ['--no', '--', bin, ...args], cwd: app, env, detached: true });
  t.after(() => program.kill());
  return program;
}

describe('the npm package (parley-<version>.tgz)', () => {
  let dir: string;
  let tgz: string;
  let entries: TarEntry[];
  const text = (name: string): string => {
    const entry = entries.find((e) => e.name === name);
    assert.ok(entry, `${name} is in the package`);
    return entry.data.toString('utf8');
  };
  /** Installs the package into `cwd` as `npm install ./parley-*.tgz` does, with `more` npm arguments, offline. */
  const install = (cwd: string, ...more: string[]): void => {
    mkdirSync(cwd, { recursive: true });
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(dir, 'npm-cache'), ...more, tgz], cwd);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-npm-'));
    run(process.execPath, ['scripts/build.mjs', '--outdir', join(dir, 'dist')]);
    run(process.execPath, ['scripts/pack-server.mjs', '--dist', join(dir, 'dist'), '--out', join(dir, 'out')]);
    const packed = readdirSync(join(dir, 'out'));
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.deepEqual(packed, [`parley-${version}.tgz`]);
    tgz = join(dir, 'out', packed[0]!);
    entries = readTarGz(readFileSync(tgz));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('holds the two programs, what they load, the readme and the licence, and nothing else', () => {
    assert.deepEqual(entries.map((e) => e.name).sort(), [...PACKAGE_FILES].sort());
    for (const entry of entries) assert.ok(entry.data.length > 0, `${entry.name} is not empty`);
    assert.match(text('package/README.md'), /^# Parley\n/);
    assert.match(text('package/LICENSE'), /^MIT License/);
    assert.ok(readFileSync(tgz).length < MAX_PACKED_BYTES, `${(readFileSync(tgz).length / KiB).toFixed(0)} KiB`);
  });

  test('its manifest: the two programs, the maintained Node lines, no dependencies and no install scripts', () => {
    const manifest = JSON.parse(text('package/package.json')) as Record<string, unknown>;
    const root = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, unknown>;
    assert.deepEqual([manifest.name, manifest.version, manifest.license], ['parley', root.version, root.license]);
    assert.deepEqual(manifest.bin, { 'parley-server': 'dist/server-cli.js', parley: 'dist/cli.js' });
    for (const bin of ['package/dist/server-cli.js', 'package/dist/cli.js']) assert.match(text(bin), /^#!\/usr\/bin\/env node\n/, bin);
    // CommonJS bundles: a "type": "module" would make Node read them as ES modules.
    for (const key of ['dependencies', 'optionalDependencies', 'peerDependencies', 'scripts', 'type', 'main', 'private']) {
      assert.equal(manifest[key], undefined, `no ${key}`);
    }
    // Even lines only (the LTS ones), none past its end of life: Node 20's ended in April 2026.
    const lines = String((manifest.engines as { node?: string } | undefined)?.node).split(' || ');
    assert.ok(lines.length > 0);
    for (const line of lines) {
      const major = Number(/^\^(\d+)\.0\.0$/.exec(line)?.[1]);
      assert.ok(major >= 22 && major % 2 === 0, `"${line}" is a maintained LTS line`);
    }
  });

  test('every bundle runs from the package alone: it requires only Node’s modules and the bundles beside it', () => {
    const beside = (file: string): boolean => entries.some((e) => e.name === `package/dist/${file}`);
    for (const entry of entries.filter((e) => e.name.endsWith('.js'))) {
      const required = requiredModules(entry.data.toString('utf8'));
      assert.ok(required.length > 0, `${entry.name}: the search for require() finds something`);
      for (const name of required) assert.ok(canRequire(name, beside), `${entry.name} requires "${name}", which is not in the package`);
    }
  });

  test('installs in an empty folder without the registry, and npx parley-server serves what npx parley signs in to', async (t) => {
    const app = join(dir, 'app');
    install(app);
    assert.equal(run('sh', ['-c', 'node --version']).stdout.trim(), process.version, 'the programs run on this Node');

    const help = npx(t, app, 'parley', '--help');
    assert.equal(await help.exitCode(), 0, help.stderr);
    assert.match(help.stdout, /parley HOST PORT/);

    const data = join(dir, 'data');
    const add = npx(t, app, 'parley-server', 'users', 'add', 'alice', '--data', data);
    add.write('alice-pw');
    add.end();
    assert.equal(await add.exitCode(WAIT_MS * 2), 0, add.stderr);
    assert.match(add.stdout, /Added alice\./);

    const server = npx(t, app, 'parley-server', '0', '--data', data);
    const [, port] = await server.waitFor(/^\s+http:\/\/127\.0\.0\.1:(\d+)$/m, WAIT_MS * 2);

    const client = npx(t, app, 'parley', '127.0.0.1', port!);
    client.write('alice', 'alice-pw');
    await client.waitFor(/Welcome to Parley, alice!/, WAIT_MS * 2);
    client.write('whoelse');
    await client.waitFor(/^Nobody else is online\.$/m);
    client.write('logout');
    assert.equal(await client.exitCode(), 0, client.stderr);

    server.kill('SIGTERM');
    await server.exitCode();
    assert.doesNotMatch(server.stderr, /Error|ERR_/, 'the server ran and stopped cleanly');
  });

  test('deploy/parley.service passes systemd-analyze verify against the installed package, hardened', (t) => {
    if (spawnSync('systemd-analyze', ['--version']).error) {
      if (process.env.CI) assert.fail('systemd-analyze is missing, and CI must run this test: install systemd');
      t.skip('systemd-analyze is not installed (Debian: apt-get install systemd); CI fails here instead');
      return;
    }
    // As `sudo npm install -g` lays it out, under a prefix of the test's own instead of /usr/local.
    const prefix = join(dir, 'prefix');
    install(prefix, '--global', '--prefix', prefix);
    const execStart = 'ExecStart=/usr/local/bin/parley-server --config /etc/parley/parley.toml';
    const unit = readFileSync('deploy/parley.service', 'utf8');
    assert.ok(unit.split('\n').includes(execStart), `the unit says ${execStart}`);
    const units = join(dir, 'units');
    mkdirSync(units);
    writeFileSync(join(units, 'parley.service'), unit.replace(execStart, execStart.replace('/usr/local', prefix)));

    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', join(units, 'parley.service')], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', 'no warnings');

    const security = run('systemd-analyze', ['security', '--offline=yes', join(units, 'parley.service')]).stdout;
    const exposure = Number(/Overall exposure level for parley\.service: ([\d.]+)/.exec(security)?.[1]);
    assert.ok(exposure <= 2, `exposure ${exposure} (systemd's scale: 0 best, 10 worst):\n${security}`);
  });
});
