import { readTypedLine } from '../client/typed-line';
import { findCommand, parseCommand, type ChatMessage, type HistoryOf, type ParseResult } from '../protocol';

/**
 * The terminal's current conversation, as in irssi: plain lines go to it and the prompt names it. None is the
 * original's command mode. A private chat is a conversation of its own, so that its prompt can say it is direct.
 */
export type Conversation = { kind: 'channel'; channel: string } | { kind: 'direct'; with: string } | { kind: 'private'; with: string };

/** The conversation on the server that a message belongs to, seen by `me`; none for a broadcast. */
export function conversationOf(message: ChatMessage, me: string | undefined): Conversation | undefined {
  if (message.kind === 'channel' && message.channel !== undefined) return { kind: 'channel', channel: message.channel };
  if (message.kind !== 'direct') return undefined;
  return { kind: 'direct', with: message.from === me && message.to !== null ? message.to : message.from };
}

export function sameConversation(a: Conversation | undefined, b: Conversation | undefined): boolean {
  if (a === undefined || b === undefined || a.kind !== b.kind) return false;
  return a.kind === 'channel' ? a.channel === (b as typeof a).channel : a.with === (b as typeof a).with;
}

/** A server conversation as `history` and `read` name it; a private chat has neither. */
export function historyOf(here: Conversation): HistoryOf | undefined {
  if (here.kind === 'channel') return { channel: here.channel };
  return here.kind === 'direct' ? { with: here.with } : undefined;
}

/** Where a message stands in its conversation: a channel's seq, otherwise the message id (as `history` and `read` count). */
export function positionOf(message: ChatMessage): number {
  return message.kind === 'channel' ? (message.seq ?? 0) : message.id;
}

/**
 * A typed line as a command, or (in a conversation) as text for it, by the panel's rule (readTypedLine). In command
 * mode a line without "/" is a bare command, as in the original. `typed` is false for text sent to the conversation.
 */
export function interpret(line: string, here: Conversation | undefined): { parsed: ParseResult; typed: boolean } {
  if (here === undefined && !line.startsWith('/')) return { parsed: parseCommand(line), typed: true };
  const read = readTypedLine(line);
  if (read.kind === 'command') return { parsed: { ok: true, command: read.command }, typed: true };
  if (read.kind === 'error') return { parsed: { ok: false, error: read.error }, typed: true };
  const text = read.kind === 'text' ? read.body : line;
  if (here === undefined) {
    return {
      parsed: { ok: false, error: '"//" sends a line in a conversation; "/join #<channel>" or "/query <user>" opens one.' },
      typed: true,
    };
  }
  // Through the table's parsers, so that the text is checked as when typed after its command.
  const [name, target] = here.kind === 'channel' ? ['post', here.channel] : [here.kind === 'direct' ? 'message' : 'private', here.with];
  return { parsed: findCommand(name)!.parse(`${target} ${text}`, name), typed: false };
}
