// How the programs are bundled for Node (scripts/build.mjs). The bench's reference extensions are bundled as
// Parley's extension is, so that their activation compares with its.

export const nodeBundle = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // socket.io's optional native helpers: ws falls back to plain JavaScript without them.
  external: ['bufferutil', 'utf-8-validate'],
  // Lowers import() to require(): the deferred bundles are CommonJS, and so is the extension host's loader.
  supported: { 'dynamic-import': false },
};

export const extensionBundle = {
  ...nodeBundle,
  // Provided by the editor.
  external: [...nodeBundle.external, 'vscode'],
  // What ships in the .vsix: minified (names kept for readable stack traces); the source maps stay out of it.
  minify: true,
  keepNames: true,
};
