import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { COMMAND_HELP, ERROR_CODES, requestSchemas } from '../src/protocol';

// docs/protocol.md is what other clients are written from: whatever the code can send or answer must be in it.
const doc = readFileSync('docs/protocol.md', 'utf8');

/** The rows of the table under "## 3. Error codes", by the code in their first cell. */
function errorTableCodes(): string[] {
  const section = doc.slice(doc.indexOf('## 3. Error codes'), doc.indexOf('## 4. Requests'));
  return [...section.matchAll(/^\| `([A-Z_]+)` +\|/gm)].map((m) => m[1]!);
}

describe('docs/protocol.md', () => {
  test('names every request a client can send', () => {
    const missing = Object.keys(requestSchemas).filter((name) => !doc.includes(`\`${name}\``));
    assert.deepEqual(missing, [], `requests missing from docs/protocol.md: ${missing.join(', ')}`);
  });

  test('has a row in its table of text commands for every command the clients know, with its help text', () => {
    const section = doc.slice(doc.indexOf('## 7. Text commands'), doc.indexOf('## 8. Example session'));
    const rows = new Map([...section.matchAll(/^\| `([^`]+)` +\| ([^|]+?) +\|/gm)].map((m) => [m[1]!, m[2]!]));
    const wrong = COMMAND_HELP.filter(({ usage, summary }) => rows.get(usage) !== summary).map(({ usage }) => usage);
    assert.deepEqual(wrong, [], 'commands missing from section 7, or with other help text');
    assert.equal(rows.size, COMMAND_HELP.length, 'rows in section 7 for commands that COMMAND_HELP does not have');
  });

  test('has a row in its error table for every error code, and none for a code that does not exist', () => {
    const rows = errorTableCodes();
    assert.deepEqual(
      ERROR_CODES.filter((code) => !rows.includes(code)),
      [],
      'codes missing from the table in section 3',
    );
    assert.deepEqual(
      rows.filter((code) => !(ERROR_CODES as readonly string[]).includes(code)),
      [],
      'rows for codes that src/protocol/errors.ts does not have',
    );
  });
});
