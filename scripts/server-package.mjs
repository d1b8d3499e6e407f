// What the npm package `parley` (the standalone message center and the terminal client) holds and declares.
// scripts/pack-server.mjs packs it; scripts/test-node-lines.mjs tests it on every Node line it declares.

/**
 * The Node release lines the package supports: the maintained LTS lines (nodejs.org's release schedule).
 * The extension's local server runs on VS Code's own Node instead (README, "Parley in VS Code").
 */
export const NODE_LINES = [22, 24, 26];

/**
 * The built files (in dist/) that the two programs load: their bundles, the store's worker and its WebAssembly,
 * and the bundles that cli.js requires from beside it. Not the source maps: the bundles are not minified.
 */
export const SERVER_FILES = [
  'server-cli.js',
  'cli.js',
  'sqlite-worker.js',
  'node-sqlite3-wasm.wasm',
  'peer-listener.js',
  'socket-io-client.js',
];

/**
 * The package's manifest, from the root one (the extension's): its name, version and licence, the two programs,
 * and no dependencies, since esbuild bundles every package the programs use (the package test checks that what
 * the bundles require is Node's own or beside them).
 */
export function serverManifest(root) {
  return {
    name: root.name,
    version: root.version,
    description: "Parley's self-hosted message center (parley-server) and its terminal client (parley).",
    license: root.license,
    keywords: ['chat', 'team', 'self-hosted', 'messaging', 'server', 'terminal', 'socket.io'],
    bin: { 'parley-server': 'dist/server-cli.js', parley: 'dist/cli.js' },
    engines: { node: NODE_LINES.map((line) => `^${line}.0.0`).join(' || ') },
  };
}
