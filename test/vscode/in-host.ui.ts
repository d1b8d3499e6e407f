// The in-host suites (in-host/suites.ts: mocha inside the extension host, against the real vscode API and the
// installed Parley's test API) run in code-server through the test-only extension, which writes its results to
// a file; this reports them. Run with `npm run test:vscode`; desktop VS Code runs the same suites with
// `npm run test:electron` (.vscode-test.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/server';
import { ARTIFACTS, ROOT, VsCode } from './harness';
import type { InHostResults } from './in-host/runner';

describe('in-host suites in a real VS Code (code-server)', { timeout: 300_000 }, () => {
  const results = join(ARTIFACTS, 'in-host-results.json');
  let vscode: VsCode;

  before(async () => {
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-in-host-tests.mjs'), '--vsix'], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`building the in-host tests failed: ${built.stdout}\n${built.stderr}`);
    rmSync(results, { force: true });
    vscode = await VsCode.launch({
      name: 'in-host',
      extraVsix: [join(ROOT, '.test-artifacts', 'in-host', 'parley-in-host-tests.vsix')],
      env: { PARLEY_IN_HOST_RESULTS: results },
    });
  });

  after(async () => {
    await vscode?.close();
  });

  it('every in-host test passes', async () => {
    // The suites start once the workbench has started the extension host; the file appears when they end.
    await eventually(() => existsSync(results), 180_000, `${results}`);
    const outcome = JSON.parse(readFileSync(results, 'utf8')) as InHostResults;
    await vscode.screenshot('after-in-host-suites');
    const failures = outcome.failed.map((f) => `${f.title}\n${f.error}`).join('\n\n');
    assert.equal(outcome.failed.length, 0, failures);
    assert.ok(outcome.passed.length >= 4, `passed: ${JSON.stringify(outcome.passed)}`);
  });
});
