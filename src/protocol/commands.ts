import { GENERAL_CHANNEL, LIMITS, USERNAME_PATTERN, isChannelName } from './limits';
import type { RequestName } from './schemas';

/**
 * The text commands, in one table that every client reads: the parser, `help`, the terminal client, the
 * command palette and the chat panel's completion. A command is one entry: its forms (usage, help and
 * palette entries), its aliases, its parse function and the request it becomes. Its length is the table's:
 * one entry per command, which is the point of keeping them together.
 */
export type Command =
  | { name: 'whoelse' }
  | { name: 'wholast'; minutes: number }
  | { name: 'broadcast'; body: string; to?: string[] }
  | { name: 'message'; to: string; body: string }
  /** Also typed as the original's `getaddress <user>`. */
  | { name: 'startprivate'; username: string }
  | { name: 'private'; to: string; body: string }
  | { name: 'stopprivate'; username: string }
  | { name: 'block'; username: string }
  | { name: 'unblock'; username: string }
  | { name: 'blocklist' }
  | { name: 'logout' }
  | { name: 'help' }
  // Channels and conversations (protocol 3). A channel is named without its `#`, as on the wire.
  | { name: 'join'; channel: string }
  | { name: 'leave'; channel: string }
  | { name: 'channels' }
  | { name: 'create'; channel: string; private: boolean }
  | { name: 'topic'; channel: string; topic: string }
  | { name: 'invite'; channel: string; username: string }
  | { name: 'kick'; channel: string; username: string }
  | { name: 'rename'; channel: string; to: string }
  | { name: 'delete'; channel: string }
  | { name: 'members'; channel: string }
  | { name: 'post'; channel: string; body: string }
  /**
   * Without `of`, the caller's direct messages and broadcasts. `before` and `limit` never come from a typed line: a client
   * paging back sets them, as the `history` request takes them.
   */
  | { name: 'history'; of?: HistoryOf; before?: number; limit?: number }
  /** Makes a conversation with a user the current one: through the server, or (`private`) the direct, encrypted chat. */
  | { name: 'query'; username: string; private: boolean }
  | { name: 'close' };

/** Whose history: a channel's, or the direct messages with one user. */
export type HistoryOf = { channel: string } | { with: string };

export type CommandName = Command['name'];

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

/**
 * What an argument is: it decides the usage text (`<user>`), the checks, and what completion offers
 * (usernames for `user` and `users`, channel names for `channel`; nothing inside `text`, which runs to the end of the line).
 */
export type ArgKind = 'user' | 'users' | 'minutes' | 'text' | 'channel';

/** One word of a form: a keyword typed as it is (with what completion says of it), or an argument. */
export type Token = { word: string; hint?: string } | { arg: ArgKind };

/**
 * A form's command in the editor's palette: plain data, the editor registers it. Its arguments, in the
 * order of the form's argument tokens, may be passed by a caller; the palette asks for those it is not given.
 */
export interface PaletteEntry {
  /** The editor's command id; package.json lists it with this title (a test checks). */
  id: string;
  title: string;
  /** Run on a person from the people view's context menu, so hidden from the palette. */
  contextOnly?: true;
}

export interface CommandForm {
  tokens: readonly Token[];
  /** Its line in `help`. */
  summary: string;
  palette?: readonly PaletteEntry[];
}

export interface CommandSpec {
  name: CommandName;
  /** Each is a form of its own in `help`. */
  forms: readonly CommandForm[];
  /** Other names typed for the same command (the original's), with their line in `help`. */
  aliases: readonly { name: string; summary: string }[];
  /** The request a client sends for it; none for what stays on the client (help, the private chat's channel). */
  request: RequestName | undefined;
  /** Why a command with a request has no palette entry in any form (the table test asks for one otherwise). */
  noPalette?: string;
  /** Why only the terminal has it: the chat panel leaves it out of help and completion. */
  terminalOnly?: string;
  /** Parses what follows the command's name (`typed`, as typed: an alias names itself in errors). */
  parse(rest: string, typed: string): ParseResult;
}

const user: Token = { arg: 'user' };
const text: Token = { arg: 'text' };
const channel: Token = { arg: 'channel' };

/** Channel commands have no palette entries of their own: the editor gets a conversation switcher for them. */
const CHANNEL_NO_PALETTE = "the editor's conversation switcher, not the palette, is where channels are joined and managed";

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'whoelse',
    forms: [{ tokens: [], summary: 'who else is online now', palette: [{ id: 'parley.whoElse', title: 'Who Else Is Online' }] }],
    aliases: [],
    request: 'whoelse',
    parse: noArguments('whoelse'),
  },
  {
    name: 'wholast',
    forms: [
      {
        tokens: [{ arg: 'minutes' }],
        summary: 'who was online in the last 1-59 minutes',
        palette: [{ id: 'parley.whoLast', title: 'Who Was Online Recently…' }],
      },
    ],
    aliases: [],
    request: 'wholast',
    parse: parseWholast,
  },
  {
    name: 'broadcast',
    forms: [
      {
        tokens: [{ word: 'message', hint: 'to everyone online' }, text],
        summary: 'send to everyone online',
        palette: [{ id: 'parley.broadcast', title: 'Broadcast Message…' }],
      },
      {
        tokens: [{ word: 'user', hint: 'to the users named' }, { arg: 'users' }, { word: 'message', hint: 'then the text' }, text],
        summary: 'send to the users named',
        palette: [{ id: 'parley.broadcastToUsers', title: 'Broadcast to Users…' }],
      },
    ],
    aliases: [],
    request: 'broadcast',
    parse: parseBroadcast,
  },
  {
    name: 'message',
    forms: [
      {
        tokens: [user, text],
        summary: 'send to one user, online or not',
        palette: [{ id: 'parley.sendMessage', title: 'Send Message to User…' }],
      },
    ],
    aliases: [],
    request: 'message',
    parse: userAndText('message'),
  },
  {
    name: 'startprivate',
    forms: [
      {
        tokens: [user],
        summary: 'open a direct, encrypted chat with a user who is online',
        palette: [{ id: 'parley.startPrivateChat', title: 'Start Private Chat…' }],
      },
    ],
    // The original handed out the peer's address; here it opens the same verified channel.
    aliases: [{ name: 'getaddress', summary: 'the same as startprivate (the original name)' }],
    request: 'startprivate',
    parse: oneUser('startprivate', '(with whom?)', (u) => `; then "private ${u} <text>" sends`),
  },
  {
    name: 'private',
    forms: [{ tokens: [user, text], summary: 'send over the direct chat only, never through the server' }],
    aliases: [],
    request: undefined,
    parse: userAndText('private'),
  },
  {
    name: 'stopprivate',
    forms: [
      {
        tokens: [user],
        summary: 'close the direct chat with a user',
        palette: [{ id: 'parley.stopPrivateChat', title: 'Stop Private Chat' }],
      },
    ],
    aliases: [],
    request: undefined,
    parse: oneUser('stopprivate', '(with whom?)'),
  },
  {
    name: 'block',
    forms: [
      {
        tokens: [user],
        summary: 'stop messages and presence from a user',
        palette: [
          { id: 'parley.block', title: 'Block User…' },
          { id: 'parley.blockPerson', title: 'Block', contextOnly: true },
        ],
      },
    ],
    aliases: [],
    request: 'block',
    parse: oneUser('block', '(whom?)'),
  },
  {
    name: 'unblock',
    forms: [
      {
        tokens: [user],
        summary: 'undo block',
        palette: [
          { id: 'parley.unblock', title: 'Unblock User…' },
          { id: 'parley.unblockPerson', title: 'Unblock', contextOnly: true },
        ],
      },
    ],
    aliases: [],
    request: 'unblock',
    parse: oneUser('unblock', '(whom?)'),
  },
  {
    name: 'blocklist',
    forms: [{ tokens: [], summary: 'the users you have blocked' }],
    aliases: [],
    request: 'blocklist',
    noPalette: 'Unblock User… shows the block list to pick from',
    parse: noArguments('blocklist'),
  },
  {
    name: 'logout',
    forms: [{ tokens: [], summary: 'sign out' }],
    aliases: [],
    request: 'logout',
    noPalette: "the editor's own Sign Out, which also forgets the saved session",
    parse: noArguments('logout'),
  },
  { name: 'help', forms: [{ tokens: [], summary: 'this list' }], aliases: [], request: undefined, parse: noArguments('help') },
  // ---- channels and conversations (protocol 3); after the original's commands, so that `help` starts as it did ----
  {
    name: 'join',
    forms: [{ tokens: [channel], summary: 'join a channel and make it the current conversation' }],
    aliases: [],
    request: 'join',
    noPalette: CHANNEL_NO_PALETTE,
    parse: channelOnly('join'),
  },
  {
    name: 'leave',
    forms: [{ tokens: [channel], summary: `leave a channel (everyone stays in #${GENERAL_CHANNEL})` }],
    aliases: [],
    request: 'leave',
    noPalette: CHANNEL_NO_PALETTE,
    parse: channelOnly('leave'),
  },
  {
    name: 'channels',
    forms: [{ tokens: [], summary: 'the channels you can see, with their topics' }],
    aliases: [],
    request: 'channels',
    noPalette: CHANNEL_NO_PALETTE,
    parse: noArguments('channels'),
  },
  {
    name: 'create',
    forms: [
      { tokens: [channel], summary: 'create a public channel and join it' },
      {
        tokens: [channel, { word: 'private', hint: 'members invite members' }],
        summary: 'create a private channel: members invite members',
      },
    ],
    aliases: [],
    request: 'createchannel',
    noPalette: CHANNEL_NO_PALETTE,
    parse: parseCreate,
  },
  {
    name: 'topic',
    forms: [{ tokens: [channel, text], summary: "set a channel's topic" }],
    aliases: [],
    request: 'topic',
    noPalette: CHANNEL_NO_PALETTE,
    parse: parseTopic,
  },
  {
    name: 'invite',
    forms: [{ tokens: [channel, user], summary: 'add a user to a channel you are in (the way into a private one)' }],
    aliases: [],
    request: 'invite',
    noPalette: CHANNEL_NO_PALETTE,
    parse: channelAndUser('invite'),
  },
  {
    name: 'kick',
    forms: [{ tokens: [channel, user], summary: 'remove a member from a channel you created' }],
    aliases: [],
    request: 'kick',
    noPalette: CHANNEL_NO_PALETTE,
    parse: channelAndUser('kick'),
  },
  {
    name: 'rename',
    forms: [{ tokens: [channel, channel], summary: 'rename a channel you created' }],
    aliases: [],
    request: 'renamechannel',
    noPalette: CHANNEL_NO_PALETTE,
    parse: parseRename,
  },
  {
    name: 'delete',
    forms: [{ tokens: [channel], summary: 'delete a channel you created, and its history' }],
    aliases: [],
    request: 'deletechannel',
    noPalette: CHANNEL_NO_PALETTE,
    parse: channelOnly('delete'),
  },
  {
    name: 'members',
    forms: [{ tokens: [channel], summary: 'who is in a channel' }],
    aliases: [],
    request: 'members',
    noPalette: CHANNEL_NO_PALETTE,
    parse: channelOnly('members'),
  },
  {
    name: 'post',
    forms: [{ tokens: [channel, text], summary: "send to a channel's members, online or not" }],
    aliases: [],
    request: 'post',
    noPalette: CHANNEL_NO_PALETTE,
    parse: parsePost,
  },
  {
    name: 'history',
    forms: [
      { tokens: [], summary: "the current conversation's latest messages (outside one: all yours); again: older" },
      { tokens: [channel], summary: "a channel's latest messages; again: older ones" },
      { tokens: [user], summary: 'your latest messages with a user; again: older ones' },
    ],
    aliases: [],
    request: 'history',
    noPalette: "the editor's timeline pages back by itself",
    parse: parseHistory,
  },
  {
    name: 'query',
    forms: [
      { tokens: [user], summary: 'make the conversation with a user current: plain lines go to them' },
      {
        tokens: [user, { word: 'private', hint: 'the direct, encrypted chat' }],
        summary: 'the same over a direct, encrypted chat (opened if need be), never through the server',
      },
    ],
    aliases: [],
    // What it sends is the client's business: nothing, or the private chat's startprivate.
    request: undefined,
    parse: parseQuery,
  },
  {
    name: 'close',
    forms: [{ tokens: [], summary: 'back to commands (the channel stays joined)' }],
    aliases: [],
    request: undefined,
    terminalOnly: 'the chat panel has no command mode to go back to',
    parse: noArguments('close'),
  },
];

/** The entry for a typed command name or alias (any case). */
export function findCommand(typed: string): CommandSpec | undefined {
  const name = typed.toLowerCase();
  return COMMANDS.find((c) => c.name === name || c.aliases.some((a) => a.name === name));
}

/** How a token reads in usage: `<user>`, or `<user> [<user> ...]` for several. */
export function tokenUsage(token: Token, compact = false): string {
  if ('word' in token) return token.word;
  if (token.arg === 'users') return compact ? '<user> ...' : '<user> [<user> ...]';
  if (token.arg === 'channel') return '#<channel>';
  return `<${token.arg}>`;
}

export function formUsage(name: string, form: CommandForm): string {
  return [name, ...form.tokens.map((t) => tokenUsage(t))].join(' ');
}

/** One line of help per form and alias, in table order; shown by `help` and in completions. */
export const COMMAND_HELP: readonly { usage: string; summary: string; terminalOnly: boolean }[] = COMMANDS.flatMap((c) => [
  ...c.forms.map((form) => ({ usage: formUsage(c.name, form), summary: form.summary, terminalOnly: c.terminalOnly !== undefined })),
  ...c.aliases.map((alias) => ({
    usage: formUsage(alias.name, c.forms[0]!),
    summary: alias.summary,
    terminalOnly: c.terminalOnly !== undefined,
  })),
]);

/** Every name a command can be typed as. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.flatMap((c) => [c.name, ...c.aliases.map((a) => a.name)]);

export function parseCommand(line: string): ParseResult {
  const [word, rest] = shift(line);
  if (!word) return fail('type a command; "help" lists them');
  const spec = findCommand(word);
  return spec ? spec.parse(rest, word.toLowerCase()) : fail(`unknown command "${word}"; "help" lists them`);
}

// ---- the parse functions' pieces ----

const fail = (error: string): ParseResult => ({ ok: false, error });
const ok = (command: Command): ParseResult => ({ ok: true, command });

function usage(name: string): string {
  const lines = COMMAND_HELP.filter((h) => h.usage.split(' ')[0] === name).map((h) => h.usage);
  return `usage: ${lines.join('  or  ')}`;
}

/** Splits off the first word and returns the rest of the line verbatim (message text keeps its spacing). */
function shift(text: string): [string, string] {
  const trimmed = text.replace(/^\s+/, '');
  const match = /^(\S+)\s?([\s\S]*)$/.exec(trimmed);
  return match ? [match[1] ?? '', match[2] ?? ''] : ['', ''];
}

function checkUsername(name: string): string | undefined {
  if (name.length > LIMITS.usernameMax) return `"${name}" is longer than ${LIMITS.usernameMax} characters`;
  if (!USERNAME_PATTERN.test(name)) return `"${name}" is not a valid username`;
  return undefined;
}

function checkBody(body: string, name: string): string | undefined {
  if (body.trim().length === 0) return `${usage(name)} (the message is empty)`;
  if (body.length > LIMITS.messageMax) return `a message has at most ${LIMITS.messageMax} characters (this one has ${body.length})`;
  return undefined;
}

function noArguments(name: 'whoelse' | 'blocklist' | 'logout' | 'help' | 'channels' | 'close') {
  return (rest: string): ParseResult => (rest.trim() ? fail(`${name} takes no arguments`) : ok({ name }));
}

function parseWholast(rest: string): ParseResult {
  const arg = rest.trim();
  if (!arg) return fail(`${usage('wholast')} (how many minutes back?)`);
  if (!/^\d+$/.test(arg)) return fail(`wholast needs a whole number of minutes, not "${arg}"`);
  const minutes = Number(arg);
  if (minutes < 1 || minutes > 59) return fail('wholast takes a number of minutes from 1 to 59');
  return ok({ name: 'wholast', minutes });
}

/** `<name> <user>`: `missing` says what a bare command lacks; `more` adds to the error for extra words. */
function oneUser(name: 'startprivate' | 'stopprivate' | 'block' | 'unblock', missing: string, more = (_user: string) => '') {
  return (rest: string, typed: string): ParseResult => {
    const [user, extra] = shift(rest);
    if (!user) return fail(`${usage(typed)} ${missing}`);
    if (extra.trim()) return fail(`${typed} takes one username${more(user)}`);
    const bad = checkUsername(user);
    return bad ? fail(bad) : ok({ name, username: user });
  };
}

function userAndText(name: 'message' | 'private') {
  return (rest: string): ParseResult => {
    const [user, body] = shift(rest);
    if (!user) return fail(`${usage(name)} (to whom?)`);
    const bad = checkUsername(user) ?? checkBody(body, name);
    return bad ? fail(bad) : ok({ name, to: user, body });
  };
}

function parseBroadcast(rest: string): ParseResult {
  const [mode, tail] = shift(rest);
  if (mode === 'message') {
    const bad = checkBody(tail, 'broadcast');
    return bad ? fail(bad) : ok({ name: 'broadcast', body: tail });
  }
  if (mode !== 'user') return fail(usage('broadcast'));

  const to: string[] = [];
  let remaining = tail;
  for (;;) {
    const [word, after] = shift(remaining);
    if (!word) return fail(`${usage('broadcast')} ("message" and the text must follow the users)`);
    if (word === 'message') {
      if (to.length === 0) return fail(`${usage('broadcast')} (name at least one user)`);
      const bad = checkBody(after, 'broadcast');
      return bad ? fail(bad) : ok({ name: 'broadcast', body: after, to: [...new Set(to)] });
    }
    const bad = checkUsername(word);
    if (bad) return fail(bad);
    to.push(word);
    if (to.length > LIMITS.broadcastRecipientsMax) return fail(`a broadcast names at most ${LIMITS.broadcastRecipientsMax} users`);
    remaining = after;
  }
}

/** A channel as typed: `#dev`, or `dev` where nothing else could be meant; the name on the wire has no `#`. */
function checkChannel(typed: string): { channel: string } | { error: string } {
  const channel = typed.startsWith('#') ? typed.slice(1) : typed;
  if (isChannelName(channel)) return { channel };
  return { error: `"${typed}" is not a channel name: # and 1 to ${LIMITS.channelNameMax} lowercase letters, digits and "-"` };
}

/** Splits off a channel, or the usage error when there is none. */
function shiftChannel(rest: string, name: string): [{ channel: string } | { error: string }, string] {
  const [word, tail] = shift(rest);
  return [word ? checkChannel(word) : { error: `${usage(name)} (which channel?)` }, tail];
}

function channelOnly(name: 'join' | 'leave' | 'delete' | 'members') {
  return (rest: string): ParseResult => {
    const [checked, extra] = shiftChannel(rest, name);
    if ('error' in checked) return fail(checked.error);
    return extra.trim() ? fail(`${name} takes one channel`) : ok({ name, channel: checked.channel });
  };
}

function parseCreate(rest: string): ParseResult {
  const [checked, tail] = shiftChannel(rest, 'create');
  if ('error' in checked) return fail(checked.error);
  const kind = tail.trim();
  if (kind !== '' && kind !== 'private') return fail(`${usage('create')} (only "private" may follow the name)`);
  return ok({ name: 'create', channel: checked.channel, private: kind === 'private' });
}

function parseTopic(rest: string): ParseResult {
  const [checked, topic] = shiftChannel(rest, 'topic');
  if ('error' in checked) return fail(checked.error);
  if (!topic.trim()) return fail(`${usage('topic')} (the topic is empty)`);
  if (topic.length > LIMITS.channelTopicMax)
    return fail(`a topic has at most ${LIMITS.channelTopicMax} characters (this one has ${topic.length})`);
  return ok({ name: 'topic', channel: checked.channel, topic });
}

function channelAndUser(name: 'invite' | 'kick') {
  return (rest: string): ParseResult => {
    const [checked, tail] = shiftChannel(rest, name);
    if ('error' in checked) return fail(checked.error);
    const [username, extra] = shift(tail);
    if (!username) return fail(`${usage(name)} (whom?)`);
    if (extra.trim()) return fail(`${name} takes one channel and one username`);
    const bad = checkUsername(username);
    return bad ? fail(bad) : ok({ name, channel: checked.channel, username });
  };
}

function parseRename(rest: string): ParseResult {
  const [from, tail] = shiftChannel(rest, 'rename');
  if ('error' in from) return fail(from.error);
  const [to, extra] = shiftChannel(tail, 'rename');
  if ('error' in to) return fail(to.error);
  return extra.trim() ? fail('rename takes the channel and its new name') : ok({ name: 'rename', channel: from.channel, to: to.channel });
}

function parsePost(rest: string): ParseResult {
  const [checked, body] = shiftChannel(rest, 'post');
  if ('error' in checked) return fail(checked.error);
  const bad = checkBody(body, 'post');
  return bad ? fail(bad) : ok({ name: 'post', channel: checked.channel, body });
}

/** `history`, `history #dev` or `history bob`: here the `#` is what tells a channel from a user. */
function parseHistory(rest: string): ParseResult {
  const [word, extra] = shift(rest);
  if (extra.trim()) return fail('history takes one channel or one username, or nothing');
  if (!word) return ok({ name: 'history' });
  if (word.startsWith('#')) {
    const checked = checkChannel(word);
    return 'error' in checked ? fail(checked.error) : ok({ name: 'history', of: { channel: checked.channel } });
  }
  const bad = checkUsername(word);
  return bad ? fail(`${bad} (a channel is written with its #)`) : ok({ name: 'history', of: { with: word } });
}

function parseQuery(rest: string): ParseResult {
  const [username, tail] = shift(rest);
  if (!username) return fail(`${usage('query')} (with whom?)`);
  const kind = tail.trim();
  if (kind !== '' && kind !== 'private') return fail(`${usage('query')} (only "private" may follow the username)`);
  const bad = checkUsername(username);
  return bad ? fail(bad) : ok({ name: 'query', username, private: kind === 'private' });
}
