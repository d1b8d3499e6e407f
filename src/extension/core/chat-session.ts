import { EventEmitter } from 'node:events';
import type { ClientOptions, ConnectionState, ParleyClient, SessionToken } from '../../client/parley-client';
import type { PrivateChannels } from '../../client/private-channels';
import {
  PrivateChatError,
  privateCloseReason,
  type PrivateChannelsOptions,
  type PrivateClosed,
  type PrivateMessage,
} from '../../client/private-api';
import { ParleyRequestError } from '../../client/request-error';
import {
  formatBlocked,
  formatBlocklist,
  formatBroadcast,
  formatHelp,
  formatPrivateRefused,
  formatSent,
  formatUnblocked,
  formatWhoElse,
  formatWhoLast,
} from '../../client/sentences';
import type { ChatMessage, PresenceEvent, SignedOutEvent } from '../../protocol';
// From their own modules, not the index: the index would load the schemas (zod) at activation.
import { COMMAND_NAMES, parseCommand, type Command } from '../../protocol/commands';
import { LIMITS } from '../../protocol/limits';
import { EVERYONE, directId, partnerOf, privateId, privatePartnerOf, type ShownMessage } from '../../view-protocol';
import { ChatState, conversationOf, mentions } from './chat-state';
import { asRequestError } from './errors';

/**
 * The extension's chat session: owns the ParleyClient, keeps ChatState up to date, and runs what
 * the user types or picks. No VS Code API here, so tests drive it against a real server.
 */

export interface NotifyEvent {
  message: ShownMessage;
  conversation: string;
  reason: 'direct' | 'mention';
}

export interface SessionEvents {
  /** A direct message or an @mention arrived for a conversation that is not on screen. */
  notify: [event: NotifyEvent];
  /** Signing in again after a dropped connection failed (e.g. the password changed). */
  problem: [error: ParleyRequestError];
  /** The server issued a new session token to keep for the next sign-in (also one made by the client itself on reconnect). */
  token: [event: { url: string; username: string; token: SessionToken }];
  /** The session ended without the user asking (idle timeout, account removed, server gone). */
  ended: [message: string];
  /** The server signed this session out, with its reason; while the connection still names the server and user. */
  signedOut: [event: SignedOutEvent];
  /**
   * A private chat could not be used (refused, peer unreachable, no channel open): the UI offers to
   * send through the server instead. Nothing is ever rerouted without the user choosing it.
   */
  privateFailed: [event: PrivateFailure];
  /** A peer opened a private chat with this user. */
  privateOpened: [event: { username: string; conversation: string; direction: 'outgoing' | 'incoming' }];
  /** A direct connection was refused (forged, replayed or misused ticket...), in the terminal's words: for the log. */
  privateRefused: [text: string];
}

export interface PrivateFailure {
  username: string;
  /** In words for people; says that nothing was sent. */
  message: string;
  /** Whether sending through the server is possible instead (it is not for a blocked user, an unknown one, oneself). */
  offerServer: boolean;
  /** The text that was not sent, when there was one: "Send via Server" sends it as a direct message. */
  body?: string;
}

export type InputResult =
  | { kind: 'empty' }
  | { kind: 'sent'; conversation: string; message: ShownMessage }
  | { kind: 'command'; command: Command['name']; text: string; users?: string[]; open?: string }
  | { kind: 'error'; error: string }
  | { kind: 'logout' };

export interface SessionOptions {
  /** The client core's options; a function is asked at each sign-in (the trusted CA is a setting). */
  client?: ClientOptions | (() => ClientOptions);
  /** Messages per history request (at most LIMITS.historyPageMax). */
  historyPage?: number;
  now?: () => number;
  /** The peer listener for private chats (default: loopback when the server's URL is loopback); a function is asked at each sign-in. */
  private?: PrivateChannelsOptions | (() => PrivateChannelsOptions);
  /** How long after a presence event the people list is asked for again (default 500 ms). */
  peopleRefreshDelayMs?: number;
}

/** Server refusals of startprivate after which sending through the server still makes sense. */
const SERVER_FALLBACK_CODES = new Set([
  'USER_OFFLINE',
  'NO_PEER_LISTENER',
  'PEER_UNREACHABLE',
  'PEER_REFUSED',
  'KEY_CONFIRMATION_FAILED',
  'CLOSED',
  'NO_CHANNEL',
]);

export class ChatSession extends EventEmitter<SessionEvents> {
  readonly state: ChatState;
  private client: ParleyClient | undefined;
  private channels: PrivateChannels | undefined;
  private peopleTimer: NodeJS.Timeout | undefined;
  private readonly options: SessionOptions;
  private readonly page: number;
  /** Why the session is ending, told by the server before the connection closes. */
  private endMessage: string | undefined;
  private closing = false;
  private readonly loading = new Map<string, Promise<{ added: number; hasOlder: boolean }>>();
  /** Users being blocked now: the server hides them with an "offline" presence event before it answers. */
  private readonly blocking = new Set<string>();
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

  /** The session token of this sign-in, to keep for the next one (undefined when signed out). */
  get sessionToken(): SessionToken | undefined {
    return this.client?.sessionToken;
  }

  /**
   * Connects and signs in with a password or a session token; rejects with the client core's ParleyRequestError
   * (see errors.ts for the words).
   */
  async connect(url: string, username: string, secret: string | { token: string }): Promise<void> {
    // Socket.IO's client and private chat load at the first connect, not at activation.
    const stack = await import('./connection-stack');
    const identity = `${url}\n${username}`;
    // Private chats that outlived the last server session go on with this one, for the same user on the same server.
    const kept = !this.client && this.identity === identity ? this.channels : undefined;
    this.closeClient({ keepChannels: kept !== undefined });
    this.endMessage = undefined;
    this.state.setConnection({ phase: 'connecting', url, username });
    const client = new stack.ParleyClient(url, typeof this.options.client === 'function' ? this.options.client() : this.options.client);
    this.client = client;
    this.wire(client);
    const channels = kept ?? new stack.PrivateChannels(client, this.privateOptions());
    if (kept) kept.follow(client);
    else this.wirePrivate(channels);
    this.channels = channels;
    let online: string[];
    try {
      await client.connect();
      const reply = typeof secret === 'string' ? await client.login(username, secret) : await client.resume(secret.token, username);
      online = reply.online;
    } catch (err) {
      if (this.client === client) this.endServerSession(asRequestError(err).message);
      throw asRequestError(err);
    }
    if (this.identity !== identity || this.state.me !== username) this.state.reset(username);
    this.identity = identity;
    this.state.setOnline(online);
    this.state.setConnection({ phase: 'signed-in', url, username });
    // One more round trip, so that others can open private chats with this user at once (a failure arrives as `problem`).
    await Promise.allSettled([this.loadInitial(), channels.ready()]);
  }

  /** History, the block list and who was seen lately; what fails here is not worth failing the sign-in for. */
  private async loadInitial(): Promise<void> {
    await Promise.allSettled([this.loadLatest(false), this.refreshPeople()]);
  }

  /** The newest page of everything; messages newer than what is known count as unread (`live`). */
  private async loadLatest(asLive: boolean): Promise<void> {
    const client = this.requireClient();
    const newest = Math.max(
      0,
      ...this.state
        .conversations()
        .filter((c) => c.kind !== 'private')
        .map((c) => this.state.messages(c.id).at(-1)?.id ?? 0),
    );
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

  /** Every account with presence and when it was last seen (the `users` request). */
  async refreshPeople(): Promise<void> {
    const { users } = await this.requireClient().users();
    this.state.applyUsers(users);
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
    if (privatePartnerOf(conversation) !== undefined) return { added: 0, hasOlder: false };
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

  async broadcast(body: string, to?: string[]): Promise<{ message: ChatMessage; delivered: number; skipped: number; queueFull: string[] }> {
    const me = this.requireMe();
    const reply = await this.requireClient().broadcast(body, to);
    const message: ChatMessage = { id: reply.id, from: me, to: null, kind: 'broadcast', body, sentAt: reply.sentAt };
    this.state.addMessages([message], true);
    return { message, delivered: reply.delivered, skipped: reply.skipped, queueFull: reply.queueFull ?? [] };
  }

  async block(username: string): Promise<void> {
    this.blocking.add(username);
    try {
      await this.requireClient().block(username);
    } finally {
      this.blocking.delete(username);
    }
    this.state.setBlock(username, true);
    this.schedulePeopleRefresh(0);
  }

  async unblock(username: string): Promise<void> {
    await this.requireClient().unblock(username);
    this.state.setBlock(username, false);
    this.schedulePeopleRefresh(0);
  }

  // ---- private chats: direct and encrypted, never through the server, kept in memory only ----

  /** The channel state of the private chat with a user, as the client core sees it. */
  privateStateOf(username: string): 'connecting' | 'direct' | 'closed' {
    const state = this.channels?.stateOf(username) ?? 'closed';
    return state === 'open' ? 'direct' : state;
  }

  /**
   * Opens a private chat (or finds the open one) and returns its conversation id. Rejects with the
   * server's ParleyRequestError or the client core's PrivateChatError; a `privateFailed` event offers
   * the server instead when that makes sense.
   */
  async startPrivate(username: string): Promise<{ conversation: string; already: boolean }> {
    const channels = this.requireChannels();
    if (username === this.state.me) {
      const error = new ParleyRequestError({ code: 'SELF', message: 'A private chat is with someone else, not yourself.' });
      this.emit('privateFailed', { username, message: error.message, offerServer: false });
      throw error;
    }
    const conversation = this.state.openPrivate(username);
    const before = this.state.privateState(username);
    if (channels.stateOf(username) !== 'open') this.state.setPrivateState(username, 'connecting');
    try {
      const { already } = await channels.start(username);
      this.state.setPrivateState(username, 'direct');
      return { conversation, already };
    } catch (err) {
      this.state.setPrivateState(username, channels.stateOf(username) === 'open' ? 'direct' : before === 'direct' ? 'closed' : before);
      this.privateFailure(username, err);
      throw err;
    }
  }

  /** Sends over the open channel with `username`; never through the server. Without a channel: an error and the offer. */
  sendPrivate(username: string, body: string): ShownMessage {
    const channels = this.requireChannels();
    let sent: PrivateMessage;
    try {
      sent = channels.send(username, body);
    } catch (err) {
      this.privateFailure(username, err, body);
      throw err;
    }
    return this.state.addPrivateMessage(sent, true);
  }

  /** Closes the private chat with `username`, telling the peer. */
  stopPrivate(username: string): void {
    this.requireChannels().stop(username);
  }

  private privateOptions(): PrivateChannelsOptions | undefined {
    const options = this.options.private;
    return typeof options === 'function' ? options() : options;
  }

  /** The private chats, which may outlive the server session (signed out for idleness, server gone for good). */
  private requireChannels(): PrivateChannels {
    if (!this.channels) throw new ParleyRequestError({ code: 'NOT_SIGNED_IN', message: 'Not signed in to a Parley server.' });
    return this.channels;
  }

  /** Says why a private chat cannot be used, in the conversation, and offers the server when that would work. */
  private privateFailure(username: string, err: unknown, body?: string): void {
    const code = err instanceof PrivateChatError || err instanceof ParleyRequestError ? err.code : 'INTERNAL';
    const reason = err instanceof Error ? err.message : String(err);
    const offerServer = SERVER_FALLBACK_CODES.has(code);
    const message =
      offerServer && !/through the server/.test(reason)
        ? `${reason} Nothing was sent; "Send via Server" sends it through the server instead (stored there).`
        : reason;
    this.state.addNotice(privateId(username), message, 'error');
    this.emit('privateFailed', { username, message, offerServer, ...(body !== undefined && { body }) });
  }

  private wirePrivate(channels: PrivateChannels): void {
    const current = (): boolean => this.channels === channels;
    channels.on('opened', ({ username, direction, safetyCode }) => {
      if (!current()) return;
      const conversation = this.state.openPrivate(username);
      this.state.setPrivateState(username, 'direct');
      this.state.addNotice(
        conversation,
        `Private chat with ${username} is open (direct, encrypted). Messages here go straight to ${username} and are not stored on the server. ` +
          `Safety code ${safetyCode}: if ${username} sees the same, nobody is in between.`,
        'info',
      );
      this.emit('privateOpened', { username, conversation, direction });
    });
    channels.on('closed', (info) => {
      if (!current()) return;
      this.state.setPrivateState(info.username, 'closed');
      this.state.addNotice(privateId(info.username), describePrivateClosed(info), info.reason === 'blocked' ? 'error' : 'info');
      // Without a server session, the session ends with its last private chat.
      if (!this.client && channels.open.length === 0) this.endServerSession('No private chats are left; signed out.');
    });
    channels.on('message', (message) => {
      if (!current()) return;
      const shown = this.state.addPrivateMessage(message, true);
      const conversation = privateId(message.from);
      if (!this.state.isViewing(conversation)) this.emit('notify', { message: shown, conversation, reason: 'direct' });
    });
    channels.on('refused', (info) => {
      if (!current()) return;
      const text = formatPrivateRefused(info).replace(/^\* /, '');
      this.state.addNotice(EVERYONE, text, 'error');
      this.emit('privateRefused', text);
    });
    channels.on('problem', (error) => current() && this.state.addNotice(EVERYONE, `Private chat: ${error.message}`, 'error'));
  }

  /** Asks for the people list again a little later (bursts of presence events make one request). */
  private schedulePeopleRefresh(delay = this.options.peopleRefreshDelayMs ?? 500): void {
    if (!this.client) return;
    if (this.peopleTimer) clearTimeout(this.peopleTimer);
    const client = this.client;
    this.peopleTimer = setTimeout(() => {
      this.peopleTimer = undefined;
      if (this.client === client && client.state === 'signed-in') void this.refreshPeople().catch(() => {});
    }, delay);
  }

  async blocklist(): Promise<string[]> {
    const { users } = await this.requireClient().blocklist();
    this.state.setBlocked(users);
    return users;
  }

  /** Sends text to a conversation: a broadcast to everyone online, or a direct message. */
  async sendTo(conversation: string, body: string): Promise<ShownMessage> {
    const secret = privatePartnerOf(conversation);
    if (secret !== undefined) return this.sendPrivate(secret, body);
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
        case 'startprivate': {
          const { conversation: target, already } = await this.startPrivate(command.username);
          const text = already
            ? `A private chat with ${command.username} is already open; what you send there goes directly to them.`
            : `Private chat with ${command.username} is open (direct, encrypted).`;
          if (target !== conversation) this.state.addNotice(conversation, text, 'info');
          return { kind: 'command', command: command.name, text, open: target };
        }
        case 'private': {
          const message = this.sendPrivate(command.to, command.body);
          const target = privateId(command.to);
          if (target !== conversation) this.state.addNotice(conversation, `Sent privately to ${command.to}.`, 'info');
          return { kind: 'sent', conversation: target, message };
        }
        case 'stopprivate':
          this.stopPrivate(command.username);
          return say(`Stopping the private chat with ${command.username}.`);
      }
    } catch (err) {
      const error = asRequestError(err).message;
      // Private-chat failures are already told in the private conversation.
      const told = (command.name === 'startprivate' || command.name === 'private') && conversation === privateId(privateTarget(command));
      if (!told) this.state.addNotice(conversation, error, 'error');
      return { kind: 'error', error };
    }
  }

  /** Signs out on the server (waiting `timeoutMs` at most), closes the connection and forgets the chat. */
  async signOut(timeoutMs = 3000): Promise<void> {
    const client = this.client;
    // Peers hear the goodbye first, directly from this client.
    await this.channels?.signOut().catch(() => {});
    if (client && client.state === 'signed-in') {
      this.closing = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.logout().catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]).finally(() => clearTimeout(timer));
    }
    const url = this.client?.url ?? this.state.connection.url;
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

  /**
   * The server ended the session (idle time-out, connection gone for good, signing in again failed).
   * Private chats need no server: while any is open the session goes on for them, as in the terminal.
   */
  private endServerSession(message: string): void {
    const { url, username } = this.state.connection;
    const open = this.channels?.open ?? [];
    this.closeClient({ keepChannels: open.length > 0 });
    const base = { ...(url !== undefined && { url }), ...(username !== undefined && { username }) };
    if (open.length === 0) return this.state.setConnection({ phase: 'signed-out', ...base, message });
    const who = open.join(', ');
    this.state.setConnection({
      phase: 'private-only',
      ...base,
      message: `${message} Private chats with ${who} stay open (direct); sign in again for everything else.`,
    });
  }

  /** Closes the connection to the server and, unless kept, the private chats (each peer is told). */
  private closeClient({ keepChannels = false } = {}): void {
    const client = this.client;
    const channels = keepChannels ? undefined : this.channels;
    this.client = undefined;
    if (!keepChannels) this.channels = undefined;
    if (this.peopleTimer) clearTimeout(this.peopleTimer);
    this.peopleTimer = undefined;
    if (channels) void channels.close().catch(() => {});
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
      this.endServerSession(`Could not sign in again: ${error.message}`);
      this.emit('problem', error);
    });
    client.on('signedOut', (event) => {
      if (!current()) return;
      this.emit('signedOut', event);
      this.onSignedOut(client, event);
    });
    client.on('token', (token) => {
      if (current() && client.username !== undefined) this.emit('token', { url: client.url, username: client.username, token });
    });
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
    this.schedulePeopleRefresh();
    // Someone I block is hidden from me, not gone offline: saying "went offline" would be untrue.
    const blocked = this.blocking.has(event.username) || this.state.isBlocked(event.username);
    if (!event.online && blocked) return;
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
      this.endServerSession(message);
      this.emit('ended', message);
    }
  }
}

function privateTarget(command: Command): string {
  if (command.name === 'private') return command.to;
  if (command.name === 'startprivate' || command.name === 'stopprivate') return command.username;
  return '';
}

/** "Private chat with bob is closed (bob stopped it)." */
export function describePrivateClosed(info: PrivateClosed): string {
  return `Private chat with ${info.username} is closed (${privateCloseReason(info, info.username)}).`;
}
