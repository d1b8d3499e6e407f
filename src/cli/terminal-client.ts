import type { ConnectionState, ParleyClient } from '../client/parley-client';
import { asRequestError } from '../client/request-error';
import { PrivateChannels, type PrivateChannelsOptions } from '../client/private-channels';
import { findCommand, type ChannelEvent, type ChatMessage, type Command, type PresenceEvent, type SignedOutEvent } from '../protocol';
import {
  formatChannelEvent,
  formatEntered,
  formatError,
  formatMessage,
  formatPresence,
  formatPrivateAlreadyOpen,
  formatPrivateClosed,
  formatPrivateMessage,
  formatPrivateOnly,
  formatPrivateOpened,
  formatServerText,
  formatUnread,
  formatWelcome,
  promptOf,
  sanitize,
} from './format';
import { BACK_TO_COMMANDS, SIGNED_OUT, formatOffline, formatPrivateRefused } from '../client/sentences';
import { conversationOf, historyOf, interpret, positionOf, sameConversation, type Conversation } from './conversation';
import { MODES_HELP } from './modes';
import { ReadMarker } from './read-marker';
import { runCommand, type CommandPort, type Outcome } from '../client/command-runner';
import { LineInput } from '../tty/line-input';
import { errorMessage } from '../protocol/errors';

export interface TerminalStreams {
  /** Sign-in answers and commands, one a line. */
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Everything the session prints. */
  output: NodeJS.WritableStream & { isTTY?: boolean };
  /** Prompts and the echo of what is typed (stderr), so that output stays clean when piped. */
  prompts: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface TerminalOptions {
  /** The current time, for deciding whether a message's date is shown. */
  now?: () => number;
  /** How long signing out may take on the way out before the connection is simply closed. */
  signOutTimeoutMs?: number;
  /** The peer listener for private chats (interface, advertised address...). */
  private?: PrivateChannelsOptions;
}

type Phase = 'starting' | 'signing-in' | 'chatting' | 'done';

/** Sign-in problems worth another try; anything else (lockout, no answer) ends the program. */
const RETRY_SIGN_IN = new Set<string>(['INVALID_CREDENTIALS', 'BAD_REQUEST', 'ALREADY_SIGNED_IN', 'RATE_LIMITED']);

/**
 * The `parley` terminal session: connects, signs in, then runs commands typed line by line and
 * prints what arrives meanwhile. It owns the client it is given and closes it when the session ends.
 * `run()` resolves with the process exit code. Longer than most files for one concern, the session's life:
 * sign-in, the read loop, the current conversation and what arrives all read and change the same phase and
 * conversation; commands run in the client core's runner, lines are made in ./format.ts and ./conversation.ts.
 */
export class TerminalClient {
  private phase: Phase = 'starting';
  private me: string | undefined;
  private lines: LineInput | undefined;
  /** Events that arrive while signing in, shown after the welcome. */
  private backlog: (() => void)[] = [];
  private leaving: Promise<void> | undefined;
  private end!: (code: number) => void;
  private readonly ended = new Promise<number>((resolve) => (this.end = resolve));
  private readonly now: () => number;
  private readonly signOutTimeoutMs: number;
  /** Direct, encrypted chats; they do not need the message center once open. */
  private readonly channels: PrivateChannels;
  /** The message center is gone for this session but private chats go on. */
  private privateOnly = false;
  private readonly port: CommandPort;
  /** The current conversation; none is the original's command mode. */
  private here: Conversation | undefined;
  /** Read positions of what the terminal showed, sent in batches. */
  private readonly reads = new ReadMarker((of, upTo) => this.client.request('read', { conversation: of, upTo }));
  /** The conversation last paged back (`history`) and where its next older page ends; another one starts from the newest. */
  private lastPage: { key: string; before: number } | undefined;

  constructor(
    private readonly client: ParleyClient,
    private readonly streams: TerminalStreams,
    options: TerminalOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.signOutTimeoutMs = options.signOutTimeoutMs ?? 3000;
    // Created before this session's own listeners, so that it has closed its chats when a sign-out is shown.
    this.channels = new PrivateChannels(client, options.private);
    this.port = { requests: client, private: this.channels };
    this.channels.on('message', (m) => this.whenChatting(() => this.print(formatPrivateMessage(m, this.now()))));
    this.channels.on('opened', (o) => this.whenChatting(() => this.print(formatPrivateOpened(o.username, o.safetyCode))));
    this.channels.on('closed', (c) => this.whenChatting(() => this.onPrivateClosed(formatPrivateClosed(c), c.username)));
    this.channels.on('refused', (r) => this.whenChatting(() => this.print(formatPrivateRefused(r))));
    this.channels.on('problem', (err) =>
      this.whenChatting(() => this.print(formatError(`direct connections are unavailable: ${err.message}`))),
    );
    client.on('message', (message) => this.whenChatting(() => this.onMessage(message)));
    client.on('presence', (event) => this.whenChatting(() => this.onPresence(event)));
    client.on('channel', (event) => this.whenChatting(() => this.onChannelEvent(event)));
    client.on('signedOut', (event) => this.onSignedOut(event));
    client.on('state', (state) => this.onState(state));
    client.on('resumed', () => this.whenChatting(() => this.print(`Reconnected as ${sanitize(this.me ?? '?')}.`)));
    client.on('problem', (err) => {
      if (this.phase !== 'chatting') return;
      this.print(formatError(`could not sign in again: ${err.message}`));
      this.finish(1);
    });
  }

  async run(): Promise<number> {
    this.lines = new LineInput(this.streams.input, this.streams.prompts);
    this.lines.onInterrupt(() => this.interrupt());
    this.session().then(
      (code) => this.finish(code),
      (err: unknown) => {
        this.print(formatError(errorMessage(err)));
        this.finish(1);
      },
    );
    const code = await this.ended;
    this.lines.close();
    await this.channels.close();
    this.client.close();
    return code;
  }

  /** Ctrl-C or a termination signal: sign out if signed in, then end with 0. A second one ends at once. */
  interrupt(): void {
    if (this.phase === 'done') return;
    if (this.leaving) return this.finish(0);
    void this.leave().then(() => this.finish(0));
  }

  private async session(): Promise<number> {
    this.phase = 'signing-in';
    try {
      await this.client.connect();
    } catch (err) {
      this.print(formatServerText(errorMessage(err)));
      return 1;
    }
    const signedIn = await this.signIn();
    if (signedIn !== undefined) return signedIn;
    if (this.isDone()) return 0;

    this.phase = 'chatting';
    for (const show of this.backlog.splice(0)) show();
    // Not awaited: a server slow to answer must not hold up the first command.
    void this.showUnread();
    for (;;) {
      // Piped input gets no prompt in command mode, as in the original; a conversation's is always shown (on stderr).
      const prompt = this.lines!.terminal || this.here !== undefined ? promptOf(this.here) : '';
      const line = await this.lines!.read(prompt);
      if (line === undefined || this.isDone()) break;
      if (!line.trim()) continue;
      const { parsed, typed } = interpret(line, this.here);
      if (!parsed.ok) {
        this.print(parsed.error);
        continue;
      }
      if (parsed.command.name === 'logout') break;
      await this.execute(parsed.command, typed);
    }
    await this.leave();
    return 0;
  }

  /** On sign-in: the channels with unread messages, if the server keeps any (protocol 3). */
  private async showUnread(): Promise<void> {
    try {
      const line = formatUnread((await this.client.request('conversations', {})).channels);
      if (line !== undefined) this.print(line);
    } catch {
      // A server without channels has nothing to say here.
    }
  }

  /** Asks for a username and password until the server accepts them; a number is the exit code when it gives up. */
  private async signIn(): Promise<number | undefined> {
    const lines = this.lines!;
    for (;;) {
      const username = (await lines.read('Username: '))?.trim();
      if (username === undefined) return 0;
      if (!username) continue;
      const password = await lines.read('Password: ', { hidden: true });
      if (password === undefined) return 0;
      if (!password) {
        this.print('A password is required.');
        continue;
      }
      try {
        const reply = await this.client.login(username, password);
        this.me = reply.username;
        // One more round trip, so that once welcomed others can open private chats at once (a failure is shown as a problem).
        await this.channels.ready().catch(() => {});
        this.print(formatWelcome(reply.username, reply.online));
        return undefined;
      } catch (err) {
        const error = asRequestError(err);
        this.print(formatServerText(error.message));
        if (!RETRY_SIGN_IN.has(error.code)) return 1;
      }
    }
  }

  private async execute(command: Exclude<Command, { name: 'logout' }>, typed: boolean): Promise<void> {
    // Only requests wait for the server: help and the direct channel's commands work without it.
    if (findCommand(command.name)?.request !== undefined && this.client.state !== 'signed-in') {
      this.print('Not connected right now; the command will run once the connection is back.');
    }
    try {
      if (command.name === 'history') return await this.showHistory(command);
      const outcome = await runCommand(command, this.port);
      const line = typed
        ? terminalLine(outcome)
        : outcome.name === 'message' && !outcome.reply.online
          ? formatOffline(outcome.to)
          : undefined;
      if (line !== undefined) this.print(line);
      await this.follow(outcome);
    } catch (err) {
      this.print(formatError(asRequestError(err).message));
    }
  }

  /** What an outcome changes in the conversation: joining or querying enters one, closing or leaving it goes back. */
  private async follow(outcome: Outcome): Promise<void> {
    switch (outcome.name) {
      case 'join':
        return this.enter({ kind: 'channel', channel: outcome.channel.name });
      case 'query':
        return this.enter({ kind: outcome.private ? 'private' : 'direct', with: outcome.username });
      case 'close':
        return this.backToCommands(this.here ? BACK_TO_COMMANDS : 'No conversation is open: this is command mode.');
      case 'leave':
      case 'delete':
        if (sameConversation(this.here, { kind: 'channel', channel: outcome.channel })) this.backToCommands(BACK_TO_COMMANDS);
        return;
      case 'rename':
        if (sameConversation(this.here, { kind: 'channel', channel: outcome.channel }))
          this.moveTo({ kind: 'channel', channel: outcome.to });
        return;
      default:
        return;
    }
  }

  /** Makes `here` the current conversation, showing its latest messages first (which also checks that it exists). */
  private async enter(here: Conversation): Promise<void> {
    const of = historyOf(here);
    if (of !== undefined) await this.showHistory({ name: 'history', of }, true);
    this.moveTo(here);
    this.print(formatEntered(here));
  }

  private backToCommands(line: string): void {
    this.moveTo(undefined);
    this.lastPage = undefined;
    this.print(line);
  }

  /** Changes the current conversation, and the prompt of a line being typed meanwhile (a chat that closed, a channel renamed). */
  private moveTo(here: Conversation | undefined): void {
    this.here = here;
    this.lines?.setPrompt(promptOf(here));
  }

  /**
   * A page of history: of the conversation named, else of the current one, else all of the user's messages. Typed
   * again for the same conversation, the page before the last one shown; `latest` starts from the newest.
   */
  private async showHistory(command: Extract<Command, { name: 'history' }>, latest = false): Promise<void> {
    if (command.of === undefined && this.here?.kind === 'private') {
      this.print('A private chat keeps no history: nothing of it went through the server.');
      return;
    }
    const of = command.of ?? (this.here && historyOf(this.here));
    const key = JSON.stringify(of ?? {});
    const before = !latest && this.lastPage?.key === key ? this.lastPage.before : undefined;
    const outcome = await runCommand(
      { name: 'history', ...(of && { of }), ...(before !== undefined && { before }), limit: PAGE },
      this.port,
    );
    if (outcome.name !== 'history') return;
    const view: Conversation | undefined = of && ('channel' in of ? { kind: 'channel', ...of } : { kind: 'direct', ...of });
    for (const message of outcome.messages) this.print(formatMessage(message, this.me, this.now(), view));
    this.print(outcome.sentence);
    const [first, last] = [outcome.messages[0], outcome.messages.at(-1)];
    if (first !== undefined) this.lastPage = { key, before: positionOf(first) };
    // Shown is read: the newest page moves the read position (never back) in this conversation for all the user's sessions.
    if (of !== undefined && before === undefined && last !== undefined) this.reads.mark(of, positionOf(last));
  }

  private onPrivateClosed(line: string, username: string): void {
    this.print(line);
    // Lines typed next must not go anywhere the user did not choose: not to the server, not to a chat that is gone.
    if (sameConversation(this.here, { kind: 'private', with: username })) this.backToCommands(BACK_TO_COMMANDS);
    // Without a server, the session ends with its last private chat.
    if (this.privateOnly && this.channels.open.length === 0 && !this.leaving) {
      this.print('No private chats left and no server; the session ends.');
      this.finish(0);
    }
  }

  /**
   * The message center ended this session (idle time-out) or cut the connection for good: with private
   * chats open the session goes on for them; returns false when it should end as before.
   */
  private keepForPrivate(): boolean {
    if (this.phase !== 'chatting' || this.leaving || this.channels.open.length === 0) return false;
    if (!this.privateOnly) {
      this.privateOnly = true;
      this.print(formatPrivateOnly(this.channels.open));
    }
    return true;
  }

  /** Signs out if signed in (waiting a little at most); safe to call more than once. */
  private leave(): Promise<void> {
    this.leaving ??= (async () => {
      if (this.phase === 'done') return;
      this.reads.flush();
      // Peers hear the goodbye first, from this client directly: the message center may be gone.
      await this.channels.signOut();
      if (this.client.state !== 'signed-in') return;
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.signOutTimeoutMs)));
      try {
        await Promise.race([this.client.logout().catch(() => {}), giveUp]);
      } finally {
        clearTimeout(timer);
      }
      // The server's own word usually comes first (onSignedOut); this covers a goodbye that never came.
      if (!this.isDone()) this.print(SIGNED_OUT);
    })();
    return this.leaving;
  }

  private onMessage(message: ChatMessage): void {
    this.print(formatMessage(message, this.me, this.now(), this.here));
    const own = conversationOf(message, this.me);
    if (own !== undefined && sameConversation(own, this.here)) this.reads.mark(historyOf(own)!, positionOf(message));
  }

  private onPresence(event: PresenceEvent): void {
    this.print(formatPresence(event));
  }

  /**
   * A change made elsewhere (the server tells the session that made it only by its reply); one that ends the current
   * channel for this user goes back to commands.
   */
  private onChannelEvent(event: ChannelEvent): void {
    this.print(formatChannelEvent(event));
    if (!sameConversation(this.here, { kind: 'channel', channel: event.channel })) return;
    const mine = event.username === this.me;
    if (event.change === 'renamed' && event.to !== undefined) this.moveTo({ kind: 'channel', channel: event.to });
    else if (event.change === 'deleted' || ((event.change === 'removed' || event.change === 'left') && mine)) {
      this.backToCommands(BACK_TO_COMMANDS);
    }
  }

  private onSignedOut(event: SignedOutEvent): void {
    if (this.phase === 'done') return;
    this.print(formatServerText(event.message));
    // A server shutting down is usually restarting; the client core waits for it and signs in again.
    if (event.reason === 'shutdown' && this.phase === 'chatting') this.print('Waiting for the server to come back (Ctrl-C to quit)...');
    else if (event.reason === 'idle' && this.keepForPrivate()) return;
    else this.finish(0);
  }

  private onState(state: ConnectionState): void {
    if (this.phase !== 'chatting') return;
    if (state === 'reconnecting') this.print('Connection lost; reconnecting...');
    // Offline without a goodbye first: the server closed the connection and will not take it back.
    else if (state === 'offline' && !this.leaving) {
      if (this.keepForPrivate()) return;
      this.print('Disconnected by the server.');
      this.finish(1);
    }
  }

  /** Runs `show` now when chatting, after the welcome when still signing in, never once done. */
  private whenChatting(show: () => void): void {
    if (this.phase === 'chatting') show();
    else if (this.phase === 'signing-in') this.backlog.push(show);
  }

  /** Every line goes through the sanitiser on its way out, whatever built it: a field left raw cannot reach the terminal. */
  private print(line: string): void {
    const text = sanitize(line);
    if (this.phase === 'chatting' && this.lines) this.lines.writeAbove(this.streams.output, text + '\n');
    else this.streams.output.write(text + '\n');
  }

  /** A method, not a comparison, so that TypeScript does not narrow `phase` across awaits. */
  private isDone(): boolean {
    return this.phase === 'done';
  }

  private finish(code: number): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.end(code);
  }
}

/** How many messages a page of history shows in the terminal. */
const PAGE = 20;

/**
 * Most outcomes in the shared words; a private chat's opening and closing are told by the channel's own events, and
 * entering or leaving a conversation by the terminal itself.
 */
function terminalLine(outcome: Outcome): string | undefined {
  switch (outcome.name) {
    case 'startprivate':
      return outcome.reply.already ? formatPrivateAlreadyOpen(outcome.username) : undefined;
    case 'stopprivate':
    case 'query':
    case 'close':
      return undefined;
    case 'help':
      return `${outcome.sentence}\n\n${MODES_HELP}`;
    default:
      return outcome.sentence;
  }
}
