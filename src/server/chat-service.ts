import {
  TOKEN_PROTOCOL_VERSION,
  failure,
  type ChatMessage,
  type Failure,
  type RequestName,
  type RequestPayload,
  type ReplyTo,
  type SignOutReason,
} from '../protocol';
import { AcknowledgementBatcher } from './acknowledgements';
import type { Accounts } from './accounts';
import type { Blocks } from './blocks';
import type { Clock } from './clock';
import { userRoom, type Connection } from './connection';
import { deliver } from './deliver';
import type { KeyedRate } from './keyed-rate';
import type { Logger } from './log';
import type { Meter } from './meter';
import { pairKey } from './pair-key';
import type { Timings } from './options';
import type { Presence } from './presence';
import { IdleStatus } from './idle-status';
import { hearsIdle, presenceEvent, type PresenceFeed } from './presence-feed';
import { PrivateChat } from './private-chat';
import { REPLAY_PAGE, REPLAY_PAGE_BYTES, REPLAYS_PER_USER, type Replay } from './replay';
import { ReplayTurns } from './replay-turns';
import type { Request } from './request';
import { SessionTokens, type IssuedToken } from './session-tokens';
import { closedDuringSignIn, type SignInGate } from './sign-in-gate';
import type { Refused, Saved, Store } from './store/store';
import type { TicketIssuer } from './tickets';
import { errorDetail } from '../protocol/errors';
import type { ChannelRequest } from './channel-service';
import type { Cluster, RemotePresence } from './cluster/pg-cluster';
import type { LiveMessage } from './cluster/message-tail';

/** Resolves with the reply; or returns nothing, and answers through `request` itself (see `received`). */
export type Handler<E extends RequestName> = (conn: Connection, payload: RequestPayload<E>, request: Request) => Promise<ReplyTo<E>> | void;

export interface ChatServiceDeps {
  store: Store;
  accounts: Accounts;
  presence: Presence<Connection>;
  /** Announces presence changes, batched. */
  feed: PresenceFeed;
  blocks: Blocks;
  timings: Timings;
  /** Per user, across sessions: `message`, `broadcast` and `post`. */
  sendRate: KeyedRate;
  /** Unacknowledged messages one sender may have waiting for one recipient. */
  maxPendingPerSender: number;
  singleSession: boolean;
  clock: Clock;
  log: Logger;
  tickets: TicketIssuer;
  /** Lockout and the bounds on password checks that every `login` passes first. */
  gate: SignInGate;
  meter: Meter;
  /** In cluster mode: the other nodes, told of what changes here; messages then reach sessions through it (deliverLive). */
  cluster?: Cluster;
}

/** The message center's rules: what each request does. Transport, validation and limits live in server.ts. */
export class ChatService {
  /** `received` requests, gathered into one store write per turn; the server flushes it before the store closes. */
  readonly acknowledgements: AcknowledgementBatcher;
  private readonly privateChat: PrivateChat;
  private readonly tokens: SessionTokens;
  /** Read by the metrics. */
  readonly replayTurns = new ReplayTurns(REPLAYS_PER_USER);
  private readonly idle: IdleStatus;

  constructor(private readonly deps: ChatServiceDeps) {
    this.tokens = new SessionTokens(deps.store, deps.clock, deps.timings.sessionTokenTtlMs);
    this.acknowledgements = new AcknowledgementBatcher(deps.store, (error, acknowledgements) =>
      deps.log.error('acknowledgements could not be stored', { acknowledgements, err: String(error) }),
    );
    this.privateChat = new PrivateChat(deps);
    this.idle = new IdleStatus(deps.presence, deps.feed, (user, idle) => deps.cluster?.presence(user, idle, deps.clock()));
    deps.accounts.onRemoved((username) => this.forgetUser(username));
    // Whoever signed in with the old password, an intruder perhaps, must not stay signed in.
    deps.accounts.onPasswordChanged((username) => this.signOutEverywhere(username, 'password-changed', 'Your password was changed.'));
  }

  /** Every request but those of channels and read positions (channel-service.ts has those). */
  readonly handlers: { [E in Exclude<RequestName, ChannelRequest>]: Handler<E> } = {
    login: async (conn, { username, password, token }, request) => {
      const reply = await (token === undefined
        ? this.login(conn, username!, password!, request)
        : this.loginWithToken(conn, token, username, request));
      if (!reply.ok) {
        const attempt = { username, address: conn.address, with: token === undefined ? 'password' : 'token', code: reply.error.code };
        this.deps.log.debug('sign-in refused', attempt);
      }
      return reply;
    },

    whoelse: async (conn) => ({ ok: true, users: this.visibleTo(conn.user!, this.deps.presence.online()) }),

    wholast: async (conn, { minutes }) => {
      const seen = this.deps.presence.seenWithin(minutes * 60_000, this.deps.clock());
      return { ok: true, users: this.visibleTo(conn.user!, seen) };
    },

    message: async (conn, { to, body, clientMsgId }) => {
      const from = conn.user!;
      if (!this.deps.sendRate.take(from, this.deps.clock())) return sendingTooFast();
      if (to === from) return failure('SELF', 'You cannot send a message to yourself.');
      if (!this.deps.accounts.has(to)) return failure('UNKNOWN_USER', `There is no user named "${to}".`);
      const refusal = this.deps.blocks.has(to, from)
        ? failure('BLOCKED', `Your message could not be delivered as ${to} has blocked you.`)
        : this.deps.blocks.has(from, to)
          ? failure('BLOCKED', `You have blocked ${to}; unblock them to send a message.`)
          : undefined;
      // A retry of a send that was stored before the block (its answer lost) still gets that first answer.
      const earlier = refusal && clientMsgId !== undefined ? await this.deps.store.findSent(from, clientMsgId) : undefined;
      if (refusal && !earlier) return refusal;
      const message = earlier ?? (await this.save(conn, { kind: 'direct', body, recipients: [to], clientMsgId })).message;
      if (!message) {
        const cap = this.deps.maxPendingPerSender;
        return failure('QUEUE_FULL', `${to} has ${cap} of your messages waiting already; send more once they have read some.`);
      }
      if (message.kind !== 'direct' || message.to !== to) return reusedClientMsgId();
      return { ok: true, id: message.id, sentAt: message.sentAt, online: this.deps.presence.isOnline(to) };
    },

    broadcast: async (conn, { body, to, clientMsgId }) => {
      const from = conn.user!;
      if (!this.deps.sendRate.take(from, this.deps.clock())) return sendingTooFast();
      const named = to !== undefined;
      if (named) {
        const unknown = to.filter((u) => !this.deps.accounts.has(u));
        if (unknown.length) return failure('UNKNOWN_USER', `There is no user named ${unknown.map((u) => `"${u}"`).join(', ')}.`);
      }
      // A named broadcast reaches offline users later; "broadcast message" goes to whoever is online now.
      const candidates = [...new Set(named ? to : this.deps.presence.online())].filter((u) => u !== from);
      const recipients = candidates.filter((u) => !this.deps.blocks.between(from, u));
      const { message, full } = await this.save(conn, { kind: 'broadcast', body, recipients, clientMsgId });
      if (!message) throw new Error('the store refused a broadcast; it refuses only direct messages');
      if (message.kind !== 'broadcast') return reusedClientMsgId();
      return {
        ok: true,
        id: message.id,
        sentAt: message.sentAt,
        delivered: recipients.length - full.length,
        skipped: candidates.length - recipients.length + full.length,
        queueFull: full,
      };
    },

    block: async (conn, { username }, request) => {
      const me = conn.user!;
      if (username === me) return failure('SELF', 'You cannot block yourself.');
      if (!this.deps.accounts.has(username)) return failure('UNKNOWN_USER', `There is no user named "${username}".`);
      await this.deps.store.addBlock(me, username);
      this.deps.cluster?.publish({ type: 'block', blocker: me, blocked: username, on: true });
      this.applyBlock(me, username, true);
      // Any private chat between the two must end; the server cannot close it itself, it never carries it.
      request.defer(() => this.privateChat.revoke(me, username));
      return { ok: true, username };
    },

    unblock: async (conn, { username }) => {
      const me = conn.user!;
      if (username === me) return failure('SELF', 'You cannot unblock yourself.');
      if (!this.deps.accounts.has(username)) return failure('UNKNOWN_USER', `There is no user named "${username}".`);
      if (!this.deps.blocks.has(me, username)) return failure('NOT_BLOCKED', `${username} is not blocked.`);
      await this.deps.store.removeBlock(me, username);
      this.deps.cluster?.publish({ type: 'block', blocker: me, blocked: username, on: false });
      this.applyBlock(me, username, false);
      return { ok: true, username };
    },

    blocklist: async (conn) => ({ ok: true, users: this.deps.blocks.blockedBy(conn.user!) }),

    users: async (conn) => {
      const me = conn.user!;
      const { presence, blocks } = this.deps;
      const users = this.deps.accounts
        .usernames()
        .filter((u) => u !== me)
        .map((username) => {
          const hidden = blocks.between(me, username);
          return {
            username,
            online: !hidden && presence.isOnline(username),
            lastSeen: hidden ? null : presence.lastSeenOf(username),
            blocked: blocks.has(me, username),
            ...(hearsIdle(conn) && { idle: !hidden && this.idle.isIdle(username) }),
          };
        });
      return { ok: true, users };
    },

    // Answered through the request once its batch is stored, with no promise or async frame of its own
    // waiting for that commit: every client sends one of these per burst of messages it receives. The
    // connection's next request does not wait for the commit either; a replay that runs first may still
    // find those messages pending, and the client drops what it has already shown.
    received: (conn, { ids }, request) => this.acknowledgements.add(conn.signedInAs!, ids, request),

    history: async (conn, { with: other, before, limit = 50 }) => {
      if (other !== undefined && !this.deps.accounts.has(other)) return failure('UNKNOWN_USER', `There is no user named "${other}".`);
      // One more than asked tells whether an older page exists.
      const page = await this.deps.store.history(conn.user!, { with: other, before, limit: limit + 1 });
      const more = page.length > limit;
      return { ok: true, messages: more ? page.slice(1) : page, more };
    },

    peer: async (conn, payload) => this.privateChat.register(conn, payload),

    startprivate: async (conn, payload) => this.privateChat.start(conn, payload),

    status: async (conn, { idle }) => {
      this.idle.set(conn, idle);
      return { ok: true };
    },

    logout: async (conn, _payload, request) => {
      // Awaited: a logout that answered ok while its token still worked would be a lie.
      if (conn.sessionToken !== undefined) await this.tokens.revoke(conn.sessionToken);
      request.defer(() => this.signOut(conn, 'logout', 'You have signed out.'));
      return { ok: true };
    },
  };

  private async login(conn: Connection, username: string, password: string, request: Request): Promise<ReplyTo<'login'>> {
    const refusal =
      (await this.deps.gate.check(username, password, conn.address, () => conn.socket.connected)) ?? this.sessionRefusal(conn, username);
    if (refusal) return refusal;
    const token = conn.protocol >= TOKEN_PROTOCOL_VERSION ? await this.tokens.issue(username) : undefined;
    return this.startSession(conn, username, request, token);
  }

  /** Protocol 2: signs in with a session token instead of a password; costs no password hash and no lockout try. */
  private async loginWithToken(conn: Connection, token: string, username: string | undefined, request: Request): Promise<ReplyTo<'login'>> {
    if (conn.protocol < TOKEN_PROTOCOL_VERSION) {
      return failure(
        'BAD_REQUEST',
        `Signing in with a token needs protocol ${TOKEN_PROTOCOL_VERSION}; this connection speaks ${conn.protocol}.`,
      );
    }
    const limited = this.deps.gate.checkRate(conn.address, 'token');
    if (limited) return limited;
    const resumed = await this.tokens.resume(token, username);
    if (!resumed || !this.deps.accounts.has(resumed.username)) {
      this.deps.gate.refusedToken(username, conn.address);
      return failure('INVALID_TOKEN', 'This session token is unknown, expired or revoked: sign in with the password.');
    }
    return this.startSession(conn, resumed.username, request, resumed);
  }

  /** Why a checked sign-in cannot become a session now, if it cannot. */
  private sessionRefusal(conn: Connection, username: string): ReplyTo<'login'> | undefined {
    if (conn.socket.disconnected) return closedDuringSignIn();
    if (this.deps.singleSession && this.deps.presence.isOnline(username)) {
      return failure('ALREADY_SIGNED_IN', `${username} is already signed in elsewhere.`);
    }
    return undefined;
  }

  /** Makes a checked sign-in a session; `token` (protocol 2) goes back in the reply and is revoked at logout. */
  private startSession(conn: Connection, username: string, request: Request, token: IssuedToken | undefined): ReplyTo<'login'> {
    // Checked again: the token's write took a turn, in which the connection may have closed or another session begun.
    const refusal = this.sessionRefusal(conn, username);
    if (refusal) return refusal;

    conn.user = username;
    conn.signedInAs = username;
    conn.sessionToken = token?.token;
    conn.idle = false;
    void conn.socket.join(userRoom(username));
    conn.lastCommandAt = this.deps.clock();
    const replay = conn.beginReplay(username, this.deps.meter.delivered);
    // A new session is not idle: an idle user who opens one is back.
    const first = this.idle.around(username, () => this.deps.presence.add(username, conn));
    this.deps.feed.signedIn(conn);
    if (first) this.deps.feed.changed(username, true);
    this.deps.log.info('signed in', { username, address: conn.address, sessions: this.deps.presence.sessionsOf(username).size });

    request.defer(() => this.replay(conn, username, replay));
    const online = this.visibleTo(username, this.deps.presence.online());
    return { ok: true, username, online, ...(token && { token: token.token, tokenExpiresAt: token.expiresAt }) };
  }

  /**
   * Sends the user's stored messages to a session that signed in, a page at a time: the next page is sent
   * once the last has been written to the client, so that what the server holds for one session stays about
   * a page however much is stored, and a client that does not read is left to the heartbeat and the
   * slow-reader sweep. A user's sessions take turns (REPLAYS_PER_USER), so that opening more of them does
   * not make the server hold more pages.
   */
  private async replay(conn: Connection, username: string, replay: Replay): Promise<void> {
    // A session that ended (a closed connection drains at once) must not read the rest of the queue.
    const going = (): boolean => conn.user === username && conn.replayingWith(replay);
    const turn = this.replayTurns.enter(username);
    // A session that ends while it waits gives its place up.
    conn.socket.once('disconnect', turn.leave);
    try {
      if (!(await turn.ready) || !going()) return;
      for (;;) {
        let page: readonly ChatMessage[] = await this.deps.store.pendingFor(username, { after: replay.after, limit: REPLAY_PAGE });
        if (!going()) return;
        const more = page.length === REPLAY_PAGE;
        do {
          page = replay.send(page, REPLAY_PAGE_BYTES);
          // The last page too: a session that does not read must not leave the turn with a page in the server.
          await conn.drained();
          if (!going()) return;
        } while (page.length > 0);
        if (!more) return;
      }
    } catch (err) {
      // Live messages must still flow; what was not sent comes at the next sign-in.
      this.deps.log.error('replay failed', { username, err: errorDetail(err) });
    } finally {
      conn.socket.off('disconnect', turn.leave);
      turn.leave();
      conn.finishReplay(replay);
    }
  }

  /** A block made (`on`) or lifted, here or on another node: presence is hidden or shown between the two at once. */
  private applyBlock(blocker: string, blocked: string, on: boolean): void {
    const wasHidden = this.deps.blocks.between(blocker, blocked);
    if (on) this.deps.blocks.add(blocker, blocked);
    else this.deps.blocks.remove(blocker, blocked);
    const hidden = this.deps.blocks.between(blocker, blocked);
    if (hidden !== wasHidden) this.showPresenceBetween(blocker, blocked, !hidden);
  }

  /** Another node's block or unblock, for this node's sessions: as if made here. */
  applyRemoteBlock(blocker: string, blocked: string, on: boolean): void {
    this.applyBlock(blocker, blocked, on);
    if (on) this.privateChat.revoke(blocker, blocked);
  }

  /** A direct message or broadcast any node stored, to this node's sessions of its recipients and sender (cluster mode). */
  deliverLive({ message, recipients, origin }: LiveMessage): void {
    const users = [...(recipients ?? []), message.from];
    deliver(this.deps.presence, message, users, ownSession(this.deps.cluster, origin), this.deps.meter.delivered);
  }

  /** Another node's sessions of `user` changed (`idle` null: none left there): announced here if the user's presence did. */
  applyPresence(node: string, user: string, idle: boolean | null, at: number): void {
    if (!this.deps.accounts.has(user)) return;
    const wasIdle = this.idle.isIdle(user);
    const change = this.deps.presence.setRemote(node, user, idle === null ? undefined : { idle }, at);
    if (change) this.deps.feed.changed(user, change === 'online');
    const nowIdle = this.idle.isIdle(user);
    if (this.deps.presence.isOnline(user) && nowIdle !== (change === 'online' ? false : wasIdle)) this.deps.feed.idleChanged(user, nowIdle);
  }

  /** A node stopped: its users are gone from it since `at`. */
  nodeGone(node: string, at: number): void {
    for (const user of this.deps.presence.onNode(node)) this.applyPresence(node, user, null, at);
  }

  /** Who is online on the other nodes, all of it (at the start, after a lost connection): the differences are applied. */
  remotePresenceIs(online: readonly RemotePresence[]): void {
    const now = this.deps.clock();
    const listed = new Set(online.map((p) => pairKey(p.node, p.user)));
    for (const [node, user] of this.deps.presence.remoteEntries())
      if (!listed.has(pairKey(node, user))) this.applyPresence(node, user, null, now);
    for (const p of online) this.applyPresence(p.node, p.user, p.idle, now);
  }

  /**
   * This node is back in the cluster after a while out of it (see ClusterReceiver.rejoined): with --single-session, a
   * user who signed in on another node meanwhile, when their session here counted for nothing, keeps that one.
   */
  yieldSessionsTakenElsewhere(): void {
    if (!this.deps.singleSession) return;
    for (const user of this.deps.presence.onThisAndAnother()) {
      this.signOutEverywhere(
        user,
        'logout',
        'You signed in elsewhere while this server was out of reach, and one session is allowed: this one has ended.',
      );
    }
  }

  /** Ends a connection with a reason told to the client (even one still at its password prompt). */
  signOut(conn: Connection, reason: SignOutReason, message: string): void {
    conn.socket.emit('signedOut', { reason, message });
    this.detach(conn);
    conn.socket.disconnect(true);
  }

  /** Forgets a connection's session (on sign-out or a dropped connection). */
  detach(conn: Connection): void {
    const user = conn.user;
    if (!user) return;
    conn.user = undefined;
    this.privateChat.ended(conn);
    void conn.socket.leave(userRoom(user));
    this.deps.feed.signedOut(conn);
    const now = this.deps.clock();
    // The user's last session that was not idle leaving makes them idle.
    if (this.idle.around(user, () => this.deps.presence.remove(user, conn, now))) this.deps.feed.changed(user, false);
    // In a cluster, the user may still be online on another node, which writes its own time when they leave it.
    if (this.deps.presence.sessionsOf(user).size === 0) {
      this.deps.store
        .setLastSeen(user, now)
        .catch((err: unknown) => this.deps.log.error('could not store last seen', { user, err: String(err) }));
    }
    this.deps.log.info('session ended', { username: user });
  }

  /** A removed account's sessions end at once, and it leaves presence and every block list. */
  private forgetUser(username: string): void {
    this.signOutEverywhere(username, 'account-removed', 'Your account was removed.');
    // Sessions on other nodes end there, but this node's sessions hear it from here: no account, no presence to come.
    if (this.deps.presence.isOnline(username)) this.deps.feed.changed(username, false);
    this.deps.blocks.forget(username);
    this.deps.presence.forget(username);
    this.deps.sendRate.forget(username);
  }

  private signOutEverywhere(username: string, reason: SignOutReason, message: string): void {
    // A copy: signing out removes the session from the set.
    for (const conn of [...this.deps.presence.sessionsOf(username)]) this.signOut(conn, reason, message);
  }

  private async save(
    conn: Connection,
    m: { kind: ChatMessage['kind']; body: string; recipients: string[]; clientMsgId: string | undefined },
  ): Promise<Saved | Refused> {
    const from = conn.user!;
    const saved = await this.deps.store.saveMessage(
      {
        from,
        kind: m.kind,
        body: m.body,
        sentAt: this.deps.clock(),
        recipients: m.recipients,
        ...(m.clientMsgId !== undefined && { clientMsgId: m.clientMsgId }),
        ...(this.deps.cluster && { origin: originOf(this.deps.cluster, conn) }),
      },
      this.deps.maxPendingPerSender,
    );
    if (saved.message && !saved.duplicate) this.deps.meter.stored.add(m.kind);
    // The sender's other windows show what was sent from this one; recipients whose queue was full get nothing.
    // In a cluster every node, this one too, delivers it once it reads it back, in id order (deliverLive).
    if (saved.message && !saved.duplicate && !this.deps.cluster) {
      const to = saved.full.length ? m.recipients.filter((u) => !saved.full.includes(u)) : m.recipients;
      deliver(this.deps.presence, saved.message, [...to, from], conn.socket.id, this.deps.meter.delivered);
    }
    return saved;
  }

  /**
   * A block hides two users from each other as if they had gone offline; an unblock shows them
   * again, at once rather than with the next batch. Only users who are online now are announced
   * (`visible` false hides, true shows).
   */
  private showPresenceBetween(a: string, b: string, visible: boolean): void {
    const at = this.deps.clock();
    for (const [viewer, subject] of [
      [a, b],
      [b, a],
    ] as const) {
      if (!this.deps.presence.isOnline(subject)) continue;
      const idle = visible && this.idle.isIdle(subject);
      for (const session of this.deps.presence.sessionsOf(viewer))
        session.socket.emit('presence', [presenceEvent(hearsIdle(session), subject, { online: visible, idle, at })]);
    }
  }

  /** Presence is hidden between users when either blocked the other. */
  private visibleTo(viewer: string, users: string[]): string[] {
    return users.filter((u) => u !== viewer && !this.deps.blocks.between(viewer, u)).sort();
  }
}

/** A retry repeats its send: a clientMsgId the sender used for another kind of send, recipient or channel sends nothing. */
export function reusedClientMsgId(): Failure {
  return failure('BAD_REQUEST', 'This clientMsgId was used for another message; send this one with a new clientMsgId.');
}

/** The sending session as the message's `origin` records it (see ownSession). */
export function originOf(cluster: Cluster, conn: Connection): string {
  return `${cluster.node}/${conn.socket.id}`;
}

/** The socket id of the session a message's `origin` names, if it is on this node: that session has its reply. */
export function ownSession(cluster: Cluster | undefined, origin: string | null): string | undefined {
  return cluster && origin?.startsWith(`${cluster.node}/`) ? origin.slice(cluster.node.length + 1) : undefined;
}

/** `message`, `broadcast` and `post` past the user's send rate. */
export function sendingTooFast(): Failure {
  return failure('RATE_LIMITED', 'You are sending messages too fast (across all your sessions); wait a moment and try again.');
}
