import { EventEmitter } from 'node:events';
import type { ParleyRequestError, SessionToken } from '../../client/parley-client';
import type { ChannelInfo, ChatMessage, Command, SignedOutEvent } from '../../protocol';
import { LIMITS } from '../../protocol/limits';
import { channelOf, type ShownMessage } from '../../view-protocol';
import { ChatState, conversationOf, mentionsMe } from './chat-state';
import { ConversationSync } from './conversation-sync';
import { HistoryPager } from './history-pager';
import { People } from './people';
import { PrivateChats } from './private-chats';
import { ReadReporter } from './read-reporter';
import { SessionCommands } from './session-commands';
import { SessionConnection, type ConnectionOptions } from './session-connection';

/**
 * The extension's chat session: owns the connection, keeps ChatState up to date, and runs what the user
 * types or picks. A coordinator of its parts (connection, history, people, private chats, commands); no
 * VS Code API here, so tests drive it against a real server.
 */

export interface NotifyEvent {
  message: ShownMessage;
  conversation: string;
  reason: 'direct' | 'mention';
}

export interface SessionEvents {
  /** A direct message or an @mention arrived for a conversation that is not on screen. */
  notify: [event: NotifyEvent];
  /** At sign-in or on coming back: channels where the user was mentioned meanwhile, with how many times. */
  mentionsAway: [mentions: { conversation: string; mentions: number }[]];
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

export interface BroadcastDelivery {
  delivered: number;
  skipped: number;
  queueFull: string[];
}

export type InputResult =
  | { kind: 'empty' }
  /** With the server's answer where the user is told of it: whether a direct message's recipient is online, whom a broadcast reached. */
  | { kind: 'sent'; conversation: string; message: ShownMessage; online?: boolean; delivery?: BroadcastDelivery }
  | { kind: 'command'; command: Command['name']; text: string; users?: string[]; open?: string }
  | { kind: 'error'; error: string }
  | { kind: 'logout' };

export interface SessionOptions extends ConnectionOptions {
  /** Messages per history request (at most LIMITS.historyPageMax). */
  historyPage?: number;
  now?: () => number;
  /** How long after a presence event the people list is asked for again (default 500 ms). */
  peopleRefreshDelayMs?: number;
}

export class ChatSession extends EventEmitter<SessionEvents> {
  readonly state: ChatState;
  private readonly connection: SessionConnection;
  private readonly history: HistoryPager;
  private readonly people: People;
  private readonly privateChats: PrivateChats;
  private readonly commands: SessionCommands;
  private readonly sync: ConversationSync;
  private readonly reads: ReadReporter;

  constructor(options: SessionOptions = {}, state?: ChatState) {
    super();
    this.state = state ?? new ChatState(options.now);
    this.connection = new SessionConnection(this.state, options, this, {
      message: (message) => this.onMessage(message),
      presence: (event) => this.people.onPresence(event),
      read: (event) => this.sync.onRead(event),
      channel: (event) => this.sync.onChannel(event),
      // Messages acknowledged by another window of mine, or sent from one, while this one was away; the channels'
      // newest pages (the server's counts, asked for after them, say what is unread).
      resumed: () =>
        void this.history
          .loadLatest(true)
          .then(() => this.history.catchUpChannels())
          .then(() => Promise.allSettled([this.sync.refresh(), this.people.refresh()]))
          .catch(() => {}),
      channels: (channels) => this.privateChats.wire(channels),
      closing: () => {
        this.people.cancelRefresh();
        this.sync.cancel();
      },
    });
    const page = Math.min(options.historyPage ?? LIMITS.historyPageMax, LIMITS.historyPageMax);
    this.history = new HistoryPager(this.state, () => this.connection.requireClient(), page);
    this.people = new People(this.state, this.connection, options.peopleRefreshDelayMs ?? 500);
    this.privateChats = new PrivateChats(this.state, this.connection, this);
    this.sync = new ConversationSync(this.state, this.connection, this);
    this.commands = new SessionCommands(this.state, this.connection, this.people, this.privateChats, this.sync);
    this.reads = new ReadReporter(this.state, this.connection);
  }

  get username(): string | undefined {
    return this.state.connection.phase === 'signed-in' || this.state.connection.phase === 'reconnecting' ? this.state.me : undefined;
  }

  get signedIn(): boolean {
    return this.state.connection.phase === 'signed-in';
  }

  get url(): string | undefined {
    return this.connection.client?.url;
  }

  /** The session token of this sign-in, to keep for the next one (undefined when signed out). */
  get sessionToken(): SessionToken | undefined {
    return this.connection.sessionToken;
  }

  /**
   * Connects and signs in with a password or a session token; rejects with the client core's ParleyRequestError
   * (see errors.ts for the words).
   */
  async connect(url: string, username: string, secret: string | { token: string }): Promise<void> {
    const channels = await this.connection.connect(url, username, secret);
    // History and who was seen lately are not worth failing the sign-in for. The channels' round trip lets
    // others open private chats with this user at once (a failure arrives as `problem`).
    await Promise.allSettled([this.history.loadLatest(false), this.people.refresh(), channels.ready(), this.sync.refresh()]);
  }

  /** Loads what a conversation shows when it is opened (a channel's newest page, the first time); whether anything came. */
  async openConversation(conversation: string): Promise<boolean> {
    if (!this.signedIn || channelOf(conversation) === undefined || this.state.loadedFrom(conversation) !== undefined) return false;
    await this.history.loadChannel(conversation);
    return true;
  }

  /** Tells the server whether this window's user is away from it (protocol 3 `status`, docs/protocol.md 2.8). */
  async setIdle(idle: boolean): Promise<void> {
    await this.connection.requireClient().request('status', { idle });
  }

  /** Every account with presence and when it was last seen (the `users` request). */
  refreshPeople(): Promise<void> {
    return this.people.refresh();
  }

  /** Older messages of a conversation from the server, one page (Everyone: until a page holds a broadcast). */
  loadOlder(conversation: string): Promise<{ added: number; hasOlder: boolean }> {
    return this.history.loadOlder(conversation);
  }

  // ---- requests, as the palette commands use them: they update the state and return the answer ----

  whoelse(): Promise<string[]> {
    return this.commands.whoelse();
  }

  wholast(minutes: number): Promise<string[]> {
    return this.commands.wholast(minutes);
  }

  sendDirect(to: string, body: string): Promise<{ message: ChatMessage; online: boolean }> {
    return this.commands.sendDirect(to, body);
  }

  broadcast(body: string, to?: string[]): Promise<{ message: ChatMessage; delivered: number; skipped: number; queueFull: string[] }> {
    return this.commands.broadcast(body, to);
  }

  block(username: string): Promise<void> {
    return this.people.block(username);
  }

  unblock(username: string): Promise<void> {
    return this.people.unblock(username);
  }

  blocklist(): Promise<string[]> {
    return this.commands.blocklist();
  }

  /** Sends text to a conversation: a broadcast to everyone online, a channel message, or a direct message. */
  sendTo(conversation: string, body: string): Promise<ShownMessage> {
    return this.commands.sendTo(conversation, body);
  }

  /** What the composer sends: a message to the conversation, or a command that starts with "/" (see client/typed-line.ts). */
  runInput(conversation: string, line: string): Promise<InputResult> {
    return this.commands.runInput(conversation, line);
  }

  /** Runs one parsed command; its answer becomes a quiet line in `conversation`. */
  execute(conversation: string, command: Command): Promise<InputResult> {
    return this.commands.execute(conversation, command);
  }

  // ---- channels ----

  /** Public channels, and the private ones the user is in (the `channels` request). */
  listChannels(): Promise<ChannelInfo[]> {
    return this.sync.channels();
  }

  /** Joins a channel; resolves with its conversation. */
  joinChannel(name: string): Promise<string> {
    return this.sync.join(name);
  }

  /** Creates a channel; resolves with its conversation. */
  createChannel(name: string, privateChannel = false): Promise<string> {
    return this.sync.create(name, privateChannel);
  }

  // ---- private chats: direct and encrypted, never through the server, kept in memory only ----

  /** The channel state of the private chat with a user, as the client core sees it. */
  privateStateOf(username: string): 'connecting' | 'direct' | 'closed' {
    return this.privateChats.stateOf(username);
  }

  /**
   * Opens a private chat (or finds the open one) and returns its conversation id. Rejects with the
   * server's ParleyRequestError or the client core's PrivateChatError; a `privateFailed` event offers
   * the server instead when that makes sense.
   */
  startPrivate(username: string): Promise<{ conversation: string; already: boolean }> {
    return this.privateChats.start(username);
  }

  /** Sends over the open channel with `username`; never through the server. Without a channel: an error and the offer. */
  sendPrivate(username: string, body: string): ShownMessage {
    return this.privateChats.send(username, body);
  }

  /** Closes the private chat with `username`, telling the peer. */
  stopPrivate(username: string): void {
    this.privateChats.stop(username);
  }

  /** Signs out on the server (waiting `timeoutMs` at most), closes the connection and forgets the chat. */
  signOut(timeoutMs = 3000): Promise<void> {
    return this.connection.signOut(timeoutMs);
  }

  /** Closes the connection without signing out (window closing). */
  dispose(): void {
    this.reads.dispose();
    this.connection.close();
    this.removeAllListeners();
  }

  /** A message from the server: into the state, and a notification when it is for me and not on screen. */
  private onMessage(message: ChatMessage): void {
    const added = this.state.addMessages([message], true);
    const me = this.state.me;
    for (const m of added) {
      if (m.from === me) continue;
      const conversation = conversationOf(m, me);
      if (this.state.isViewing(conversation)) continue;
      if (m.kind === 'direct') this.emit('notify', { message: m, conversation, reason: 'direct' });
      else if (me && mentionsMe(m, me)) this.emit('notify', { message: m, conversation, reason: 'mention' });
    }
  }
}
