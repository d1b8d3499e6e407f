import type { PrivateRefused } from './private-channels';
import { COMMAND_HELP } from '../protocol/commands';

/**
 * What a command's outcome says to the user, in the same words in the terminal and in the editor. Plain text
 * from data: each client makes it safe for where it shows it (the terminal escapes controls in every line it
 * prints; the chat view renders notices as text).
 */

/**
 * A name from the network, kept to one line so that no part of it can pose as a line of its own: line breaks
 * are written as the terminal writes controls (`^J`, `<U+2028>`).
 */
export const name = (text: string): string =>
  text.replace(/[\n\v\f\r\u0085\u2028\u2029]/g, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x20 ? `^${String.fromCharCode(code + 64)}` : `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });

export const list = (users: readonly string[]): string => users.map(name).join(', ');

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatWhoElse(users: readonly string[]): string {
  return users.length ? `Online now: ${list(users)}` : 'Nobody else is online.';
}

export function formatWhoLast(users: readonly string[], minutes: number): string {
  const span = plural(minutes, 'minute');
  return users.length ? `Online in the last ${span}: ${list(users)}` : `Nobody else was online in the last ${span}.`;
}

export function formatSent(to: string, online: boolean): string {
  return online ? `Sent to ${name(to)}.` : `Sent to ${name(to)}, who is offline and will get it on signing in.`;
}

/** `queueFull` (from servers that send it) names those left out because too many of the sender's messages wait for them. */
export function formatBroadcast(result: { delivered: number; skipped: number; queueFull?: string[] }, named: boolean): string {
  const { delivered, skipped, queueFull = [] } = result;
  const full = queueFull.length ? `: ${list(queueFull)} ${queueFull.length === 1 ? 'has' : 'have'} too many of your messages waiting` : '';
  const refused = skipped > 0 ? `; some users could not receive it (${skipped})${full}` : '';
  if (delivered > 0) return `Broadcast sent to ${plural(delivered, 'user')}${refused}.`;
  if (skipped > 0) return `Broadcast not delivered${refused}.`;
  return named ? 'Broadcast not delivered: nobody else was named.' : 'Broadcast sent, but nobody else is online to receive it.';
}

export function formatBlocked(username: string): string {
  return `Blocked ${name(username)}: no messages either way, and neither of you sees the other online.`;
}

export function formatUnblocked(username: string): string {
  return `Unblocked ${name(username)}.`;
}

export function formatBlocklist(users: readonly string[]): string {
  return users.length ? `Blocked: ${list(users)}` : 'You have not blocked anyone.';
}

/** Said once signed out, whoever asked for it. */
export const SIGNED_OUT = 'You have signed out.';

/** `prefix` goes before each command where commands are typed with one (the chat panel's "/"). */
export function formatHelp(prefix = ''): string {
  const width = Math.max(...COMMAND_HELP.map((h) => h.usage.length));
  return ['Commands:', ...COMMAND_HELP.map((h) => `  ${prefix}${h.usage.padEnd(width)}  ${h.summary}`)].join('\n');
}

/** The answer to startprivate; the chat's own "open" notice, with the safety code, comes from the channel. */
export function formatPrivateStarted(username: string, already: boolean): string {
  return already
    ? `A private chat with ${name(username)} is already open; what you send there goes directly to them.`
    : `Private chat with ${name(username)} is open (direct, encrypted).`;
}

export function formatPrivateSent(to: string): string {
  return `Sent privately to ${name(to)}.`;
}

export function formatPrivateStopping(username: string): string {
  return `Stopping the private chat with ${name(username)}.`;
}

/** Beside a direct message in its own conversation, where "Sent to" would say nothing new. */
export function formatOffline(username: string): string {
  return `${name(username)} is offline and will get it on signing in.`;
}

/** A connection to this client's listener that was refused: the user hears of attempts on their name. */
export function formatPrivateRefused(info: PrivateRefused): string {
  const claiming = info.claimed === undefined ? '' : ` claiming to be ${name(info.claimed)}`;
  const flood = [
    ...(info.held ? [`${info.held} more refused since the last one shown`] : []),
    ...(info.quiet ? ['the next ones are not shown for a while'] : []),
  ];
  const counts = flood.length ? ` (${flood.join('; ')})` : '';
  return `* refused a direct connection from ${name(info.address || 'an unknown address')}${claiming}: ${info.message}${counts}`;
}
