import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/**
 * The layers (docs/architecture.md): which folders of src/ each folder may import. A folder not listed for a
 * layer is off limits to it, and so are bench/ and test/ for all of src/.
 */
const FOLDERS = ['protocol', 'tty', 'server', 'client', 'cli', 'view-protocol', 'extension', 'webview'];
const MAY_IMPORT = {
  protocol: [],
  tty: [],
  server: ['protocol', 'tty'],
  client: ['protocol'],
  cli: ['protocol', 'client', 'tty'],
  'view-protocol': ['protocol'],
  // And src/server only through extension/local-server-bundle.ts, below.
  extension: ['protocol', 'client', 'view-protocol'],
  webview: ['protocol', 'view-protocol'],
};

function layer(folder) {
  const banned = FOLDERS.filter((f) => f !== folder && !MAY_IMPORT[folder].includes(f));
  const patterns = [
    ...banned.map((f) => ({ group: [`**/${f}`, `**/${f}/**`], message: `src/${folder} may not import src/${f} (docs/architecture.md).` })),
    { group: ['**/bench/**', '**/test/**'], message: 'src/ may not import the bench or the tests.' },
  ];
  const paths = folder === 'extension' ? [] : [{ name: 'vscode', message: 'Only src/extension may import vscode.' }];
  if (folder === 'webview' || folder === 'view-protocol') {
    // Browser code: no Node module at all.
    patterns.push({ group: ['node:*'], message: 'The webview runs in a browser: no Node modules.' });
    paths.push(...builtinModules.map((name) => ({ name, message: 'The webview runs in a browser: no Node modules.' })));
  }
  return { files: [`src/${folder}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', '.vscode-test/', '.bench/', '.test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  ...FOLDERS.map(layer),
  {
    // The extension's one door into the server: bundled apart and loaded only when a local server starts.
    files: ['src/extension/local-server-bundle.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // A plain CommonJS extension, loaded by VS Code as it is (the bench's activation baseline).
    files: ['bench/baseline-extension/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', exports: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
