import { COMMAND_HELP, findCommand, tokenUsage, type Token } from '../protocol/commands';

/**
 * What the composer offers while typing, read from the command table: in text that starts with "/" (a
 * command; anything else is a message), command names, then what each command's forms expect next (a keyword,
 * usernames where an argument is a user, channels where it is a channel); and @mentions in any line.
 */

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

/** Every name a command is typed as (aliases too), with its first usage line and summary. */
const NAMES = COMMAND_HELP.filter((h) => !h.terminalOnly)
  .map((h) => {
    const name = h.usage.split(' ')[0]!;
    return { name, usage: h.usage, summary: h.summary, takesArgs: h.usage.includes(' ') };
  })
  .filter((c, i, all) => all.findIndex((o) => o.name === c.name) === i);

const MAX_ITEMS = 8;

function users(prefix: string, usernames: readonly string[], prepend = ''): Completion[] {
  const lower = prefix.toLowerCase();
  return usernames
    .filter((u) => u.toLowerCase().startsWith(lower) && u.toLowerCase() !== lower)
    .slice(0, MAX_ITEMS)
    .map((u) => ({ label: prepend + u, insert: `${prepend}${u} ` }));
}

/** The channels (names without "#") whose name starts with what is typed, "#" or not. */
function channels(word: string, names: readonly string[]): Completion[] {
  const typed = word.replace(/^#/, '').toLowerCase();
  return names
    .filter((c) => c.startsWith(typed) && c !== typed)
    .slice(0, MAX_ITEMS)
    .map((c) => ({ label: `#${c}`, insert: `#${c} ` }));
}

/** Where a form stands after the words typed: the token expected next, and users already named for `users`. */
interface Place {
  tokens: readonly Token[];
  index: number;
  named: string[];
}

/** Follows one form through the typed words; undefined when they do not fit it or have reached its text. */
function follow(tokens: readonly Token[], words: readonly string[]): Place | undefined {
  let index = 0;
  let named: string[] = [];
  for (const word of words) {
    const token = tokens[index];
    if (!token) return undefined;
    if ('word' in token) {
      if (word !== token.word) return undefined;
      index++;
    } else if (token.arg === 'text') {
      return undefined;
    } else if (token.arg === 'users') {
      const next = tokens[index + 1];
      if (next && 'word' in next && word === next.word) {
        index += 2;
        named = [];
      } else named.push(word);
    } else index++;
  }
  return { tokens, index, named };
}

/** What a form offers for the word being typed at `place`. */
function offers(place: Place, word: string, usernames: readonly string[], channelNames: readonly string[]): Completion[] {
  const { tokens, index, named } = place;
  const token = tokens[index];
  if (!token) return [];
  const keyword = (at: number): Completion[] => {
    const t = tokens[at];
    if (!t || !('word' in t) || !t.word.startsWith(word.toLowerCase()) || t.word === word) return [];
    const label = tokens
      .slice(at)
      .map((x) => tokenUsage(x, true))
      .join(' ');
    return [{ label, insert: `${t.word} `, ...(t.hint !== undefined && { detail: t.hint }) }];
  };
  if ('word' in token) return keyword(index);
  if (token.arg === 'user') return users(word, usernames);
  if (token.arg === 'channel') return channels(word, channelNames);
  if (token.arg === 'users') {
    const items = users(
      word,
      usernames.filter((u) => !named.includes(u)),
    );
    return named.length > 0 ? [...items, ...keyword(index + 1)] : items;
  }
  return [];
}

/** `channels`: the names (without "#") of the channels the user is in. */
export function complete(
  text: string,
  cursor: number,
  usernames: readonly string[],
  channelNames: readonly string[] = [],
): CompletionResult | undefined {
  const before = text.slice(0, cursor);
  // The word being typed ends at the cursor.
  const word = /(\S*)$/.exec(before)![1]!;
  const from = cursor - word.length;
  const done = (items: Completion[]): CompletionResult | undefined => (items.length ? { from, to: cursor, items } : undefined);

  // An @mention anywhere.
  if (word.startsWith('@')) return done(users(word.slice(1), usernames, '@'));

  // Commands only where the composer runs them: after one "/" at the very start ("//" starts a message).
  if (!before.startsWith('/') || before.startsWith('//')) return undefined;
  const words = before.slice(0, from).trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) {
    const typed = word.slice(1).toLowerCase();
    if (NAMES.some((c) => c.name === typed)) return undefined;
    return done(
      NAMES.filter((c) => c.name.startsWith(typed)).map((c) => ({
        label: `/${c.usage}`,
        insert: `/${c.name}${c.takesArgs ? ' ' : ''}`,
        detail: c.summary,
      })),
    );
  }
  const spec = findCommand(words[0]!.slice(1));
  if (!spec) return undefined;
  const items: Completion[] = [];
  for (const form of spec.forms) {
    const place = follow(form.tokens, words.slice(1));
    for (const item of place ? offers(place, word, usernames, channelNames) : [])
      if (!items.some((i) => i.insert === item.insert)) items.push(item);
  }
  return done(items);
}
