import { EventEmitter } from 'node:events';
import { ParleyClient, ParleyRequestError, type ClientOptions, type ConnectionState } from '../../client/parley-client';
import {
  formatBlocked,
  formatBlocklist,
  formatBroadcast,
  formatHelp,
  formatSent,
  formatUnblocked,
  formatWhoElse,
  formatWhoLast,
} from '../../cli/format';
import {
  COMMAND_NAMES,
  LIMITS,
  parseCommand,
  type ChatMessage,
  type Command,
  type PresenceEvent,
  type SignedOutEvent,
} from '../../protocol';
import { EVERYONE, directId, partnerOf } from '../../webview/protocol';
import { ChatState, conversationOf, mentions } from './chat-state';
import { asRequestError } from './errors';

/**
 * The extension's chat session: owns the ParleyClient, keeps ChatState up to date, and runs what
 * the user types or picks. No VS Code API here, so tests drive it against a real server.
 */

export interface NotifyEvent {
  message: ChatMessage;
  conversation: string;
  reason: 'direct' | 'mention';
}

export interface SessionEvents {
  /** A direct message or an @mention arrived for a conversation that is not on screen. */
  notify: [event: NotifyEvent];
  /** Signing in again after a dropped connection failed (e.g. the password changed). */
  problem: [error: ParleyRequestError];
  /** The session ended without the user asking (idle timeout, account removed, server gone). */
  ended: [message: string];
}

export type InputResult =
  | { kind: 'empty' }
  | { kind: 'sent'; conversation: string; message: ChatMessage }
  | { kind: 'command'; command: Command['name']; text: string; users?: string[] }
  | { kind: 'error'; error: string }
  | { kind: 'logout' };

export interface SessionOptions {
  client?: ClientOptions;
  /** Messages per history request (at most LIMITS.historyPageMax). */
  historyPage?: number;
  /** Minutes asked with wholast to tell how long ago people were seen. */
  lastSeenBuckets?: number[];
  now?: () => number;
}

/** The `wholast` windows asked at sign-in and on refresh: "last seen within 5 min" and so on. */
export const LAST_SEEN_BUCKETS = [1, 5, 15, 30, 59];

export class ChatSession extends EventEmitter<SessionEvents> {
  readonly state: ChatState;
  private client: ParleyClient | undefined;
  private readonly options: SessionOptions;
  private readonly page: number;
  /** Why the session is ending, told by the server before the connection closes. */
  private endMessage: string | undefined;
  private closing = false;
  private readonly loading = new Map<string, Promise<{ added: number; hasOlder: boolean }>>();
  private identity: string | undefined;

  constructor(options: SessionOptions = {}, state?: ChatState) {
    super();
    this.options = options;
    this.page = Math.min(options.historyPage ?? LIMITS.historyPageMax, LIMITS.historyPageMax);
    this.state = state ?? new ChatState(options.now);
  }

  get username(): string | undefined {
    return this.state.connection.phase === 'signed-in' || this.state.connection.phase === 'reconnecting' ? this.state.me : undefined;
  }

  get signedIn(): boolean {
    return this.state.connection.phase === 'signed-in';
  }

  get url(): string | undefined {
    return this.client?.url;
  }

  /** Connects and signs in; rejects with the client core's ParleyRequestError (see errors.ts for the words). */
  async connect(url: string, username: string, password: string): Promise<void> {
    this.closeClient();
    this.endMessage = undefined;
    this.state.setConnection({ phase: 'connecting', url, username });
    const client = new ParleyClient(url, this.options.client);
    this.client = client;
    this.wire(client);
    let online: string[];
    try {
      await client.connect();
      online = (await client.login(username, password)).online;
    } catch (err) {
      if (this.client === client) {
        this.closeClient();
        this.state.setConnection({ phase: 'signed-out', url, username, message: asRequestError(err).message });
      }
      throw asRequestError(err);
    }
    const identity = `${url}\n${username}`;
    if (this.identity !== identity || this.state.me !== username) this.state.reset(username);
    this.identity = identity;
    this.state.setOnline(online);
    this.state.setConnection({ phase: 'signed-in', url, username });
    await this.loadInitial();
  }

  /** History, the block list and who was seen lately; what fails here is not worth failing the sign-in for. */
  private async loadInitial(): Promise<void> {
    await Promise.allSettled([this.loadLatest(false), this.refreshPeople()]);
  }

  /** The newest page of everything; messages newer than what is known count as unread (`live`). */
  private async loadLatest(asLive: boolean): Promise<void> {
    const client = this.requireClient();
    const newest = Math.max(0, ...this.state.conversations().map((c) => this.state.messages(c.id).at(-1)?.id ?? 0));
    const { messages, more } = await client.history({ limit: this.page });
    const known = messages.filter((m) => m.id <= newest);
    const fresh = messages.filter((m) => m.id > newest);
    if (asLive && newest > 0 && more && known.length === 0) {
      // Away for longer than a page: what was loaded before has a gap after it; start again from the newest.
      const me = this.state.me;
      this.state.reset(me);
      this.state.addMessages(messages, false);
      this.state.recordPage(undefined, messages, undefined, more);
      return;
    }
    this.state.addMessages(known, false);
    this.state.addMessages(fresh, asLive && newest > 0);
    if (this.state.globalFrom === undefined || !asLive) this.state.recordPage(undefined, messages, undefined, more);
  }

  /** Who is online, who was seen lately, and whom I blocked. */
  async refreshPeople(): Promise<void> {
    const client = this.requireClient();
    const buckets = this.options.lastSeenBuckets ?? LAST_SEEN_BUCKETS;
    const [online, blocked, ...lasts] = await Promise.all([
      client.whoelse(),
      client.blocklist(),
      ...buckets.map((minutes) => client.wholast(minutes)),
    ]);
    this.state.setOnline(online.users);
    this.state.setBlocked(blocked.users);
    buckets.forEach((minutes, i) => this.state.applyWholast(minutes, lasts[i]!.users));
  }

  /** Older messages of a conversation from the server, one page (Everyone: until a page holds a broadcast). */
  loadOlder(conversation: string): Promise<{ added: number; hasOlder: boolean }> {
    let pending = this.loading.get(conversation);
    if (!pending) {
      pending = this.fetchOlder(conversation).finally(() => this.loading.delete(conversation));
      this.loading.set(conversation, pending);
    }
    return pending;
  }

  private async fetchOlder(conversation: string): Promise<{ added: number; hasOlder: boolean }> {
    const client = this.requireClient();
    const partner = partnerOf(conversation);
    let added = 0;
    if (partner !== undefined) {
      const before = this.state.loadedFrom(conversation);
      const { messages, more } = await client.history({ with: partner, limit: this.page, ...(before !== undefined && { before }) });
      added = this.state.addMessages(messages, false).length;
      this.state.recordPage(conversation, messages, before, more);
    } else {
      for (let pages = 0; pages < 5 && this.state.globalHasOlder; pages++) {
        const before = this.state.globalFrom;
        const { messages, more } = await client.history({ limit: this.page, ...(before !== undefined && { before }) });
        const fresh = this.state.addMessages(messages, false);
        this.state.recordPage(undefined, messages, before, more);
        added += fresh.filter((m) => m.kind === 'broadcast').length;
        if (added > 0) break;
      }
    }
    return { added, hasOlder: this.state.hasOlderOnServer(conversation) };
  }

  // ---- requests, as the palette commands use them: they update the state and return the answer ----

  async whoelse(): Promise<string[]> {
    const { users } = await this.requireClient().whoelse();
    this.state.setOnline(users);
    return users;
  }

  async wholast(minutes: number): Promise<string[]> {
    const { users } = await this.requireClient().wholast(minutes);
    this.state.applyWholast(minutes, users);
    return users;
  }

  async sendDirect(to: string, body: string): Promise<{ message: ChatMessage; online: boolean }> {
    const me = this.requireMe();
    const reply = await this.requireClient().message(to, body);
    const message: ChatMessage = { id: reply.id, from: me, to, kind: 'direct', body, sentAt: reply.sentAt };
    this.state.addMessages([message], true);
    return { message, online: reply.online };
  }

  async broadcast(body: string, to?: string[]): Promise<{ message: ChatMessage; delivered: number; skipped: number }> {
    const me = this.requireMe();
    const reply = await this.requireClient().broadcast(body, to);
    const message: ChatMessage = { id: reply.id, from: me, to: null, kind: 'broadcast', body, sentAt: reply.sentAt };
    this.state.addMessages([message], true);
    return { message, delivered: reply.delivered, skipped: reply.skipped };
  }

  async block(username: string): Promise<void> {
    await this.requireClient().block(username);
    this.state.setBlock(username, true);
  }

  async unblock(username: string): Promise<void> {
    await this.requireClient().unblock(username);
    this.state.setBlock(username, false);
  }

  async blocklist(): Promise<string[]> {
    const { users } = await this.requireClient().blocklist();
    this.state.setBlocked(users);
    return users;
  }

  /** Sends text to a conversation: a broadcast to everyone online, or a direct message. */
  async sendTo(conversation: string, body: string): Promise<ChatMessage> {
    const partner = partnerOf(conversation);
    if (partner === undefined) return (await this.broadcast(body)).message;
    const { message, online } = await this.sendDirect(partner, body);
    if (!online) this.state.addNotice(conversation, `${partner} is offline and will get it on signing in.`, 'info');
    return message;
  }

  /**
   * What the composer sends: a line whose first word is a command name (optionally after "/") runs
   * that command, like the original's terminal; anything else is a message to the conversation.
   * A leading backslash sends the rest as text ("\help" sends "help").
   */
  async runInput(conversation: string, line: string): Promise<InputResult> {
    if (!line.trim()) return { kind: 'empty' };
    if (line.startsWith('\\')) return this.sendText(conversation, line.slice(1));
    const first = /^\s*\/?(\S+)/.exec(line)?.[1]?.toLowerCase() ?? '';
    if (!(COMMAND_NAMES as readonly string[]).includes(first)) return this.sendText(conversation, line);
    const parsed = parseCommand(line.replace(/^\s*\//, ''));
    if (!parsed.ok) {
      const error = `${parsed.error} (start with "\\" to send this line as a message)`;
      this.state.addNotice(conversation, error, 'error');
      return { kind: 'error', error };
    }
    return this.execute(conversation, parsed.command);
  }

  private async sendText(conversation: string, body: string): Promise<InputResult> {
    if (!body.trim()) return { kind: 'empty' };
    if (body.length > LIMITS.messageMax) {
      const error = `A message has at most ${LIMITS.messageMax} characters (this one has ${body.length}).`;
      return { kind: 'error', error };
    }
    try {
      return { kind: 'sent', conversation, message: await this.sendTo(conversation, body) };
    } catch (err) {
      const error = asRequestError(err).message;
      this.state.addNotice(conversation, error, 'error');
      return { kind: 'error', error };
    }
  }

  /** Runs one parsed command; its answer becomes a quiet line in `conversation`. */
  async execute(conversation: string, command: Command): Promise<InputResult> {
    const say = (text: string, extra: { users?: string[] } = {}): InputResult => {
      this.state.addNotice(conversation, text, 'info');
      return { kind: 'command', command: command.name, text, ...extra };
    };
    try {
      switch (command.name) {
        case 'help':
          return say(`${formatHelp()}\nAnything else is sent as a message; Shift+Enter adds a line.`);
        case 'logout':
          return { kind: 'logout' };
        case 'whoelse': {
          const users = await this.whoelse();
          return say(formatWhoElse(users), { users });
        }
        case 'wholast': {
          const users = await this.wholast(command.minutes);
          return say(formatWhoLast(users, command.minutes), { users });
        }
        case 'message': {
          const { message, online } = await this.sendDirect(command.to, command.body);
          const target = directId(command.to);
          if (target !== conversation) this.state.addNotice(conversation, formatSent(command.to, online), 'info');
          else if (!online) this.state.addNotice(target, `${command.to} is offline and will get it on signing in.`, 'info');
          return { kind: 'sent', conversation: target, message };
        }
        case 'broadcast': {
          const result = await this.broadcast(command.body, command.to);
          const text = formatBroadcast(result, command.to !== undefined);
          this.state.addNotice(EVERYONE, text, 'info');
          return { kind: 'sent', conversation: EVERYONE, message: result.message };
        }
        case 'block':
          await this.block(command.username);
          return say(formatBlocked(command.username));
        case 'unblock':
          await this.unblock(command.username);
          return say(formatUnblocked(command.username));
        case 'blocklist': {
          const users = await this.blocklist();
          return say(formatBlocklist(users), { users });
        }
        default: {
          const error = `"${command.name}" is not available in the VS Code extension yet; use the terminal client (parley) for it.`;
          this.state.addNotice(conversation, error, 'error');
          return { kind: 'error', error };
        }
      }
    } catch (err) {
      const error = asRequestError(err).message;
      this.state.addNotice(conversation, error, 'error');
      return { kind: 'error', error };
    }
  }

  /** Signs out on the server (waiting `timeoutMs` at most), closes the connection and forgets the chat. */
  async signOut(timeoutMs = 3000): Promise<void> {
    const client = this.client;
    if (client && client.state === 'signed-in') {
      this.closing = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.logout().catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]).finally(() => clearTimeout(timer));
    }
    const url = this.client?.url;
    this.closeClient();
    this.identity = undefined;
    this.state.reset(undefined);
    this.state.setConnection({ phase: 'signed-out', ...(url !== undefined && { url }), message: 'You have signed out.' });
  }

  /** Closes the connection without signing out (window closing). */
  dispose(): void {
    this.closeClient();
    this.removeAllListeners();
  }

  private closeClient(): void {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    this.closing = true;
    client.close();
    this.closing = false;
  }

  private requireClient(): ParleyClient {
    if (!this.client) throw new ParleyRequestError({ code: 'NOT_SIGNED_IN', message: 'Not signed in to a Parley server.' });
    return this.client;
  }

  private requireMe(): string {
    const me = this.state.me;
    if (!me || !this.client) throw new ParleyRequestError({ code: 'NOT_SIGNED_IN', message: 'Not signed in to a Parley server.' });
    return me;
  }

  private wire(client: ParleyClient): void {
    const current = (): boolean => this.client === client;
    client.on('message', (message) => current() && this.onMessage(message));
    client.on('presence', (event) => current() && this.onPresence(event));
    client.on('state', (state) => current() && this.onState(client, state));
    client.on('resumed', () => {
      if (!current()) return;
      this.endMessage = undefined;
      this.state.setConnection({
        phase: 'signed-in',
        url: client.url,
        ...(client.username !== undefined && { username: client.username }),
      });
      // Messages acknowledged by another window of mine, or sent from one, while this one was away.
      void this.loadLatest(true)
        .then(() => this.refreshPeople())
        .catch(() => {});
    });
    client.on('problem', (error) => {
      if (!current()) return;
      const url = client.url;
      const username = this.state.me;
      this.closeClient();
      this.state.setConnection({
        phase: 'signed-out',
        url,
        ...(username !== undefined && { username }),
        message: `Could not sign in again: ${error.message}`,
      });
      this.emit('problem', error);
    });
    client.on('signedOut', (event) => current() && this.onSignedOut(client, event));
  }

  private onMessage(message: ChatMessage): void {
    const added = this.state.addMessages([message], true);
    const me = this.state.me;
    for (const m of added) {
      if (m.from === me) continue;
      const conversation = conversationOf(m, me);
      if (this.state.isViewing(conversation)) continue;
      if (m.kind === 'direct') this.emit('notify', { message: m, conversation, reason: 'direct' });
      else if (me && mentions(m.body, me)) this.emit('notify', { message: m, conversation, reason: 'mention' });
    }
  }

  private onPresence(event: PresenceEvent): void {
    this.state.applyPresence(event);
    const text = `${event.username} ${event.online ? 'is online' : 'went offline'}`;
    this.state.addNotice(EVERYONE, text, 'presence', event.at);
    const direct = directId(event.username);
    if (this.state.has(direct)) this.state.addNotice(direct, text, 'presence', event.at);
  }

  private onSignedOut(client: ParleyClient, event: SignedOutEvent): void {
    // The client keeps its credentials when the server shuts down, and comes back with it.
    if (client.username !== undefined) {
      this.state.setConnection({
        phase: 'reconnecting',
        url: client.url,
        username: client.username,
        message: `${event.message} Reconnecting when it is back…`,
      });
      return;
    }
    this.endMessage = event.message;
  }

  private onState(client: ParleyClient, state: ConnectionState): void {
    const phase = this.state.connection.phase;
    const base = { url: client.url, ...(this.state.me !== undefined && { username: this.state.me }) };
    if (state === 'reconnecting') {
      if (phase === 'reconnecting') return;
      this.state.setConnection({ phase: 'reconnecting', ...base, message: 'Connection lost; reconnecting…' });
    } else if (state === 'offline' && !this.closing && (phase === 'signed-in' || phase === 'reconnecting')) {
      const message = this.endMessage ?? 'Disconnected from the server.';
      this.endMessage = undefined;
      this.closeClient();
      this.state.setConnection({ phase: 'signed-out', ...base, message });
      this.emit('ended', message);
    }
  }
}
