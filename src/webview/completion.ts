import { COMMAND_HELP } from '../protocol/commands';

/** What the composer offers while typing: command names first in a line, usernames where a command expects one, and @mentions. */

export interface Completion {
  label: string;
  /** Replaces text[from, to). */
  insert: string;
  detail?: string;
}

export interface CompletionResult {
  from: number;
  to: number;
  items: Completion[];
}

const COMMANDS = COMMAND_HELP.map((h) => {
  const name = h.usage.split(' ')[0]!;
  return { name, usage: h.usage, summary: h.summary, takesArgs: h.usage.includes(' ') };
}).filter((c, i, all) => all.findIndex((o) => o.name === c.name) === i);

const MAX_ITEMS = 8;

function users(prefix: string, usernames: readonly string[], prepend = ''): Completion[] {
  const lower = prefix.toLowerCase();
  return usernames
    .filter((u) => u.toLowerCase().startsWith(lower) && u.toLowerCase() !== lower)
    .slice(0, MAX_ITEMS)
    .map((u) => ({ label: prepend + u, insert: `${prepend}${u} ` }));
}

export function complete(text: string, cursor: number, usernames: readonly string[]): CompletionResult | undefined {
  const before = text.slice(0, cursor);
  // The word being typed ends at the cursor.
  const wordMatch = /(\S*)$/.exec(before)!;
  const word = wordMatch[1]!;
  const from = cursor - word.length;
  const done = (items: Completion[], start = from): CompletionResult | undefined =>
    items.length ? { from: start, to: cursor, items } : undefined;

  // An @mention anywhere.
  if (word.startsWith('@')) return done(users(word.slice(1), usernames, '@'));

  const words = before.slice(0, from).trim().split(/\s+/).filter(Boolean);
  const slash = words.length === 0 && word.startsWith('/') ? '/' : '';
  if (words.length === 0) {
    const typed = word.slice(slash.length).toLowerCase();
    if (!typed && !slash) return undefined;
    if (COMMANDS.some((c) => c.name === typed)) return undefined;
    return done(
      COMMANDS.filter((c) => c.name.startsWith(typed)).map((c) => ({
        label: c.usage,
        insert: slash + c.name + (c.takesArgs ? ' ' : ''),
        detail: c.summary,
      })),
    );
  }
  const command = words[0]!.replace(/^\//, '').toLowerCase();
  if ((command === 'message' || command === 'block' || command === 'unblock') && words.length === 1) {
    return done(users(word, usernames));
  }
  if (command === 'broadcast') {
    if (words.length === 1) {
      const modes = [
        { label: 'message <text>', insert: 'message ', detail: 'to everyone online' },
        { label: 'user <user> ... message <text>', insert: 'user ', detail: 'to the users named' },
      ];
      return done(modes.filter((m) => m.insert.startsWith(word.toLowerCase()) && m.insert.trim() !== word));
    }
    if (words[1] === 'user' && !words.slice(2).includes('message')) {
      const named = new Set(words.slice(2));
      const items = users(
        word,
        usernames.filter((u) => !named.has(u)),
      );
      if (words.length > 2 && 'message'.startsWith(word.toLowerCase()) && word !== 'message') {
        items.push({ label: 'message <text>', insert: 'message ', detail: 'then the text' });
      }
      return done(items);
    }
  }
  return undefined;
}
