import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canRequire, requiredModules } from './helpers/bundles';
import { readZipEntries, readZipEntry, type ZipEntry } from './helpers/zip';

// The .vsix as `npm run package` makes it (the same two scripts), written to a temporary directory.
// Building and packaging take a second or two, so the test makes a fresh one rather than trust an old file.

const KiB = 1024;
/** 932 KiB when this was written (most of it the SQLite WebAssembly); the bound leaves room to grow, not to bloat. */
const MAX_VSIX_BYTES = 2048 * KiB;
/** 2.6 MiB unpacked when this was written. */
const MAX_UNPACKED_BYTES = 4096 * KiB;

const REQUIRED = [
  'extension/package.json',
  'extension/readme.md',
  'extension/LICENSE.txt',
  'extension/changelog.md',
  'extension/media/icon.png',
  'extension/dist/extension.js',
  'extension/dist/extension-main.js',
  'extension/dist/extension-server.js',
  'extension/dist/peer-listener.js',
  'extension/dist/socket-io-client.js',
  'extension/dist/sqlite-worker.js',
  'extension/dist/webview.js',
  'extension/dist/node-sqlite3-wasm.wasm',
  'extension/dist/codicons/codicon.css',
  'extension/dist/codicons/codicon.ttf',
  'extension/media/chat.css',
  'extension/media/parley.svg',
  'extension/media/walkthrough/start.md',
  'extension/media/walkthrough/sign-in.md',
  'extension/media/walkthrough/hello.md',
];

function run(script: string, ...args: string[]): void {
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  assert.equal(result.status, 0, `${script} failed:\n${result.stdout}\n${result.stderr}`);
}

describe('the packaged extension (.vsix)', () => {
  let dir: string;
  let vsix: string;
  let zip: Buffer;
  let entries: ZipEntry[];
  const text = (name: string): string => {
    const entry = entries.find((e) => e.name === name);
    assert.ok(entry, `${name} is in the package`);
    return readZipEntry(zip, entry).toString('utf8');
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-vsix-'));
    vsix = join(dir, 'parley.vsix');
    run('scripts/build.mjs');
    run('scripts/package-extension.mjs', '--out', vsix);
    zip = readFileSync(vsix);
    entries = readZipEntries(zip);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('holds the bundles, the SQLite WebAssembly, the codicons, the media, the readme and the licence', () => {
    const names = entries.map((e) => e.name);
    for (const name of REQUIRED) assert.ok(names.includes(name), `${name} is in the package`);
    for (const entry of entries) assert.ok(entry.size > 0, `${entry.name} is not empty`);
    assert.match(text('extension/readme.md'), /^# Parley for VS Code/);
    assert.match(text('extension/LICENSE.txt'), /^MIT License/);
    const manifest = JSON.parse(text('extension/package.json')) as { main: string; version: string };
    const source = JSON.parse(readFileSync('package.json', 'utf8')) as { main: string; version: string };
    assert.deepEqual([manifest.main, manifest.version], [source.main, source.version]);
  });

  test('nothing else: no native modules, no node_modules, no sources, tests or source maps', () => {
    const allowed = new Set(['extension.vsixmanifest', '[Content_Types].xml', ...REQUIRED]);
    for (const { name } of entries) {
      assert.doesNotMatch(name, /\.node$|\.map$|(^|\/)(node_modules|src|test)\/|\.ts$/, name);
      assert.ok(allowed.has(name) || name.startsWith('extension/media/'), `${name} is not expected in the package`);
    }
  });

  test('every bundle runs from the package alone: it requires only Node’s modules, vscode and the bundles beside it', () => {
    for (const bundle of ['extension', 'extension-main', 'extension-server', 'sqlite-worker', 'peer-listener', 'socket-io-client']) {
      const required = requiredModules(text(`extension/dist/${bundle}.js`));
      assert.ok(required.length > 0, `${bundle}.js: the search for require() finds something`);
      const beside = (file: string): boolean => entries.some((e) => e.name === `extension/dist/${file}`);
      for (const name of required) {
        assert.ok(canRequire(name, beside, ['vscode']), `${bundle}.js requires "${name}", which is not in the package`);
      }
    }
    // The webview runs in a browser sandbox: no require at all.
    assert.doesNotMatch(text('extension/dist/webview.js'), /\brequire\(\s*["']/);
  });

  test('ready for the Marketplace and Open VSX: a 128x128 PNG icon, the licence, categories, keywords, a banner, a changelog', () => {
    const vsixManifest = text('extension.vsixmanifest');
    const element = (name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(vsixManifest)?.[1] ?? '';
    assert.equal(element('Icon'), 'extension/media/icon.png');
    assert.equal(element('License'), 'extension/LICENSE.txt');
    assert.ok(element('Categories').length > 0, 'categories');
    assert.ok(element('Tags').split(',').length >= 5, 'keywords');
    assert.match(vsixManifest, /Id="Microsoft\.VisualStudio\.Services\.Branding\.Color" Value="#[0-9a-f]{6}"/i);

    const entry = entries.find((e) => e.name === 'extension/media/icon.png')!;
    const png = readZipEntry(zip, entry);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.equal(png.toString('latin1', 12, 16), 'IHDR');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);

    const { version } = JSON.parse(text('extension/package.json')) as { version: string };
    assert.match(text('extension/changelog.md'), new RegExp(`^# Changelog\n[^]*^## ${version.replaceAll('.', '\\.')} `, 'm'));
  });

  test('a sensible size', () => {
    const size = statSync(vsix).size;
    assert.ok(size < MAX_VSIX_BYTES, `${(size / KiB).toFixed(0)} KiB`);
    const unpacked = entries.reduce((sum, e) => sum + e.size, 0);
    assert.ok(unpacked < MAX_UNPACKED_BYTES, `${(unpacked / KiB).toFixed(0)} KiB unpacked`);
  });
});
