import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

/** The layers of docs/architecture.md, as the linter (and so `npm test`) enforces them: real files' paths, real config. */
const eslint = new ESLint();

async function refused(file: string, from: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import '${from}';\n`, { filePath: file });
  return result!.messages.some((m) => m.ruleId === 'no-restricted-imports');
}

const cases: [file: string, from: string, allowed: boolean][] = [
  ['src/protocol/new.ts', '../server/server', false],
  ['src/protocol/new.ts', '../client/parley-client', false],
  ['src/protocol/new.ts', './limits', true],
  ['src/server/new.ts', 'vscode', false],
  ['src/server/new.ts', '../cli/format', false],
  ['src/server/new.ts', '../client/parley-client', false],
  ['src/server/new.ts', '../webview/completion', false],
  ['src/server/new.ts', '../protocol', true],
  ['src/server/new.ts', '../tty/line-input', true],
  ['src/client/new.ts', '../server/log', false],
  ['src/client/new.ts', '../cli/format', false],
  ['src/cli/new.ts', '../server/server', false],
  ['src/cli/new.ts', '../client/parley-client', true],
  ['src/extension/core/new.ts', '../../server/server', false],
  ['src/extension/core/new.ts', '../../cli/format', false],
  ['src/extension/core/new.ts', '../../webview/completion', false],
  ['src/extension/core/new.ts', '../local-server-bundle', true],
  ['src/extension/core/new.ts', '../../view-protocol', true],
  ['src/extension/local-server-bundle.ts', '../server/server', true],
  ['src/webview/ui/new.ts', 'node:fs', false],
  ['src/webview/ui/new.ts', 'fs', false],
  ['src/webview/ui/new.ts', 'vscode', false],
  ['src/webview/ui/new.ts', '../../extension/core/chat-state', false],
  ['src/webview/ui/new.ts', '../../view-protocol', true],
  ['src/view-protocol/new.ts', '../webview/completion', false],
  ['src/view-protocol/new.ts', '../extension/core/chat-state', false],
  ['src/cli/new.ts', '../../test/helpers/server', false],
  ['src/server/new.ts', '../../bench/protocol', false],
];

describe('layers', () => {
  for (const [file, from, allowed] of cases) {
    test(`${file} ${allowed ? 'may' : 'may not'} import ${from}`, async () => {
      assert.equal(await refused(file, from), !allowed);
    });
  }
});
