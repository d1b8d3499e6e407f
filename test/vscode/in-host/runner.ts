// The test-only extension's entry (bundled with mocha into out/runner.js by scripts/build-in-host-tests.mjs): runs the in-host suites
// (out/suites.js beside it) inside the extension host, against the real vscode API and the installed Parley.
// Under code-server it runs on activation when PARLEY_IN_HOST_RESULTS names a file (code-server passes its
// environment on to the extension host) and writes the results there for the harness (in-host.ui.ts).
// Desktop VS Code runs the same suites.js through @vscode/test-cli instead (.vscode-test.mjs).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The few shapes of mocha used here (its own types would declare describe/it globally for the whole project). */
interface MochaTest {
  fullTitle(): string;
}
interface MochaRunner {
  on(event: 'pass', fn: (test: MochaTest) => void): MochaRunner;
  on(event: 'fail', fn: (test: MochaTest, err: unknown) => void): MochaRunner;
}
type MochaConstructor = new (options: Record<string, unknown>) => {
  addFile(path: string): void;
  run(done: (failures: number) => void): MochaRunner;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports -- bundled by esbuild; typed by the interfaces above
const Mocha = require('mocha') as MochaConstructor;

export interface InHostResults {
  passed: string[];
  failed: { title: string; error: string }[];
}

export function runSuites(): Promise<InHostResults> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.addFile(join(__dirname, 'suites.js'));
  const results: InHostResults = { passed: [], failed: [] };
  return new Promise((resolve) => {
    mocha
      .run(() => resolve(results))
      .on('pass', (test) => results.passed.push(test.fullTitle()))
      .on('fail', (test, err) =>
        results.failed.push({ title: test.fullTitle(), error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
}

export function activate(): void {
  const file = process.env.PARLEY_IN_HOST_RESULTS;
  if (!file) return;
  void runSuites().then(
    (results) => writeFileSync(file, JSON.stringify(results, null, 2)),
    (err: unknown) => writeFileSync(file, JSON.stringify({ passed: [], failed: [{ title: 'running the suites', error: String(err) }] })),
  );
}

export function deactivate(): void {}
