import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build } from 'esbuild';
import { extensionBundle, nodeBundle } from '../scripts/bundle-options.mjs';

/** Packages only the standalone server uses: the extension (and the local server inside it) must never carry them. */
const SERVER_ONLY = ['node_modules/smol-toml/', 'node_modules/prom-client/', 'node_modules/pg/'];

/** The extension's bundles (scripts/build.mjs): its activation, the extension behind it, its local server and store thread. */
const EXTENSION_ENTRIES = [
  'src/extension/extension.ts',
  'src/extension/host/parley-extension.ts',
  'src/extension/local-server-bundle.ts',
  'src/server/store/sqlite-worker.ts',
];

async function inputs(entry: string, options: object): Promise<string[]> {
  const result = await build({ ...options, entryPoints: [entry], write: false, metafile: true, minify: false, logLevel: 'silent' });
  return Object.keys(result.metafile.inputs);
}

describe('server-only dependencies', () => {
  test('are in parley-server', async () => {
    const files = await inputs('src/server/main.ts', nodeBundle);
    for (const prefix of SERVER_ONLY)
      assert.ok(
        files.some((f) => f.startsWith(prefix)),
        `${prefix} is in dist/server-cli.js`,
      );
  });

  test('are in none of the extension’s bundles', async () => {
    for (const entry of EXTENSION_ENTRIES) {
      const files = await inputs(entry, extensionBundle);
      assert.deepEqual(
        files.filter((f) => SERVER_ONLY.some((prefix) => f.startsWith(prefix))),
        [],
        `${entry} bundles a server-only package`,
      );
    }
  });
});
