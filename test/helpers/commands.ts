import assert from 'node:assert/strict';
import { REQUEST_SINCE, parseCommand, type Command, type CommandForm, type CommandSpec, type Token } from '../../src/protocol';

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

/** What fills each kind of argument in `sample`. */
export const SAMPLES = { user: 'bob', users: 'bob carol', minutes: '5', text: 'hello there', channel: '#dev' } as const;

/** A line that fills a form with sample arguments (bob and carol as the users, #dev as the channel). */
export function sample(name: string, tokens: readonly Token[]): string {
  const words = tokens.map((t) => ('word' in t ? t.word : SAMPLES[t.arg]));
  return [name, ...words].join(' ');
}

/** The commands that need the server's channels (protocol 3): test/command-runner-channels.test.ts runs them. */
export type ChannelCommandName =
  'join' | 'leave' | 'channels' | 'create' | 'topic' | 'invite' | 'kick' | 'rename' | 'delete' | 'members' | 'post';

/** A form that needs the server's channels: a protocol 3 request, or a channel argument. */
export function namesChannels(spec: CommandSpec, form: CommandForm): boolean {
  const since = spec.request === undefined ? undefined : REQUEST_SINCE[spec.request];
  return since !== undefined || form.tokens.some((t) => 'arg' in t && t.arg === 'channel');
}
