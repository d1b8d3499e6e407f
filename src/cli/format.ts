import type { PrivateClosed, PrivateMessage } from '../client/private-channels';
import { formatWhoElse } from '../client/sentences';
import { privateCloseReason } from '../client/private-api';
import { type ChannelEvent, type ChatMessage, type PresenceEvent } from '../protocol';
import { conversationOf, sameConversation, type Conversation } from './conversation';

/**
 * Pure formatting for the terminal client: every line it prints is built here, from data only,
 * so that tests can compute what to expect and nothing a sender types can drive the terminal.
 */

/** Continuation lines of a multi-line message are indented, so that no line of a message can pose as a line of its own. */
export const CONTINUATION = '    ';

/** Bidirectional overrides, isolates and marks: they can reorder what a line appears to say. */
const BIDI_CONTROLS = new Set([0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);

/** Zero-width characters: a name with one in it looks like another name. */
const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]);

const ZERO_WIDTH_JOINER = 0x200d;

const PICTOGRAPH = /^\p{Extended_Pictographic}$/u;

/** What an emoji sequence may have before a joiner: a pictograph, the emoji presentation selector, a skin tone. */
function joinsAfter(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0;
  return code === 0xfe0f || (code >= 0x1f3fb && code <= 0x1f3ff) || PICTOGRAPH.test(ch);
}

function isUnsafe(code: number): boolean {
  return (
    (code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f) || BIDI_CONTROLS.has(code) || ZERO_WIDTH.has(code)
  );
}

/**
 * Makes text from the network inert on a terminal: C0 controls other than tab and newline are shown in
 * caret notation (ESC as `^[`, CR as `^M`), DEL as `^?`, C1 controls, bidi controls and zero-width characters
 * as `<U+XXXX>` (shown rather than dropped, so that `al<U+200B>ice` cannot pass for `alice`). The one exception
 * is a joiner inside an emoji sequence (👩‍💻), which only joins pictographs. With `multiline: false`, tabs and
 * newlines are escaped too (for names and one-line fields). Every line the terminal client prints passes here.
 */
export function sanitize(text: string, { multiline = true } = {}): string {
  const chars = [...text];
  let out = '';
  chars.forEach((ch, i) => {
    const code = ch.codePointAt(0)!;
    const joinsEmoji = code === ZERO_WIDTH_JOINER && joinsAfter(chars[i - 1] ?? '') && PICTOGRAPH.test(chars[i + 1] ?? '');
    if (joinsEmoji || (!isUnsafe(code) && (multiline || (code !== 0x09 && code !== 0x0a)))) out += ch;
    else if (code < 0x20) out += '^' + String.fromCharCode(code + 0x40);
    else if (code === 0x7f) out += '^?';
    else out += `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });
  return out;
}

const name = (username: string): string => sanitize(username, { multiline: false });

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `14:05` for a time today, `2026-03-02 14:05` for any other day (local time). */
export function formatTime(at: number, now: number): string {
  const d = new Date(at);
  const today = new Date(now);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? time : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${time}`;
}

/** A message body: inert, with continuation lines indented. */
export function formatBody(body: string): string {
  return sanitize(body)
    .split('\n')
    .join('\n' + CONTINUATION);
}

/**
 * One incoming message, stamped with the time the server accepted it (so a message kept for an
 * offline user shows when it was sent, not when it arrived):
 *   [14:05] bob: hi                 a direct message to me
 *   [14:05] bob (broadcast): hi     a broadcast
 *   [14:05] alice -> bob: hi        sent by me from another window
 *   [14:05] [#dev] bob: hi          in a channel
 *   [14:05] [#dev] bob (mentions you): hi @alice
 * In a conversation (`here`), its own messages lose their channel mark, and a direct message from someone
 * else's conversation gains `(direct)`, so that no line seems to belong to the conversation on screen when it does not.
 */
export function formatMessage(message: ChatMessage, me: string | undefined, now: number, here?: Conversation): string {
  const time = `[${formatTime(message.sentAt, now)}]`;
  const ownConversation = sameConversation(conversationOf(message, me), here);
  let who: string;
  if (message.kind === 'broadcast') who = `${name(message.from)} (broadcast)`;
  else if (message.kind === 'channel') {
    const mark = ownConversation ? '' : `[#${name(message.channel ?? '?')}] `;
    const mention = me !== undefined && message.from !== me && message.mentions?.includes(me) ? ' (mentions you)' : '';
    who = `${mark}${name(message.from)}${mention}`;
  } else if (message.from === me && message.to !== null) who = `${name(message.from)} -> ${name(message.to)}`;
  else who = here === undefined || ownConversation ? name(message.from) : `${name(message.from)} (direct)`;
  return `${time} ${who}: ${formatBody(message.body)}`;
}

export function formatPresence(event: PresenceEvent): string {
  return `* ${name(event.username)} ${event.online ? (event.idle === true ? 'is idle' : 'is online') : 'went offline'}`;
}

/** A change in one of the user's channels, made by someone else or in another of the user's sessions. */
export function formatChannelEvent(event: ChannelEvent): string {
  const [by, channel, user] = [name(event.by), `#${name(event.channel)}`, name(event.username ?? '?')];
  switch (event.change) {
    case 'created':
      return `* ${by} created ${channel}`;
    case 'joined':
      return `* ${user} joined ${channel}`;
    case 'left':
      return `* ${user} left ${channel}`;
    case 'added':
      return `* ${by} added ${user} to ${channel}`;
    case 'removed':
      return `* ${by} removed ${user} from ${channel}`;
    case 'topic':
      return `* ${by} set the topic of ${channel}: ${name(event.topic ?? '')}`;
    case 'renamed':
      return `* ${by} renamed ${channel} to #${name(event.to ?? '?')}`;
    case 'deleted':
      return `* ${by} deleted ${channel}`;
  }
}

/** At sign-in, from `conversations`: the channels with messages the user has not read; nothing when there are none. */
export function formatUnread(channels: readonly { name: string; unread: number; mentions: number }[]): string | undefined {
  const waiting = channels.filter((c) => c.unread > 0);
  if (waiting.length === 0) return undefined;
  const counts = waiting.map((c) => `#${name(c.name)} (${c.unread}${c.mentions > 0 ? `, ${c.mentions} mentioning you` : ''})`);
  return `Unread in ${counts.join(', ')}: "/join #<channel>" shows them.`;
}

/** `> ` in command mode; `#general> `, `bob> `, `bob (private, encrypted)> ` in a conversation. */
export function promptOf(here: Conversation | undefined): string {
  if (here === undefined) return '> ';
  if (here.kind === 'channel') return `#${name(here.channel)}> `;
  return here.kind === 'direct' ? `${name(here.with)}> ` : `${name(here.with)} (private, encrypted)> `;
}

/** What the terminal says on entering a conversation: where plain lines go now, and the way back. */
export function formatEntered(here: Conversation): string {
  const where =
    here.kind === 'channel'
      ? `#${name(here.channel)}: plain lines go to its members`
      : here.kind === 'direct'
        ? `a conversation with ${name(here.with)}: plain lines go to them through the server`
        : `a private chat with ${name(here.with)}: plain lines go to them directly, encrypted, never through the server`;
  return `Now in ${where}; "/" starts a command ("//" sends a line that starts with "/"), "/close" goes back to commands.`;
}

const list = (users: readonly string[]): string => users.map(name).join(', ');

export function formatWelcome(username: string, online: readonly string[]): string {
  return `Welcome to Parley, ${name(username)}! Type "help" for the commands.\n${formatWhoElse(online)}`;
}

export function formatError(message: string): string {
  return `error: ${formatServerText(message)}`;
}

/** Free text from the server (a refusal, an error, a goodbye): inert, and no line of it can pose as a line of its own. */
export function formatServerText(text: string): string {
  return formatBody(text);
}

/** An incoming private message, marked so that it cannot be mistaken for one that went through the server. */
export function formatPrivateMessage(message: PrivateMessage, now: number): string {
  return `[${formatTime(message.at, now)}] ${name(message.from)} (private): ${formatBody(message.body)}`;
}

export function formatPrivateOpened(username: string, safetyCode: string): string {
  return `* private chat with ${name(username)} is open (direct, encrypted); safety code ${safetyCode}: the same on ${name(username)}'s screen means nobody is in between`;
}

/** The terminal's own words for it: its hint names the command that sends there. */
export function formatPrivateAlreadyOpen(username: string): string {
  return `A private chat with ${name(username)} is already open; "private ${name(username)} <text>" sends there.`;
}

export function formatPrivateClosed(info: PrivateClosed): string {
  const who = name(info.username);
  return `* private chat with ${who} is closed (${privateCloseReason(info, who, { blocked: 'blocked', lost: 'connection lost' })})`;
}

/** The message center went away while private chats are open: they go on, and the user is told how to end. */
export function formatPrivateOnly(users: readonly string[]): string {
  return `Private chats with ${list(users)} stay open (direct); server commands fail until you sign in again. "logout" or Ctrl-D ends the session.`;
}
