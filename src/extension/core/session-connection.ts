import type { EventEmitter } from 'node:events';
import type { ClientOptions, ConnectionState, ParleyClient, SessionToken } from '../../client/parley-client';
import type { PrivateChannels } from '../../client/private-channels';
import type { PrivateChannelsOptions } from '../../client/private-api';
import { ParleyRequestError, asRequestError } from '../../client/request-error';
import { SIGNED_OUT } from '../../client/sentences';
import type { ChannelEvent, ChatMessage, PresenceEvent, ReadEvent, SignedOutEvent } from '../../protocol';
import type { SessionEvents } from './chat-session';
import type { ChatState } from './chat-state';

/**
 * The session's connection lifecycle: the client core's connection to the server and the private chats,
 * from signing in through dropped connections and the server's goodbyes to signing out. Private chats
 * need no server, so they may outlive it and go on with the next sign-in as the same user.
 */

export interface ConnectionOptions {
  /** The client core's options; a function is asked at each sign-in (the trusted CA is a setting). */
  client?: ClientOptions | (() => ClientOptions);
  /** The peer listener for private chats; a function is asked at each sign-in. */
  private?: PrivateChannelsOptions | (() => PrivateChannelsOptions);
}

/** What the rest of the session does with what the connection brings. */
export interface ConnectionHooks {
  message(message: ChatMessage): void;
  presence(event: PresenceEvent): void;
  /** A read position moved (protocol 3). */
  read(event: ReadEvent): void;
  /** Something changed in one of the user's channels (protocol 3). */
  channel(event: ChannelEvent): void;
  /** Signed in again by itself after a dropped connection: time to catch up. */
  resumed(): void;
  /** Private chats made for this sign-in, to wire up (those kept from the last one already are). */
  channels(channels: PrivateChannels): void;
  /** The connection is closing: nothing more is to be asked of it. */
  closing(): void;
}

const notSignedIn = (): ParleyRequestError =>
  new ParleyRequestError({ code: 'NOT_SIGNED_IN', message: 'Not signed in to a Parley server.' });

export class SessionConnection {
  private current: ParleyClient | undefined;
  private privateChats: PrivateChannels | undefined;
  /** Why the session is ending, told by the server before the connection closes. */
  private endMessage: string | undefined;
  private closing = false;
  private identity: string | undefined;

  constructor(
    private readonly state: ChatState,
    private readonly options: ConnectionOptions,
    private readonly events: EventEmitter<SessionEvents>,
    private readonly hooks: ConnectionHooks,
  ) {}

  get client(): ParleyClient | undefined {
    return this.current;
  }

  /** The private chats, which may outlive the server session (signed out for idleness, server gone for good). */
  get channels(): PrivateChannels | undefined {
    return this.privateChats;
  }

  get sessionToken(): SessionToken | undefined {
    return this.current?.sessionToken;
  }

  requireClient(): ParleyClient {
    if (!this.current) throw notSignedIn();
    return this.current;
  }

  requireMe(): string {
    const me = this.state.me;
    if (!me || !this.current) throw notSignedIn();
    return me;
  }

  requireChannels(): PrivateChannels {
    if (!this.privateChats) throw notSignedIn();
    return this.privateChats;
  }

  /** Connects and signs in; returns the private chats to make ready. Rejects with the client core's ParleyRequestError. */
  async connect(url: string, username: string, secret: string | { token: string }): Promise<PrivateChannels> {
    // Socket.IO's client and private chat load at the first connect, not at activation.
    const stack = await import('./connection-stack');
    const identity = `${url}\n${username}`;
    // Private chats that outlived the last server session go on with this one, for the same user on the same server.
    const kept = !this.current && this.identity === identity ? this.privateChats : undefined;
    this.closeClient({ keepChannels: kept !== undefined });
    this.endMessage = undefined;
    this.state.setConnection({ phase: 'connecting', url, username });
    const client = new stack.ParleyClient(url, typeof this.options.client === 'function' ? this.options.client() : this.options.client);
    this.current = client;
    this.wire(client);
    const channels = kept ?? new stack.PrivateChannels(client, this.privateOptions());
    if (kept) kept.follow(client);
    else this.hooks.channels(channels);
    this.privateChats = channels;
    let online: string[];
    try {
      await client.connect();
      const reply = typeof secret === 'string' ? await client.login(username, secret) : await client.resume(secret.token, username);
      online = reply.online;
    } catch (err) {
      if (this.current === client) this.endServerSession(asRequestError(err).message);
      throw asRequestError(err);
    }
    if (this.identity !== identity || this.state.me !== username) this.state.reset(username);
    this.identity = identity;
    this.state.setOnline(online);
    this.state.setConnection({ phase: 'signed-in', url, username });
    return channels;
  }

  /** Signs out on the server (waiting `timeoutMs` at most), closes the connection and forgets the chat. */
  async signOut(timeoutMs: number): Promise<void> {
    const client = this.current;
    // Peers hear the goodbye first, directly from this client.
    await this.privateChats?.signOut().catch(() => {});
    if (client && client.state === 'signed-in') {
      this.closing = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.logout().catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]).finally(() => clearTimeout(timer));
    }
    const url = this.current?.url ?? this.state.connection.url;
    this.closeClient();
    this.identity = undefined;
    this.state.reset(undefined);
    this.state.setConnection({ phase: 'signed-out', ...(url !== undefined && { url }), message: SIGNED_OUT });
  }

  /** Closes the connection and the private chats without signing out (window closing). */
  close(): void {
    this.closeClient();
  }

  /**
   * The server ended the session (idle time-out, connection gone for good, signing in again failed).
   * Private chats need no server: while any is open the session goes on for them, as in the terminal.
   */
  endServerSession(message: string): void {
    const { url, username } = this.state.connection;
    const open = this.privateChats?.open ?? [];
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

  private privateOptions(): PrivateChannelsOptions | undefined {
    const options = this.options.private;
    return typeof options === 'function' ? options() : options;
  }

  /** Closes the connection to the server and, unless kept, the private chats (each peer is told). */
  private closeClient({ keepChannels = false } = {}): void {
    const client = this.current;
    const channels = keepChannels ? undefined : this.privateChats;
    this.current = undefined;
    if (!keepChannels) this.privateChats = undefined;
    this.hooks.closing();
    if (channels) void channels.close().catch(() => {});
    if (!client) return;
    this.closing = true;
    client.close();
    this.closing = false;
  }

  private wire(client: ParleyClient): void {
    const current = (): boolean => this.current === client;
    client.on('message', (message) => current() && this.hooks.message(message));
    client.on('presence', (event) => current() && this.hooks.presence(event));
    client.on('read', (event) => current() && this.hooks.read(event));
    client.on('channel', (event) => current() && this.hooks.channel(event));
    client.on('state', (state) => current() && this.onState(client, state));
    client.on('resumed', () => {
      if (!current()) return;
      this.endMessage = undefined;
      this.state.setConnection({
        phase: 'signed-in',
        url: client.url,
        ...(client.username !== undefined && { username: client.username }),
      });
      this.hooks.resumed();
    });
    client.on('problem', (error) => {
      if (!current()) return;
      this.endServerSession(`Could not sign in again: ${error.message}`);
      this.events.emit('problem', error);
    });
    client.on('signedOut', (event) => {
      if (!current()) return;
      this.events.emit('signedOut', event);
      this.onSignedOut(client, event);
    });
    client.on('token', (token) => {
      if (current() && client.username !== undefined) this.events.emit('token', { url: client.url, username: client.username, token });
    });
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
      this.events.emit('ended', message);
    }
  }
}
