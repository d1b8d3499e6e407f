// How the programs are bundled for Node (scripts/build.mjs). The bench's reference extensions are bundled as
// Parley's extension is, so that their activation compares with its.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Modules only the standalone server loads, with import(), for what the editor's local server never does
 * (metrics, cluster mode on PostgreSQL): in the extension's bundles each is a module that throws, so that neither it nor the packages it
 * brings (prom-client) are in them. test/extension-activation.test.ts checks.
 */
export const SERVER_ONLY = [
  'src/server/metrics.ts',
  'src/server/store/pg-store.ts',
  'src/server/cluster/pg-cluster.ts',
  'src/server/cluster/node-receiver.ts',
];

const serverOnly = {
  name: 'server-only',
  setup(build) {
    const modules = new Set(SERVER_ONLY.map((file) => resolve(ROOT, file)));
    build.onResolve({ filter: /^\./ }, (args) =>
      args.kind === 'dynamic-import' && modules.has(`${resolve(args.resolveDir, args.path)}.ts`)
        ? { path: args.path, namespace: 'server-only' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'server-only' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the editor's local server`)});`,
      loader: 'js',
    }));
  },
};

/**
 * pg reaches for its optional native binding (pg-native) only when asked for `pg.native`, which Parley never is:
 * the bundles hold a module that says so instead of a require of a package they do not carry.
 */
const noPgNative = {
  name: 'no-pg-native',
  setup(build) {
    build.onResolve({ filter: /^pg-native$/ }, () => ({ path: 'pg-native', namespace: 'absent' }));
    build.onLoad({ filter: /.*/, namespace: 'absent' }, () => ({
      contents: 'throw new Error("pg-native is not bundled: Parley uses pg\'s JavaScript client");',
      loader: 'js',
    }));
  },
};

export const nodeBundle = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // socket.io's optional native helpers: ws falls back to plain JavaScript without them.
  external: ['bufferutil', 'utf-8-validate'],
  // Lowers import() to require(): the deferred bundles are CommonJS, and so is the extension host's loader.
  supported: { 'dynamic-import': false },
  plugins: [noPgNative],
};

export const extensionBundle = {
  ...nodeBundle,
  // Provided by the editor.
  external: [...nodeBundle.external, 'vscode'],
  // What ships in the .vsix: minified (names kept for readable stack traces); the source maps stay out of it.
  minify: true,
  keepNames: true,
  plugins: [serverOnly],
};
