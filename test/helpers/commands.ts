import assert from 'node:assert/strict';
import { parseCommand, type Command } from '../../src/protocol';

/** The command a line parses to; fails the test with the parser's error otherwise. */
export function parsed(line: string): Command {
  const result = parseCommand(line);
  assert.ok(result.ok, `expected "${line}" to parse, got: ${result.ok ? '' : result.error}`);
  return result.command;
}

/** The parser's error for a line; fails the test if the line parses. */
export function rejected(line: string): string {
  const result = parseCommand(line);
  assert.ok(!result.ok, `expected "${line}" to be rejected`);
  return result.error;
}
