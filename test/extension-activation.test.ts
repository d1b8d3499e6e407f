import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, type Metafile } from 'esbuild';
import { SERVER_ONLY, extensionBundle } from '../scripts/bundle-options.mjs';
import { isUsername } from '../src/protocol/limits';
import { usernameSchema } from '../src/protocol/schemas';

// What VS Code loads when it activates Parley, and what the first view or command loads: the modules a bundle
// evaluates at load are those its entry reaches through static imports; what only an import() reaches is
// evaluated when that import() runs. esbuild's metafile lists both kinds of edge.

/** dist/extension.js, what VS Code loads to activate Parley. */
const ENTRY = 'src/extension/extension.ts';
/** All that the entry holds: it registers stand-ins for the views and commands. */
const AT_ACTIVATION = [ENTRY, 'src/extension/host/stand-ins.ts', 'src/extension/core/view-ids.ts'];
/** dist/extension-main.js, loaded by the first view shown or command run. */
const MAIN = 'src/extension/host/parley-extension.ts';

/** dist/extension-server.js, the editor's local server. */
const LOCAL_SERVER = 'src/extension/local-server-bundle.ts';
/** The standalone server's own packages, which no bundle of the extension may hold (see SERVER_ONLY). */
const SERVER_ONLY_PACKAGES = ['node_modules/prom-client/'];

/** Loaded at the first sign-in or private chat, never by the first view. */
const DEFERRED = [
  'node_modules/socket.io-client/',
  'node_modules/engine.io-client/',
  'node_modules/socket.io/',
  'node_modules/zod/v4/classic/',
  'src/protocol/schemas.ts',
  'src/protocol/private.ts',
  'src/client/parley-client.ts',
  'src/client/private-channels.ts',
  'src/client/private-crypto.ts',
  'src/client/peer-listener.ts',
];

async function metafile(entry: string): Promise<Metafile> {
  const result = await build({ ...extensionBundle, entryPoints: [entry], write: false, metafile: true, minify: false, logLevel: 'silent' });
  return result.metafile;
}

function reached(meta: Metafile, entry: string, follow: (kind: string) => boolean): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const edge of meta.inputs[file]?.imports ?? []) if (!edge.external && follow(edge.kind)) stack.push(edge.path);
  }
  return seen;
}

describe('what activation loads', () => {
  test('the stand-ins for the views and commands, and nothing of the extension behind them', async () => {
    const meta = await metafile(ENTRY);
    assert.deepEqual(Object.keys(meta.inputs).sort(), [...AT_ACTIVATION].sort());
  });

  test('the first view’s code, without Socket.IO, zod’s schemas or private chat, which are loaded when used', async () => {
    const meta = await metafile(MAIN);
    const atLoad = reached(meta, MAIN, (kind) => kind !== 'dynamic-import');
    const atAll = reached(meta, MAIN, () => true);
    for (const needed of [MAIN, 'src/extension/core/chat-session.ts', 'src/view-protocol/messages.ts'])
      assert.ok(atLoad.has(needed), `${needed} is loaded by the first view`);
    for (const prefix of DEFERRED) {
      assert.ok(
        [...atAll].some((f) => f.startsWith(prefix)),
        `${prefix} is in the extension at all`,
      );
      const eager = [...atLoad].filter((f) => f.startsWith(prefix));
      assert.deepEqual(eager, [], `${prefix} is loaded by the first view`);
    }
  });

  test('the local server, without the standalone server’s own modules and packages (metrics)', async () => {
    const meta = await metafile(LOCAL_SERVER);
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.includes('src/server/server.ts'), 'the bundle holds the server');
    for (const prefix of [...SERVER_ONLY, ...SERVER_ONLY_PACKAGES]) {
      assert.deepEqual(
        inputs.filter((f) => f.startsWith(prefix)),
        [],
        `${prefix} is in the extension`,
      );
    }
  });

  test('the username check the editor makes without zod is usernameSchema’s rule', () => {
    const names = ['alice', 'a', 'A.b_c-9', 'x'.repeat(32), 'x'.repeat(33), '', ' alice', 'al ice', 'ali/ce', 'é', 'alice\n', '.', '-'];
    for (const name of names) assert.equal(isUsername(name), usernameSchema.safeParse(name).success, JSON.stringify(name));
  });
});

describe('what the extension bundles', () => {
  /** The PostgreSQL client and its parts, which only a server of a cluster loads. */
  const POSTGRES_CLIENT = /^node_modules\/(pg|pg-[a-z-]+|pgpass)\//;

  test('the PostgreSQL client is in none of its bundles, though a bundle of the PostgreSQL store would hold it', async () => {
    const withIt = await metafile('src/server/store/pg-store.ts');
    assert.ok(
      Object.keys(withIt.inputs).some((f) => POSTGRES_CLIENT.test(f)),
      'the check finds pg where it is',
    );
    for (const entry of [ENTRY, MAIN, 'src/extension/local-server-bundle.ts', 'src/server/store/sqlite-worker.ts']) {
      const inputs = Object.keys((await metafile(entry)).inputs);
      assert.deepEqual(
        inputs.filter((f) => POSTGRES_CLIENT.test(f)),
        [],
        `${entry} bundles the PostgreSQL client`,
      );
    }
  });
});
