import type { PrivateRefused } from './private-channels';
import { COMMAND_HELP, type HistoryOf } from '../protocol/commands';
import type { ChannelInfo } from '../protocol/events';

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

/** The terminal's help, or the chat panel's: commands typed after "/", without the terminal's own. */
export function formatHelp(where: 'terminal' | 'panel' = 'terminal'): string {
  const shown = COMMAND_HELP.filter((h) => where === 'terminal' || !h.terminalOnly);
  const prefix = where === 'panel' ? '/' : '';
  const width = Math.max(...shown.map((h) => h.usage.length));
  return ['Commands:', ...shown.map((h) => `  ${prefix}${h.usage.padEnd(width)}  ${h.summary}`)].join('\n');
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

// ---- channels (protocol 3): `#` is how people see a channel's name ----

const channelName = (channel: string): string => `#${name(channel)}`;

function aboutChannel(channel: ChannelInfo): string {
  const facts = [channel.private ? 'private' : 'public', plural(channel.members, 'member')];
  const topic = channel.topic ? `: ${name(channel.topic)}` : '';
  return `${channelName(channel.name)} (${facts.join(', ')})${topic}`;
}

export function formatJoined(channel: ChannelInfo): string {
  return `Joined ${aboutChannel(channel)}.`;
}

export function formatLeft(channel: string): string {
  return `Left ${channelName(channel)}.`;
}

export function formatCreated(channel: ChannelInfo): string {
  const who = channel.private ? 'members invite members' : 'anyone may join';
  return `Created ${channelName(channel.name)}, ${channel.private ? 'private' : 'public'}: ${who}.`;
}

/** Every channel on a line of its own, those the user is in marked. */
export function formatChannels(channels: readonly ChannelInfo[]): string {
  if (channels.length === 0) return 'No channels you can see.';
  return ['Channels (* you are a member):', ...channels.map((c) => `  ${c.member ? '*' : ' '} ${aboutChannel(c)}`)].join('\n');
}

export function formatTopic(channel: ChannelInfo): string {
  return `Topic of ${channelName(channel.name)}: ${name(channel.topic)}`;
}

export function formatInvited(channel: string, username: string): string {
  return `Added ${name(username)} to ${channelName(channel)}.`;
}

export function formatKicked(channel: string, username: string): string {
  return `Removed ${name(username)} from ${channelName(channel)}.`;
}

export function formatRenamed(channel: string, to: string): string {
  return `Renamed ${channelName(channel)} to ${channelName(to)}.`;
}

export function formatDeleted(channel: string): string {
  return `Deleted ${channelName(channel)} and its history.`;
}

export function formatMembers(channel: string, members: readonly string[]): string {
  return `Members of ${channelName(channel)}: ${list(members)}`;
}

export function formatPosted(channel: string): string {
  return `Sent to ${channelName(channel)}.`;
}

/** What a page of history was: the terminal prints its messages above this line. */
export function formatHistoryPage(of: HistoryOf | undefined, count: number, more: boolean, older: boolean): string {
  const where = of === undefined ? 'your messages' : 'channel' in of ? channelName(of.channel) : `your conversation with ${name(of.with)}`;
  if (count === 0) return older ? `Nothing older in ${where}.` : `No messages in ${where} yet.`;
  const page = `${plural(count, older ? 'older message' : 'message')} of ${where}`;
  return more ? `${page}; history again shows the ones before.` : `${page}, back to the first.`;
}

export function formatQuery(username: string, direct: boolean): string {
  return direct ? `Talking to ${name(username)} over the direct, encrypted chat.` : `Talking to ${name(username)}.`;
}

export const BACK_TO_COMMANDS = 'Back to commands.';
