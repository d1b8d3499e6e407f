import { LIMITS, USERNAME_PATTERN } from './limits';
import type { RequestName } from './schemas';

/**
 * The text commands, in one table that every client reads: the parser, `help`, the terminal client, the
 * command palette and the chat panel's completion. A command is one entry: its forms (usage, help and
 * palette entries), its aliases, its parse function and the request it becomes.
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
  | { name: 'help' };

export type CommandName = Command['name'];

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

/**
 * What an argument is: it decides the usage text (`<user>`), the checks, and what completion offers
 * (usernames for `user` and `users`; nothing inside `text`, which runs to the end of the line).
 */
export type ArgKind = 'user' | 'users' | 'minutes' | 'text';

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
  /** Parses what follows the command's name (`typed`, as typed: an alias names itself in errors). */
  parse(rest: string, typed: string): ParseResult;
}

const user: Token = { arg: 'user' };
const text: Token = { arg: 'text' };

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
  return `<${token.arg}>`;
}

export function formUsage(name: string, form: CommandForm): string {
  return [name, ...form.tokens.map((t) => tokenUsage(t))].join(' ');
}

/** One line of help per form and alias, in table order; shown by `help` and in completions. */
export const COMMAND_HELP: readonly { usage: string; summary: string }[] = COMMANDS.flatMap((c) => [
  ...c.forms.map((form) => ({ usage: formUsage(c.name, form), summary: form.summary })),
  ...c.aliases.map((alias) => ({ usage: formUsage(alias.name, c.forms[0]!), summary: alias.summary })),
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

function noArguments(name: 'whoelse' | 'blocklist' | 'logout' | 'help') {
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
