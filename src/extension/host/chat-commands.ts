import * as vscode from 'vscode';
import { formatBroadcast } from '../../client/sentences';
import type { ArgKind, Command, CommandName } from '../../protocol';
import { EVERYONE } from '../../view-protocol';
import type { ChatSession, InputResult } from '../core/chat-session';
import type { Person } from '../core/chat-state';
import { CHAT_PALETTE, type ChatPaletteEntry } from '../core/command-ids';
import { toastSafe } from '../core/notifications';
import { askMinutes, askText, personItem, pickUser, pickUsers, showUsers, type UserItem } from './pickers';
import type { CommandHandler } from './register-command';

/**
 * The chat commands in the palette, one generic flow per palette entry of the command table: sign in if the
 * command needs the server, take the arguments given (a keybinding's, a test's, the people view's person) and
 * ask for the rest by their kind, parse them with the command's own parse function, run the command through
 * the session as the chat view's composer does (its answer is a quiet line in the conversation on screen), and
 * show the result in a notification or a quick pick. A new command needs nothing here: the defaults ask for
 * anyone known and show the command's sentence.
 */

export interface ChatCommandsHost {
  readonly session: ChatSession;
  ensureSignedIn(): Promise<boolean>;
  /** The conversation on screen in a chat view, if one is visible. */
  onScreen(): string | undefined;
  reveal(conversation: string, focusComposer?: boolean): Promise<void>;
  /** Opens the direct conversation with a user (the people view's "Message"). */
  message(username: string): void;
  log: vscode.LogOutputChannel;
}

/** How a command asks for a user: whom it offers. */
interface UserQuestion {
  /** Its title; the palette entry's by default. */
  title?: string;
  placeholder?: string;
  items(session: ChatSession): UserItem[] | Promise<UserItem[]>;
  /** Whether a username not offered may be typed. */
  typed: boolean;
  /** Said instead of asking when there is nobody to offer. */
  none?: string;
  /** Takes the only one offered without asking. */
  takeOnly?: true;
}

const people = (session: ChatSession, keep: (p: Person) => boolean = () => true): UserItem[] =>
  session.state.people().filter(keep).map(personItem);

const ANYONE: UserQuestion = { items: (session) => people(session), typed: true };

const USER_QUESTIONS: Partial<Record<CommandName, UserQuestion>> = {
  message: { ...ANYONE, title: 'Send a message to whom?' },
  block: { title: 'Block whom? (no messages either way, no presence)', items: (s) => people(s, (p) => !p.blocked), typed: true },
  unblock: {
    items: async (s) => (await s.blocklist()).map((u) => ({ label: u, description: 'blocked' })),
    typed: false,
    none: 'you have not blocked anyone.',
  },
  startprivate: {
    placeholder: 'Direct and encrypted; messages are not stored on the server',
    items: (s) =>
      s.state
        .people()
        .filter((p) => p.online && !p.blocked)
        .map((p) => ({ label: p.username, description: s.privateStateOf(p.username) === 'direct' ? 'private chat open' : 'online' })),
    typed: false,
    none: 'nobody else is online; a private chat needs the other person online.',
  },
  stopprivate: {
    title: 'Stop Private Chat with…',
    items: (s) => s.state.privateChats().map((u) => ({ label: u, description: 'private chat' })),
    typed: false,
    none: 'no private chat is open.',
    takeOnly: true,
  },
};

type Shown = Exclude<InputResult, { kind: 'error' }>;
type Presenters = { [N in CommandName]?: (result: Shown, command: Extract<Command, { name: N }>, host: ChatCommandsHost) => unknown };

/** How a command's result is shown, and what the command returns, where the default (below) does not fit. */
const PRESENTERS: Presenters = {
  broadcast: (result, command) => {
    if (result.kind !== 'sent' || !result.delivery) return undefined;
    const reply = result.delivery;
    void vscode.window.showInformationMessage(`Parley: ${formatBroadcast(reply, command.to !== undefined)}`);
    return { id: result.message.id, delivered: reply.delivered, skipped: reply.skipped };
  },
  message: (result, command) => {
    if (result.kind !== 'sent') return undefined;
    if (result.online === false)
      void vscode.window.showInformationMessage(`Parley: sent; ${command.to} is offline and will get it on signing in.`);
    return result.message;
  },
  block: (_result, command) => {
    void vscode.window.showInformationMessage(`Parley: blocked ${command.username}.`);
    return command.username;
  },
  unblock: (_result, command) => {
    void vscode.window.showInformationMessage(`Parley: unblocked ${command.username}.`);
    return command.username;
  },
  // The private conversation says when it has closed.
  stopprivate: (_result, command) => command.username,
};

/** Users as a quick pick, a conversation opened, or the sentence as a notification. */
function presentDefault(result: Shown, host: ChatCommandsHost): unknown {
  if (result.kind === 'sent') {
    void host.reveal(result.conversation);
    return result.message;
  }
  if (result.kind !== 'command') return undefined;
  if (result.users) {
    showUsers(result.text, result.users, host.session.state.people(), (username) => host.message(username));
    return result.users;
  }
  if (result.open) {
    void host.reveal(result.open, true);
    return result.open;
  }
  void vscode.window.showInformationMessage(`Parley: ${toastSafe(result.text)}`);
  return result.text;
}

/** Where a command runs: where its answer goes, and what a failure says nothing more about. */
function conversationFor(command: Command, host: ChatCommandsHost): { conversation: string; toldThere?: true } {
  if (command.name === 'startprivate') {
    // Shown at once, so that "connecting…" and any failure are seen there (a failure also comes as `privateFailed`).
    const conversation = host.session.state.openPrivate(command.username);
    void host.reveal(conversation, true);
    return { conversation, toldThere: true };
  }
  return { conversation: host.onScreen() ?? EVERYONE };
}

/** A person as the people view passes it, or a username. */
export function usernameOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const username = (arg as { username?: unknown } | undefined)?.username;
  return typeof username === 'string' ? username : undefined;
}

/** An argument as a caller gives it, in the words of a typed command; undefined when not given. */
function given(kind: ArgKind, arg: unknown): string | undefined {
  switch (kind) {
    case 'user':
      return usernameOf(arg);
    case 'users':
      return Array.isArray(arg) && arg.length ? arg.join(' ') : undefined;
    case 'minutes':
      return arg === undefined ? undefined : String(arg);
    case 'text':
      return typeof arg === 'string' ? arg : undefined;
  }
}

export class ChatCommands {
  constructor(private readonly host: ChatCommandsHost) {}

  /** A handler for each chat command's palette entry. */
  handlers(): { id: string; title: string; handler: CommandHandler }[] {
    return CHAT_PALETTE.map((palette) => ({
      id: palette.entry.id,
      title: palette.entry.title,
      handler: (...args: unknown[]) => this.run(palette, args),
    }));
  }

  private async run({ spec, form, entry }: ChatPaletteEntry, args: readonly unknown[]): Promise<unknown> {
    // A private chat can be stopped without the server (signed out, private chats still open).
    if (spec.request !== undefined && !(await this.host.ensureSignedIn())) return undefined;
    const title = entry.title.replace(/…$/, '');
    const words: string[] = [];
    const named: string[] = [];
    let next = 0;
    for (const token of form.tokens) {
      if ('word' in token) {
        words.push(token.word);
        continue;
      }
      const word = given(token.arg, args[next++]) ?? (await this.ask(token.arg, spec.name, title, named, form.summary));
      // Blank text is a change of mind, as in the composer.
      if (word === undefined || !word.trim()) return undefined;
      if (token.arg === 'user' || token.arg === 'users') named.push(...word.split(' '));
      words.push(word);
    }
    const parsed = spec.parse(words.join(' '), spec.name);
    if (!parsed.ok) {
      this.host.log.warn(`${entry.title}: ${parsed.error}`);
      void vscode.window.showErrorMessage(`Parley: ${toastSafe(parsed.error)}`);
      return undefined;
    }
    const command = parsed.command;
    const { conversation, toldThere } = conversationFor(command, this.host);
    const result = await this.host.session.execute(conversation, command);
    if (result.kind === 'error') {
      if (toldThere) return undefined;
      this.host.log.error(`${entry.title}: ${result.error}`);
      void vscode.window.showErrorMessage(`Parley: ${toastSafe(result.error)}`);
      return undefined;
    }
    const present = PRESENTERS[command.name] as ((result: Shown, command: Command, host: ChatCommandsHost) => unknown) | undefined;
    return present ? present(result, command, this.host) : presentDefault(result, this.host);
  }

  /** Asks for an argument by its kind; `named` are the users already given (the text is for them), else the form's summary says. */
  private async ask(
    kind: ArgKind,
    name: CommandName,
    title: string,
    named: readonly string[],
    summary: string,
  ): Promise<string | undefined> {
    switch (kind) {
      case 'user':
        return this.askUser(USER_QUESTIONS[name] ?? ANYONE, title);
      case 'users':
        return (await pickUsers(title, people(this.host.session)))?.join(' ');
      case 'minutes':
        return (await askMinutes(title))?.toString();
      case 'text':
        return askText(title, named.length ? `Sent to ${named.join(', ')}` : summary.charAt(0).toUpperCase() + summary.slice(1));
    }
  }

  private async askUser(question: UserQuestion, title: string): Promise<string | undefined> {
    const items = await question.items(this.host.session);
    if (items.length === 0 && question.none) {
      void vscode.window.showInformationMessage(`Parley: ${question.none}`);
      return undefined;
    }
    if (question.takeOnly && items.length === 1) return items[0]!.label;
    return pickUser({
      title: question.title ?? title,
      items,
      typed: question.typed,
      ...(question.placeholder && { placeholder: question.placeholder }),
    });
  }
}
