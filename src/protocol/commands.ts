import { LIMITS, USERNAME_PATTERN } from './limits';

/**
 * The original chat app's text commands, parsed once for every client: the terminal,
 * the command palette and the chat panel's composer.
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

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

/** One line of help per command, in the original's words; shown by `help` and in completions. */
export const COMMAND_HELP: readonly { usage: string; summary: string }[] = [
  { usage: 'whoelse', summary: 'who else is online now' },
  { usage: 'wholast <minutes>', summary: 'who was online in the last 1-59 minutes' },
  { usage: 'broadcast message <text>', summary: 'send to everyone online' },
  { usage: 'broadcast user <user> [<user> ...] message <text>', summary: 'send to the users named' },
  { usage: 'message <user> <text>', summary: 'send to one user, online or not' },
  { usage: 'startprivate <user>', summary: 'open a direct, encrypted chat with a user who is online' },
  { usage: 'getaddress <user>', summary: 'the same as startprivate (the original name)' },
  { usage: 'private <user> <text>', summary: 'send over the direct chat only, never through the server' },
  { usage: 'stopprivate <user>', summary: 'close the direct chat with a user' },
  { usage: 'block <user>', summary: 'stop messages and presence from a user' },
  { usage: 'unblock <user>', summary: 'undo block' },
  { usage: 'blocklist', summary: 'the users you have blocked' },
  { usage: 'logout', summary: 'sign out' },
  { usage: 'help', summary: 'this list' },
];

export const COMMAND_NAMES = [
  'whoelse',
  'wholast',
  'broadcast',
  'message',
  'startprivate',
  'getaddress',
  'private',
  'stopprivate',
  'block',
  'unblock',
  'blocklist',
  'logout',
  'help',
] as const;

const usage = (name: string): string => {
  const line = COMMAND_HELP.filter((h) => h.usage.split(' ')[0] === name).map((h) => h.usage);
  return `usage: ${line.join('  or  ')}`;
};

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

export function parseCommand(line: string): ParseResult {
  const [word, rest] = shift(line);
  const name = word.toLowerCase();
  const fail = (error: string): ParseResult => ({ ok: false, error });
  const ok = (command: Command): ParseResult => ({ ok: true, command });

  switch (name) {
    case '':
      return fail('type a command; "help" lists them');
    case 'whoelse':
    case 'blocklist':
    case 'logout':
    case 'help':
      return rest.trim() ? fail(`${name} takes no arguments`) : ok({ name });
    case 'wholast': {
      const arg = rest.trim();
      if (!arg) return fail(`${usage('wholast')} (how many minutes back?)`);
      if (!/^\d+$/.test(arg)) return fail(`wholast needs a whole number of minutes, not "${arg}"`);
      const minutes = Number(arg);
      if (minutes < 1 || minutes > 59) return fail('wholast takes a number of minutes from 1 to 59');
      return ok({ name, minutes });
    }
    case 'block':
    case 'unblock': {
      const [user, extra] = shift(rest);
      if (!user) return fail(`${usage(name)} (whom?)`);
      if (extra.trim()) return fail(`${name} takes one username`);
      const bad = checkUsername(user);
      return bad ? fail(bad) : ok({ name, username: user });
    }
    case 'startprivate':
    case 'getaddress':
    case 'stopprivate': {
      const [user, extra] = shift(rest);
      if (!user) return fail(`${usage(name)} (with whom?)`);
      if (extra.trim()) return fail(`${name} takes one username${name === 'stopprivate' ? '' : `; then "private ${user} <text>" sends`}`);
      const bad = checkUsername(user);
      // getaddress is the original's name: there it handed out the address; here it opens the same verified channel.
      return bad ? fail(bad) : ok({ name: name === 'stopprivate' ? name : 'startprivate', username: user });
    }
    case 'private': {
      const [user, body] = shift(rest);
      if (!user) return fail(`${usage('private')} (to whom?)`);
      const bad = checkUsername(user) ?? checkBody(body, 'private');
      return bad ? fail(bad) : ok({ name, to: user, body });
    }
    case 'message': {
      const [user, body] = shift(rest);
      if (!user) return fail(`${usage('message')} (to whom?)`);
      const bad = checkUsername(user) ?? checkBody(body, 'message');
      return bad ? fail(bad) : ok({ name, to: user, body });
    }
    case 'broadcast':
      return parseBroadcast(rest);
    default:
      return fail(`unknown command "${word}"; "help" lists them`);
  }
}

function parseBroadcast(rest: string): ParseResult {
  const [mode, tail] = shift(rest);
  if (mode === 'message') {
    const bad = checkBody(tail, 'broadcast');
    return bad ? { ok: false, error: bad } : { ok: true, command: { name: 'broadcast', body: tail } };
  }
  if (mode !== 'user') return { ok: false, error: usage('broadcast') };

  const to: string[] = [];
  let remaining = tail;
  for (;;) {
    const [word, after] = shift(remaining);
    if (!word) {
      return { ok: false, error: `${usage('broadcast')} ("message" and the text must follow the users)` };
    }
    if (word === 'message') {
      if (to.length === 0) return { ok: false, error: `${usage('broadcast')} (name at least one user)` };
      const bad = checkBody(after, 'broadcast');
      if (bad) return { ok: false, error: bad };
      return { ok: true, command: { name: 'broadcast', body: after, to: [...new Set(to)] } };
    }
    const bad = checkUsername(word);
    if (bad) return { ok: false, error: bad };
    to.push(word);
    if (to.length > LIMITS.broadcastRecipientsMax) {
      return { ok: false, error: `a broadcast names at most ${LIMITS.broadcastRecipientsMax} users` };
    }
    remaining = after;
  }
}
