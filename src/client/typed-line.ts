import { findCommand, parseCommand, type Command } from '../protocol/commands';

/**
 * How a line typed into a conversation reads, in the chat panel's composer and in the terminal's conversations.
 * Plain text is always a message to the conversation, so that a sentence starting with a command's name
 * ("logout", "message me when...") is never run; commands start with "/", as in Slack, IRC and Zulip, and "//"
 * sends a message that starts with "/".
 */
export type TypedLine =
  | { kind: 'empty' }
  | { kind: 'text'; body: string }
  | { kind: 'command'; command: Command }
  /** A "/" line that is not a command of the table, or does not parse: nothing is sent. */
  | { kind: 'error'; error: string };

export function readTypedLine(line: string): TypedLine {
  if (!line.trim()) return { kind: 'empty' };
  if (!line.startsWith('/')) return { kind: 'text', body: line };
  const rest = line.slice(1);
  if (rest.startsWith('/')) return { kind: 'text', body: rest };
  const word = /^\S*/.exec(rest)![0];
  if (!findCommand(word)) {
    const what = word ? `unknown command "/${word}"` : 'type a command after "/"';
    return { kind: 'error', error: `${what}; "/help" lists them (start with "//" to send a message that starts with "/")` };
  }
  const parsed = parseCommand(rest);
  return parsed.ok ? { kind: 'command', command: parsed.command } : { kind: 'error', error: parsed.error };
}
