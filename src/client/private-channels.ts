import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { LIMITS, PEER_REFUSALS, TICKET_CLOCK_SKEW_MS, decodeTicket, ticketKeysSchema, type ReplyBodies } from '../protocol';
import type { ClientEvents, ConnectionState, ParleyClient } from './parley-client';
import { dialPeer } from './peer-dial';
import { NoticeLimiter } from './notice-limiter';
import { listenAddress } from './peer-address';
import type { Admission, PeerListener, PeerListenerHandlers } from './peer-listener';
import {
  PrivateChatError,
  type PrivateChannelsEvents,
  type PrivateChannelsOptions,
  type PrivateMessage,
  type PrivateRefused,
} from './private-api';
import { PrivateChannel, type FrameSocket } from './private-channel';
import { Entries, failedToOpen, newEntry, type Entry } from './private-entries';
import { ChannelCipher, channelKeys, generatePeerKeys, importTicketKey, isFrameFault, type PeerKeyPair } from './private-crypto';
import { TicketChecker } from './ticket-check';

export * from './private-api';

interface Admitted {
  from: string;
  ticket: string;
  nonce: string;
  peerKey: string;
}

/**
 * Private chat for one client core (terminal or extension): a peer listener and an X25519 key per
 * signed-in session, registered with the message center; `start` dials a user with the ticket the
 * center issues; each channel is end-to-end encrypted and closes on `stop`, sign-out or a block.
 * A dropped or stopped message center leaves open channels alone.
 *
 * Longer than most files for one concern, the life of each chat: dialling, admitting, confirming, replacing on a
 * crossing and closing all read and change the same entries and sign-in state. What stands alone is in modules of its
 * own: the channel, its crypto, the ticket check, the listener, the dial and the table of entries.
 */
export class PrivateChannels extends EventEmitter<PrivateChannelsEvents> {
  private readonly entries = new Entries();
  private readonly checker: TicketChecker;
  private readonly refusalNotices: NoticeLimiter;
  /** Wall-clock time, for message times. */
  private readonly clock: () => number;
  /** What ticket ages are measured with: monotonic unless a test injects a clock, so that a wall-clock step changes nothing. */
  private readonly ticketClock: () => number;
  private readonly options: PrivateChannelsOptions;
  private keys: PeerKeyPair | undefined;
  private me: string | undefined;
  private listener: PeerListener | undefined;
  private listening: Promise<PeerListener> | undefined;
  /** The latest registration; resolves with its error, if any, so that nobody has to catch it. */
  private registration: Promise<Error | undefined> | undefined;
  private readonly detachers: (() => void)[] = [];
  /** Counts sign-outs: work begun for an earlier sign-in gives up when it sees a later number. */
  private session = 0;

  constructor(
    private client: ParleyClient,
    options: PrivateChannelsOptions = {},
  ) {
    super();
    this.options = options;
    this.clock = options.clock ?? Date.now;
    this.ticketClock = options.clock ?? monotonicNow;
    this.checker = new TicketChecker(this.ticketClock, options.clockSkewMs ?? TICKET_CLOCK_SKEW_MS);
    this.refusalNotices = new NoticeLimiter(this.ticketClock);
    this.followClient();
  }

  /**
   * Follows another client core from now on: the same user signing in again after the server ended
   * the session. Open chats, the listener and its key carry over, and are registered with the new session.
   */
  follow(client: ParleyClient): void {
    for (const detach of this.detachers.splice(0)) detach();
    this.client = client;
    this.followClient();
  }

  private followClient(): void {
    const client = this.client;
    this.subscribe('state', (state: ConnectionState) => {
      if (state === 'signed-in') this.register();
    });
    this.subscribe('signedOut', (event) => {
      // The user left, the account is gone or its password changed: end every chat. Idle time-outs and shutdowns end only the server session.
      if (event.reason === 'logout' || event.reason === 'account-removed' || event.reason === 'password-changed') void this.signOut();
    });
    this.subscribe('privateRevoked', (event) => {
      if (typeof event?.username !== 'string' || typeof event.at !== 'number') return;
      this.endBlocked(event.username, event.at);
    });
    this.subscribe('ticketKeys', (event) => {
      const keys = importTicketKeys(event.keys);
      if (keys) this.checker.setTicketKeys(keys);
    });
    if (client.state === 'signed-in') this.register();
  }

  /** Resolves once the listener is registered with the current session; rejects with why not. */
  async ready(): Promise<void> {
    if (!this.registration) throw new PrivateChatError('NOT_SIGNED_IN', 'Sign in first.');
    const error = await this.registration;
    if (error) throw error;
  }

  /** Where the listener is bound, once it is. */
  get endpoint(): { host: string; port: number } | undefined {
    return this.listener && { host: this.listener.address.address, port: this.listener.port };
  }

  /** Users with an open private chat, sorted. */
  get open(): string[] {
    return this.entries.open();
  }

  stateOf(username: string): 'connecting' | 'open' | 'closed' {
    return this.entries.get(username)?.state ?? 'closed';
  }

  /** The open chat's safety code (see ChannelKeys.safetyCode), to compare with the peer's screen. */
  safetyCodeOf(username: string): string | undefined {
    const entry = this.entries.get(username);
    return entry?.state === 'open' ? entry.safetyCode : undefined;
  }

  /**
   * Opens a direct, encrypted chat with `username`, or finds the one already open (`already`).
   * Throws ParleyRequestError when the message center refuses (offline, blocked, no listener...),
   * PrivateChatError when the peer cannot be reached or refuses: nothing is ever sent another way.
   */
  async start(username: string): Promise<{ username: string; already: boolean }> {
    const current = this.entries.get(username);
    if (current?.state === 'open') return { username, already: true };
    if (current) {
      await current.opened;
      return { username, already: false };
    }
    const me = this.client.username;
    if (!me) throw new PrivateChatError('NOT_SIGNED_IN', 'Sign in first.');
    const entry = newEntry(username, me, 'outgoing');
    this.entries.add(entry);
    try {
      await this.dial(entry);
    } catch (err) {
      entry.settle(err instanceof Error ? err : new Error(String(err)));
      this.entries.forget(entry);
      // A crossing: the peer dialled this client at the same moment and its channel won; use that one.
      const winner = this.entries.anyWith(username);
      if (winner && winner !== entry) {
        await winner.opened;
        return { username, already: false };
      }
      throw err;
    }
    return { username, already: false };
  }

  /** Sends over the open channel with `username`; never through the message center. */
  send(username: string, body: string): PrivateMessage {
    const entry = this.entries.get(username);
    if (!entry?.channel?.isOpen || !this.me) {
      throw new PrivateChatError(
        'NO_CHANNEL',
        `No private chat with ${username} is open; "startprivate ${username}" opens one, or "message ${username} <text>" sends through the server.`,
      );
    }
    if (body.trim().length === 0 || body.length > LIMITS.messageMax) {
      throw new PrivateChatError('BAD_MESSAGE', `A private message has 1 to ${LIMITS.messageMax} characters, not only spaces.`);
    }
    const at = this.clock();
    entry.channel.send(body, at);
    return { private: true, from: this.me, to: username, body, sentAt: at, at };
  }

  /** Closes the chat with `username` and tells the peer. */
  stop(username: string): void {
    const entry = this.entries.get(username);
    if (!entry) throw new PrivateChatError('NO_CHANNEL', `No private chat with ${username} is open.`);
    if (entry.channel) entry.channel.close('stopped', true);
    else this.abandon(username, new PrivateChatError('CLOSED', `The private chat with ${username} was stopped before it opened.`));
  }

  /** Signing out: every chat is closed with a goodbye, the listener stops and the session's key is dropped. */
  async signOut(): Promise<void> {
    this.registration = undefined;
    await this.reset();
  }

  /** signOut, and stop following the client. Call before closing the client. */
  async close(): Promise<void> {
    for (const detach of this.detachers.splice(0)) detach();
    await this.signOut();
  }

  /** Ends everything of the current sign-in: chats (with a goodbye), listener, key, remembered tickets. */
  private async reset(): Promise<void> {
    this.session++;
    // Everything of this sign-in is taken now, so that a sign-in that follows at once starts clean.
    const listening = this.listening;
    this.listener = undefined;
    this.listening = undefined;
    this.keys = undefined;
    this.me = undefined;
    this.checker.reset();
    const closing: Promise<void>[] = [];
    for (const entry of this.entries.all()) {
      if (entry.channel) {
        entry.channel.close('signed-out', true);
        closing.push(entry.channel.gone);
      } else this.abandon(entry.username, new PrivateChatError('CLOSED', 'Signed out.'));
    }
    // The goodbyes go out before the listener drops its connections (each waits a second at most).
    await Promise.all(closing);
    // Through the promise, so that a listener still starting is closed too.
    await (await listening?.catch(() => undefined))?.close();
  }

  /** Follows one of the client's events until close(). */
  private subscribe<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): void {
    this.client.on(event, listener as never);
    this.detachers.push(() => this.client.off(event, listener as never));
  }

  /** Opens the listener (once per sign-in) and tells the current server session where it is and which key it holds. */
  private register(): void {
    const previous = this.registration ?? Promise.resolve(undefined);
    this.registration = previous.then(async () => {
      try {
        const username = this.client.username;
        if (!username) return new PrivateChatError('NOT_SIGNED_IN', 'Sign in first.');
        // Signed in as someone else: nothing of the previous user's may be reused.
        if (this.me !== undefined && this.me !== username) await this.reset();
        const session = this.session;
        const signedOutMeanwhile = (): Error | undefined =>
          session === this.session ? undefined : new PrivateChatError('NOT_SIGNED_IN', 'Signed out while registering.');
        this.me = username;
        if (this.options.listen === false) return undefined;
        // The key peers reach this sign-in with; the server vouches for it in every ticket to this client.
        this.keys ??= generatePeerKeys();
        const { bind, advertise } = listenAddress(this.client.url, this.options.host, this.options.advertise?.host);
        const handlers: PeerListenerHandlers<Admitted> = {
          admit: (auth, address) => this.admit(auth, address),
          connected: (s, v, address) => this.accept(s, v, address),
          turnedAway: (code, address) => this.refused({ code, message: PEER_REFUSALS[code], address }),
        };
        this.listening ??= startPeerListener(bind, handlers, this.ticketClock).catch((err: unknown) => {
          this.listening = undefined; // the next sign-in tries again
          throw err;
        });
        const listener = await this.listening;
        if (signedOutMeanwhile()) return signedOutMeanwhile();
        this.listener = listener;
        const port = this.options.advertise?.port ?? listener.port;
        const partners = this.entries.partners();
        const sentAt = this.ticketClock();
        const reply: ReplyBodies['peer'] = await this.client.request('peer', {
          port,
          publicKey: this.keys.publicKey,
          ...(advertise !== undefined && { host: advertise }),
          ...(partners.length > 0 && { partners }),
        });
        if (signedOutMeanwhile()) return signedOutMeanwhile();
        this.checker.setIdentity({
          username,
          publicKey: this.keys.publicKey,
          ticketKeys: replyTicketKeys(reply),
          // Half the round trip is the best guess of when the server read its clock.
          offsetMs: reply.serverTime - Math.round((sentAt + this.ticketClock()) / 2),
          ticketTtlMs: reply.ticketTtlMs,
        });
        // Blocks made while this client had no session (so it never heard privateRevoked) end those chats now.
        for (const other of reply.blocked) this.endBlocked(other, reply.serverTime);
        this.emit('ready', { host: reply.host, port: reply.port });
        return undefined;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.emit('problem', error);
        return error;
      }
    });
  }

  /** The listener's gate: a valid ticket for this session, and no crossing that this side's own dial wins. */
  private admit(auth: unknown, address: string): Admission<Admitted> {
    const verdict = this.checker.check(auth);
    if (!verdict.ok) {
      this.refused({
        code: verdict.code,
        message: PEER_REFUSALS[verdict.code],
        address,
        ...(verdict.claimed !== undefined && { claimed: verdict.claimed }),
      });
      return { ok: false, code: verdict.code, message: PEER_REFUSALS[verdict.code] };
    }
    const from = verdict.payload.from;
    const current = this.entries.get(from);
    // Both dialled at once: the dial of the smaller username wins on both sides. Not an attack, so not reported.
    if (current && current.state !== 'closed' && current.initiator !== from && current.initiator < from) {
      return { ok: false, code: 'CROSSED', message: PEER_REFUSALS.CROSSED };
    }
    return { ok: true, value: { from, ticket: verdict.ticket, nonce: verdict.payload.nonce, peerKey: verdict.peerKey } };
  }

  /** A verified caller: it must confirm its key before it replaces any other channel with the same user. */
  private accept(socket: FrameSocket, admitted: Admitted, address: string): void {
    const keys = this.keys;
    if (!keys) return socket.disconnect();
    const entry = newEntry(admitted.from, admitted.from, 'incoming', address);
    let cipher: ChannelCipher;
    try {
      const derived = channelKeys(keys, admitted.peerKey, admitted.ticket, admitted.nonce, 'responder');
      cipher = new ChannelCipher(derived);
      entry.safetyCode = derived.safetyCode;
    } catch {
      socket.disconnect();
      return this.refused({ code: 'KEY_MISMATCH', message: PEER_REFUSALS.KEY_MISMATCH, address, claimed: admitted.from });
    }
    this.entries.add(entry);
    this.attach(entry, new PrivateChannel(socket, cipher, this.options.confirmTimeoutMs ?? 5_000)).begin();
  }

  /** Asks the message center for the user's address and a ticket, dials, and waits for the key confirmation. */
  private async dial(entry: Entry): Promise<void> {
    const { username } = entry;
    // A key pair of this dial's own (the ticket binds its public half), dropped with the channel: forward secrecy on this side.
    const keys = generatePeerKeys();
    const reply = await this.client.request('startprivate', { username, publicKey: keys.publicKey });
    this.ensureCurrent(entry);
    const nonce = decodeTicket(reply.ticket)?.payload.nonce;
    if (!nonce) throw new PrivateChatError('PEER_REFUSED', 'The message center sent a ticket this client cannot read.');
    const derived = channelKeys(keys, reply.publicKey, reply.ticket, nonce, 'initiator');
    const cipher = new ChannelCipher(derived);
    entry.safetyCode = derived.safetyCode;

    const timeout = this.options.connectTimeoutMs ?? 5_000;
    const { socket, connected } = dialPeer({ username, host: reply.host, port: reply.port, ticket: reply.ticket }, keys.publicKey, timeout);
    // The channel listens before the socket connects: the peer's key confirmation may follow its accept at once.
    const channel = this.attach(entry, new PrivateChannel(socket, cipher, this.options.confirmTimeoutMs ?? 5_000));
    // A channel ended before this side confirmed (the peer's first frame did not open, say) tells why through `opened`.
    await connected.catch(async (err: unknown) => {
      if (channel.isClosed) await entry.opened;
      throw err;
    });
    if (channel.isClosed) await entry.opened;
    this.ensureCurrent(entry);
    channel.begin();
    await entry.opened;
  }

  /** A dial that lost a crossing (or was stopped) gives up at its next step. */
  private ensureCurrent(entry: Entry): void {
    if (this.entries.get(entry.username) !== entry || entry.state === 'closed') {
      entry.channel?.close('replaced', false);
      throw new PrivateChatError('CLOSED', `The private chat with ${entry.username} was closed while it was being opened.`);
    }
  }

  /** Wires a channel's events to the entry, and through it to this component's events while it is current. */
  private attach(entry: Entry, channel: PrivateChannel): PrivateChannel {
    entry.channel = channel;
    const current = (): boolean => this.entries.isCurrent(entry);
    channel.on('open', () => {
      this.entries.confirmed(entry);
      entry.state = 'open';
      entry.settle();
      if (current()) this.emit('opened', { username: entry.username, direction: entry.direction, safetyCode: entry.safetyCode });
    });
    channel.on('message', (body, sentAt) => {
      if (!current() || !this.me) return;
      this.emit('message', { private: true, from: entry.username, to: this.me, body, sentAt, at: this.clock() });
    });
    channel.on('close', (reason, byPeer) => {
      const wasOpen = entry.state === 'open';
      entry.state = 'closed';
      const isCurrent = current();
      this.entries.forget(entry);
      if (wasOpen) {
        if (isCurrent && reason !== 'replaced') this.emit('closed', { username: entry.username, reason, byPeer });
        return;
      }
      entry.settle(failedToOpen(entry.username, reason, byPeer));
      // A caller that got past the ticket check but could not prove its key: the impersonation case.
      if (entry.direction === 'incoming' && !byPeer && (reason === 'timeout' || isFrameFault(reason))) {
        this.refused({
          code: 'KEY_CONFIRMATION_FAILED',
          message: PEER_REFUSALS.KEY_CONFIRMATION_FAILED,
          address: entry.address,
          claimed: entry.username,
        });
      }
    });
    return channel;
  }

  /** One of the two users blocked the other: end the chat (telling the peer) and refuse tickets for the pair issued until `at`. */
  private endBlocked(username: string, at: number): void {
    this.checker.revoke(username, at);
    for (const entry of this.entries.confirmingWith(username)) entry.channel?.close('blocked', false);
    this.entries.get(username)?.channel?.close('blocked', true);
    this.abandon(
      username,
      new PrivateChatError('CLOSED', `A private chat with ${username} is not possible: one of you blocked the other.`),
    );
  }

  /** Gives up on a chat that has no channel yet (a dial waiting for its ticket). */
  private abandon(username: string, error: Error): void {
    const entry = this.entries.get(username);
    if (!entry || entry.channel) return;
    entry.state = 'closed';
    this.entries.forget(entry);
    entry.settle(error);
  }

  /** Reported to the user, but a flood of junk handshakes only in part (with how many were not). */
  private refused(info: PrivateRefused): void {
    const count = this.refusalNotices.pass();
    if (!count) return;
    this.emit('refused', { ...info, ...(count.held > 0 && { held: count.held }), ...(count.quiet && { quiet: true }) });
  }
}

/**
 * The keys whose tickets a `peer` reply says to accept: in a cluster every live node's (`ticketKeys`), the server's own among them;
 * from a single server, or one that sent no valid list, its own only.
 */
function replyTicketKeys(reply: ReplyBodies['peer']): KeyObject[] {
  const cluster = ticketKeysSchema.safeParse(reply.ticketKeys);
  return [...new Set([reply.ticketKey, ...(cluster.success ? cluster.data : [])])].map(importTicketKey);
}

/** Every key of a `ticketKeys` event, or undefined when one is not an Ed25519 public key (the keys in use stay). */
function importTicketKeys(keys: readonly string[]): KeyObject[] | undefined {
  try {
    return keys.map(importTicketKey);
  } catch {
    return undefined;
  }
}

/** Milliseconds since the epoch at the process start plus the monotonic time since: never steps with the wall clock. */
function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Socket.IO's server is loaded at the first sign-in rather than with this module: it is the largest
 * part of what the extension would otherwise load (and evaluate) at activation.
 */
async function startPeerListener<T>(host: string, handlers: PeerListenerHandlers<T>, clock: () => number): Promise<PeerListener> {
  const { PeerListener } = await import('./peer-listener');
  return PeerListener.start(host, handlers, clock);
}
