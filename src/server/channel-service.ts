import {
  CHANNELS_PROTOCOL_VERSION,
  LIMITS,
  MENTION_PATTERN,
  failure,
  type ChannelEvent,
  type ChannelInfo,
  type ChannelState,
  type ChatMessage,
  type ReplyTo,
  type RequestPayload,
} from '../protocol';
import type { Accounts } from './accounts';
import type { Blocks } from './blocks';
import { originOf, ownSession, reusedClientMsgId, sendingTooFast, type Handler } from './chat-service';
import type { ClusterEvent } from './cluster/cluster-events';
import type { LiveMessage } from './cluster/message-tail';
import type { Cluster } from './cluster/pg-cluster';
import type { Channel, Channels } from './channels';
import type { Clock } from './clock';
import type { Connection } from './connection';
import { deliver } from './deliver';
import { KeyedRate } from './keyed-rate';
import type { Meter } from './meter';
import type { Presence } from './presence';
import type { Store, StoredChannelState } from './store/store';

/** The requests of protocol 3 (REQUEST_SINCE): channels and read positions (`status` is chat-service's). */
export type ChannelRequest =
  | 'channels'
  | 'conversations'
  | 'createchannel'
  | 'join'
  | 'leave'
  | 'topic'
  | 'invite'
  | 'kick'
  | 'renamechannel'
  | 'deletechannel'
  | 'members'
  | 'post'
  | 'read';

export interface ChannelServiceDeps {
  store: Store;
  accounts: Accounts;
  presence: Presence<Connection>;
  blocks: Blocks;
  channels: Channels;
  /** Shared with `message` and `broadcast`: a post is a send like them. */
  sendRate: KeyedRate;
  /** Default: LIMITS.channelChangeBurst, and one every LIMITS.channelChangeEverySeconds. */
  changeRate?: { burst: number; perSecond: number };
  clock: Clock;
  meter: Meter;
  /** In cluster mode: changes are told to the other nodes, and posts reach sessions through deliverLive. */
  cluster?: Cluster;
}

/**
 * The rules of channels and read positions (docs/protocol.md 10): who may see, join, post to and manage a
 * channel, and where each user stopped reading. A private channel is, to anyone who is not a member, a channel
 * that does not exist. Between two users who blocked each other either way, neither's channel messages reach
 * the other, live or in history, nor count as unread: filtered when read, so that an unblock shows them again.
 * One concern, kept in one file so that every request passes the same membership and visibility checks below;
 * the state is in ./channels.ts, the rows in the store, delivery in ./deliver.ts.
 */
export class ChannelService {
  /** Creating and renaming: both can tell whether a name is taken, so one budget bounds guessing private channels' names. */
  private readonly createRate = new KeyedRate({ burst: LIMITS.channelCreateBurst, perSecond: 1 / LIMITS.channelCreateEverySeconds });
  /** Every change is written and announced to every member (of #general: everyone), so a flood of them reaches all. */
  private readonly changeRate: KeyedRate;
  private readonly changeLimit: { burst: number; perSecond: number };
  /** The read position each user's sessions were last told of, per conversation: a `read` that moves nothing tells nobody. */
  private readonly toldReads = new Map<string, Map<string, number>>();
  /** Other nodes' channel changes, applied one at a time in the order they came. */
  private remoteChanges: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ChannelServiceDeps) {
    const { channelChangeBurst: burst, channelChangeEverySeconds: every } = LIMITS;
    this.changeLimit = deps.changeRate ?? { burst, perSecond: 1 / every };
    this.changeRate = new KeyedRate(this.changeLimit);
    deps.accounts.onRemoved((username) => {
      this.createRate.forget(username);
      this.changeRate.forget(username);
      this.forgetReads(username);
      // The store deleted the private channels the user was the last member of (removeUser).
      deps.channels.forget(username);
    });
  }

  readonly handlers: { [E in ChannelRequest]: Handler<E> } = {
    channels: async (conn) => {
      const me = conn.user!;
      return { ok: true, channels: this.deps.channels.visibleTo(me).map((c) => this.info(c, me)) };
    },

    conversations: async (conn) => {
      const me = conn.user!;
      const [states, directs] = await Promise.all([
        this.deps.store.channelStates(me, this.hiddenFrom(me, true)),
        this.deps.store.directStates(me),
      ]);
      const channels = states.flatMap((s) => {
        const channel = this.deps.channels.withId(s.channelId);
        return channel ? [this.state(channel, me, s)] : [];
      });
      const broadcasts = directs.find((d) => d.with === null) ?? { with: null, lastId: 0, readId: 0, unread: 0 };
      return { ok: true, channels, directs: directs.filter((d) => d.with !== null), broadcasts };
    },

    createchannel: async (conn, { name, private: isPrivate = false, topic = '' }) => {
      const me = conn.user!;
      // Before the name is looked at: the rate also bounds guessing which names private channels have.
      if (!this.createRate.take(me, this.deps.clock())) return creatingTooFast('create');
      if (this.deps.channels.get(name)) return nameTaken(name);
      const id = await this.deps.store.createChannel({ name, topic, private: isPrivate, creator: me, createdAt: this.deps.clock() });
      if (id === undefined) return nameTaken(name);
      const channel = this.deps.channels.add({ id, name, topic, private: isPrivate, creator: me, members: [me] });
      const state = await this.stateOf(channel, me);
      const event: ChannelEvent = { change: 'created', channel: name, by: me, at: this.deps.clock(), state };
      this.publish(channel, event);
      this.announce([me], event, conn);
      return { ok: true, channel: state };
    },

    join: async (conn, { channel: name }) => {
      const me = conn.user!;
      if (!this.takeChange(me)) return this.changingTooFast();
      const channel = this.deps.channels.visible(name, me);
      if (!channel) return noSuchChannel(name);
      const joining = !this.deps.channels.isMember(channel, me);
      if (joining) {
        await this.deps.store.addMember(channel.id, me);
        channel.members.add(me);
      }
      const state = await this.stateOf(channel, me);
      if (joining) this.announceMembership(channel, { change: 'joined', username: me }, me, state, conn);
      return { ok: true, channel: state };
    },

    leave: async (conn, { channel: name }) => {
      const me = conn.user!;
      if (!this.takeChange(me)) return this.changingTooFast();
      const channel = this.deps.channels.visible(name, me);
      if (!channel) return noSuchChannel(name);
      if (this.deps.channels.isGeneral(channel)) return failure('FORBIDDEN', `Everyone is a member of #${name}; it cannot be left.`);
      if (!this.deps.channels.isMember(channel, me)) return notAMember(name);
      channel.members.delete(me);
      // Nobody could ever see a private channel without members again: it goes, and its name is free.
      if (channel.private && channel.members.size === 0) {
        this.deps.channels.remove(channel);
        await this.deps.store.deleteChannel(channel.id);
      } else {
        await this.deps.store.removeMember(channel.id, me);
      }
      this.announce([...this.deps.channels.membersOf(channel), me], this.changed(channel, me, { change: 'left', username: me }), conn);
      return { ok: true };
    },

    topic: async (conn, { channel: name, topic }) => {
      const me = conn.user!;
      if (!this.takeChange(me)) return this.changingTooFast();
      const channel = this.memberChannel(name, me);
      if (!('id' in channel)) return channel;
      if (topic === channel.topic) return { ok: true, channel: this.info(channel, me) };
      await this.deps.store.setTopic(channel.id, topic);
      channel.topic = topic;
      this.announce(this.deps.channels.membersOf(channel), this.changed(channel, me, { change: 'topic', topic }), conn);
      return { ok: true, channel: this.info(channel, me) };
    },

    invite: async (conn, { channel: name, username }) => {
      const me = conn.user!;
      if (!this.takeChange(me)) return this.changingTooFast();
      const channel = this.memberChannel(name, me);
      if (!('id' in channel)) return channel;
      if (username === me) return failure('SELF', `You are a member of #${name} already.`);
      if (!this.deps.accounts.has(username)) return failure('UNKNOWN_USER', `There is no user named "${username}".`);
      if (this.deps.blocks.between(me, username)) return failure('BLOCKED', `You cannot add ${username}: one of you blocked the other.`);
      if (!this.deps.channels.isMember(channel, username)) {
        await this.deps.store.addMember(channel.id, username);
        channel.members.add(username);
        const state = await this.stateOf(channel, username);
        this.announceMembership(channel, { change: 'added', username }, username, state, conn, me);
      }
      return { ok: true, channel: name, username };
    },

    kick: async (conn, { channel: name, username }) => {
      const me = conn.user!;
      if (!this.takeChange(me)) return this.changingTooFast();
      const channel = this.creatorChannel(name, me, 'remove members from');
      if (!('id' in channel)) return channel;
      if (username === me) return failure('SELF', `You cannot remove yourself from #${name}; leave it instead.`);
      if (!this.deps.channels.isMember(channel, username)) return failure('NOT_A_MEMBER', `${username} is not a member of #${name}.`);
      await this.deps.store.removeMember(channel.id, username);
      channel.members.delete(username);
      this.announce([...this.deps.channels.membersOf(channel), username], this.changed(channel, me, { change: 'removed', username }), conn);
      return { ok: true, channel: name, username };
    },

    renamechannel: async (conn, { channel: name, to }) => {
      const me = conn.user!;
      if (!this.takeChange(me)) return this.changingTooFast();
      // Before anything is looked at, refused renames too: a rename to a taken name tells that it is taken, as a create does.
      if (!this.createRate.take(me, this.deps.clock())) return creatingTooFast('rename');
      const channel = this.creatorChannel(name, me, 'rename');
      if (!('id' in channel)) return channel;
      if (this.deps.channels.get(to)) return nameTaken(to);
      // In memory first, so that a rename to the same name meanwhile finds it taken.
      this.deps.channels.rename(channel, to);
      try {
        await this.deps.store.renameChannel(channel.id, to);
      } catch (err) {
        this.deps.channels.rename(channel, name);
        throw err;
      }
      this.announce(this.deps.channels.membersOf(channel), this.changed(channel, me, { change: 'renamed', channel: name, to }), conn);
      return { ok: true, channel: name, to };
    },

    deletechannel: async (conn, { channel: name }) => {
      const me = conn.user!;
      const channel = this.creatorChannel(name, me, 'delete');
      if (!('id' in channel)) return channel;
      const members = this.deps.channels.membersOf(channel);
      // In memory first: a post checked after this finds no channel, and one checked before is stored before the delete.
      this.deps.channels.remove(channel);
      await this.deps.store.deleteChannel(channel.id);
      this.announce(members, this.changed(channel, me, { change: 'deleted' }), conn);
      return { ok: true, channel: name };
    },

    members: async (conn, { channel: name }) => {
      const channel = this.deps.channels.visible(name, conn.user!);
      if (!channel) return noSuchChannel(name);
      return { ok: true, channel: name, members: this.deps.channels.membersOf(channel) };
    },

    post: async (conn, { channel: name, body, clientMsgId }) => {
      const from = conn.user!;
      if (!this.deps.sendRate.take(from, this.deps.clock())) return sendingTooFast();
      const channel = this.memberChannel(name, from);
      if (!('id' in channel)) return channel;
      // Called without a turn in between since the checks: the store takes posts and deletes in the order they were checked.
      const saved = await this.deps.store.post({
        from,
        channelId: channel.id,
        body,
        sentAt: this.deps.clock(),
        mentions: this.mentionsIn(body, channel, from),
        ...(clientMsgId !== undefined && { clientMsgId }),
        ...(this.deps.cluster && { origin: originOf(this.deps.cluster, conn) }),
      });
      const { message } = saved;
      if (message.kind !== 'channel' || message.seq === undefined || message.channel !== name) return reusedClientMsgId();
      if (!saved.duplicate) this.deps.meter.stored.add('channel');
      const delivered = saved.duplicate
        ? 0
        : this.deps.cluster
          ? this.reachable(message, channel, conn)
          : this.deliverPost(message, channel, conn);
      return { ok: true, id: message.id, seq: message.seq, sentAt: message.sentAt, delivered };
    },

    read: async (conn, { conversation, upTo }) => {
      const me = conn.user!;
      let at: number;
      // A channel by its id, so that a new channel of the same name starts afresh.
      let key: string;
      if ('channel' in conversation) {
        const channel = this.memberChannel(conversation.channel, me);
        if (!('id' in channel)) return channel;
        key = `#${channel.id}`;
        at = await this.deps.store.readChannel(channel.id, me, upTo);
      } else if ('with' in conversation) {
        if (conversation.with === me) return failure('SELF', 'You have no conversation with yourself.');
        if (!this.deps.accounts.has(conversation.with)) return failure('UNKNOWN_USER', `There is no user named "${conversation.with}".`);
        key = `@${conversation.with}`;
        at = await this.deps.store.readDirect(me, conversation.with, upTo);
      } else {
        key = '*';
        at = await this.deps.store.readDirect(me, null, upTo);
      }
      const others = this.deps.presence.sessionsOf(me).size - 1;
      if (this.moved(me, key, at, others))
        this.tellSessions(me, conn, (session) => session.socket.emit('read', { conversation, upTo: at }));
      // Each node tells its own sessions, and remembers what it told them.
      this.deps.cluster?.publish({ type: 'read', user: me, key, conversation, upTo: at });
      return { ok: true, upTo: at };
    },
  };

  private takeChange(user: string): boolean {
    return this.changeRate.take(user, this.deps.clock());
  }

  private changingTooFast() {
    const { burst, perSecond } = this.changeLimit;
    return failure(
      'RATE_LIMITED',
      `You can change channels (topic, join, leave, invite, kick, rename) ${burst} times at once, then once every ${1 / perSecond} seconds; wait and try again.`,
    );
  }

  /**
   * Whether `at` is past the position `user`'s sessions were last told of in conversation `key` (unknown counts as
   * moved), remembering it. Only users with `others`, sessions to tell on this node, are remembered, and offline ones are
   * swept out once the map outgrows who is online: a forgotten position costs one needless event, never a missed one.
   */
  private moved(user: string, key: string, at: number, others: number): boolean {
    if (others <= 0) {
      this.toldReads.delete(user);
      return true;
    }
    if (this.toldReads.size > 2 * this.deps.presence.onlineCount() + 16) {
      for (const known of this.toldReads.keys()) if (!this.deps.presence.isOnline(known)) this.toldReads.delete(known);
    }
    let told = this.toldReads.get(user);
    if (!told) this.toldReads.set(user, (told = new Map()));
    const before = told.get(key);
    if (before !== undefined && at <= before) return false;
    told.set(key, at);
    return true;
  }

  /** A removed account's positions go, and so do the others' of their conversations with it, which a new account of that name starts afresh. */
  private forgetReads(username: string): void {
    this.toldReads.delete(username);
    for (const told of this.toldReads.values()) told.delete(`@${username}`);
  }

  /** `history` with a channel (protocol 3): pages by seq, without the messages of users blocked either way. */
  async history(conn: Connection, { channel: name, before, limit = 50 }: RequestPayload<'history'>): Promise<ReplyTo<'history'>> {
    if (conn.protocol < CHANNELS_PROTOCOL_VERSION) {
      return failure(
        'BAD_REQUEST',
        `"history" of a channel needs protocol ${CHANNELS_PROTOCOL_VERSION}; this connection speaks ${conn.protocol}.`,
      );
    }
    const me = conn.user!;
    const channel = name === undefined ? undefined : this.deps.channels.visible(name, me);
    if (!channel) return noSuchChannel(name ?? '');
    // One more than asked tells whether an older page exists.
    const page = await this.deps.store.channelHistory(channel.id, { before, limit: limit + 1, hidden: this.hiddenFrom(me, false) });
    const more = page.length > limit;
    return { ok: true, messages: more ? page.slice(1) : page, more };
  }

  /** A channel message goes live to the protocol 3 sessions of its members but the sending one, and of no one blocked either way. */
  private deliverPost(message: ChatMessage, channel: Channel, conn: Connection | undefined): number {
    const users = this.audienceOf(message, channel);
    return deliver(this.deps.presence, message, users, conn?.socket.id, this.deps.meter.delivered, speaksChannels);
  }

  private audienceOf(message: ChatMessage, channel: Channel): string[] {
    const { presence, blocks } = this.deps;
    return this.deps.channels.membersOf(channel).filter((u) => presence.isOnline(u) && !blocks.between(message.from, u));
  }

  /**
   * In a cluster, what a post's reply says it reached before any node has delivered it: this node's sessions it
   * will go to, and one for each member online only on other nodes (whose sessions this node does not know).
   */
  private reachable(message: ChatMessage, channel: Channel, conn: Connection): number {
    let count = 0;
    for (const user of this.audienceOf(message, channel)) {
      const sessions = [...this.deps.presence.sessionsOf(user)];
      count += sessions.length === 0 ? 1 : sessions.filter((s) => s !== conn && speaksChannels(s)).length;
    }
    return count;
  }

  /** A channel message any node stored, to this node's sessions (cluster mode). */
  deliverLive({ message, origin }: LiveMessage): void {
    const channel = message.channel === undefined ? undefined : this.deps.channels.get(message.channel);
    if (!channel) return; // deleted, or renamed meanwhile: its members read it in the history
    deliver(
      this.deps.presence,
      message,
      this.audienceOf(message, channel),
      ownSession(this.deps.cluster, origin),
      this.deps.meter.delivered,
      speaksChannels,
    );
  }

  /**
   * Another node's change to a channel or read position, for this node's sessions. A channel change is read back
   * from the database (the store has it), and told to whoever was or is a member.
   */
  applyRemote(event: Extract<ClusterEvent, { type: 'channel' | 'read' }>): Promise<void> {
    if (event.type === 'read') {
      const { user, key, conversation, upTo } = event;
      if (this.moved(user, key, upTo, this.deps.presence.sessionsOf(user).size)) {
        this.tellSessions(user, undefined, (session) => session.socket.emit('read', { conversation, upTo }));
      }
      return Promise.resolve();
    }
    return this.inTurn(async () => {
      const { channels } = this.deps;
      const before = channels.withId(event.id);
      const audience = new Set(before ? channels.membersOf(before) : []);
      channels.replace(await this.deps.store.listChannels());
      const after = channels.withId(event.id);
      for (const user of after ? channels.membersOf(after) : []) audience.add(user);
      const { newcomer } = event;
      for (const user of audience) {
        const told = newcomer?.user === user ? { ...event.event, state: newcomer.state } : event.event;
        this.tellSessions(user, undefined, (session) => session.socket.emit('channel', told));
      }
    });
  }

  /** Runs another node's change after those heard before it; one that fails does not hold up the next. */
  private inTurn(work: () => Promise<void>): Promise<void> {
    const step = this.remoteChanges.then(work);
    this.remoteChanges = step.catch(() => {});
    return step;
  }

  /** Resolves once the other nodes' channel changes heard so far are applied. */
  async settled(): Promise<void> {
    await this.remoteChanges;
  }

  /** Reads every channel again (after the link to the other nodes was lost). */
  reload(): Promise<void> {
    return this.inTurn(async () => this.deps.channels.replace(await this.deps.store.listChannels()));
  }

  /** The members `@name`d in `body`, each once, but the sender. A name followed by `.` or `-` (the end of a sentence) still counts. */
  private mentionsIn(body: string, channel: Channel, from: string): string[] {
    const found = new Set<string>();
    for (const [, written = ''] of body.matchAll(MENTION_PATTERN)) {
      const name = this.deps.channels.isMember(channel, written) ? written : written.replace(/[.-]+$/, '');
      if (name !== from && this.deps.channels.isMember(channel, name)) found.add(name);
    }
    return [...found];
  }

  /** The users whose channel messages `user` does not see: blocked either way, and `user` too when counting unread. */
  private hiddenFrom(user: string, andSelf: boolean): string[] {
    const hidden = [...this.deps.blocks.relatedTo(user)];
    return andSelf ? [user, ...hidden] : hidden;
  }

  /** A channel `user` may see and is a member of; otherwise the refusal. */
  private memberChannel(name: string, user: string): Channel | ReturnType<typeof noSuchChannel> {
    const channel = this.deps.channels.visible(name, user);
    if (!channel) return noSuchChannel(name);
    return this.deps.channels.isMember(channel, user) ? channel : notAMember(name);
  }

  /** A channel `user` may see and created (never #general); otherwise the refusal. */
  private creatorChannel(name: string, user: string, what: string): Channel | ReturnType<typeof noSuchChannel> {
    const channel = this.deps.channels.visible(name, user);
    if (!channel) return noSuchChannel(name);
    if (this.deps.channels.isGeneral(channel)) return failure('FORBIDDEN', `Nobody can ${what} #${name}.`);
    if (channel.creator !== user) return failure('FORBIDDEN', `Only the creator of #${name} can ${what} it.`);
    return channel;
  }

  private info(channel: Channel, user: string): ChannelInfo {
    const { name, topic, creator } = channel;
    const { channels } = this.deps;
    return {
      name,
      topic,
      private: channel.private,
      creator,
      members: channels.memberCount(channel),
      member: channels.isMember(channel, user),
    };
  }

  private state(channel: Channel, user: string, s: StoredChannelState): ChannelState {
    return { ...this.info(channel, user), lastSeq: s.lastSeq, readSeq: s.readSeq, unread: s.unread, mentions: s.mentions };
  }

  /** `user`'s state in a channel they are a member of. */
  private async stateOf(channel: Channel, user: string): Promise<ChannelState> {
    const states = await this.deps.store.channelStates(user, this.hiddenFrom(user, true));
    // None when the membership ended meanwhile (a delete, a leave from another session): nothing to count.
    const stored = states.find((s) => s.channelId === channel.id) ?? {
      channelId: channel.id,
      lastSeq: 0,
      readSeq: 0,
      unread: 0,
      mentions: 0,
    };
    return this.state(channel, user, stored);
  }

  private event(channel: Channel, by: string, change: Omit<ChannelEvent, 'channel' | 'by' | 'at'> & { channel?: string }): ChannelEvent {
    return { channel: channel.name, by, at: this.deps.clock(), ...change };
  }

  /** Someone joined or was added: they hear it with their state of the channel, the other members without. */
  private announceMembership(
    channel: Channel,
    change: Pick<ChannelEvent, 'change' | 'username'>,
    newcomer: string,
    state: ChannelState,
    conn: Connection,
    by = newcomer,
  ): void {
    const event = this.event(channel, by, change);
    this.publish(channel, event, { user: newcomer, state });
    this.announce([newcomer], { ...event, state }, conn);
    this.announce(
      this.deps.channels.membersOf(channel).filter((u) => u !== newcomer),
      event,
      conn,
    );
  }

  /** The event of a change made here, told to the other nodes. */
  private changed(channel: Channel, by: string, change: Omit<ChannelEvent, 'channel' | 'by' | 'at'> & { channel?: string }): ChannelEvent {
    const event = this.event(channel, by, change);
    this.publish(channel, event);
    return event;
  }

  private publish(channel: Channel, event: ChannelEvent, newcomer?: { user: string; state: ChannelState }): void {
    this.deps.cluster?.publish({ type: 'channel', id: channel.id, event, ...(newcomer && { newcomer }) });
  }

  /** Tells the protocol 3 sessions of `users` but `skip` (which has its reply) of a change. */
  private announce(users: readonly string[], event: ChannelEvent, skip: Connection): void {
    for (const user of users) this.tellSessions(user, skip, (session) => session.socket.emit('channel', event));
  }

  private tellSessions(user: string, skip: Connection | undefined, tell: (session: Connection) => void): void {
    for (const session of this.deps.presence.sessionsOf(user)) if (session !== skip && speaksChannels(session)) tell(session);
  }
}

const speaksChannels = (session: Connection): boolean => session.protocol >= CHANNELS_PROTOCOL_VERSION;

/** The same words for a channel that does not exist and for a private one the user is not a member of: no guessing names. */
function noSuchChannel(name: string) {
  return failure('NO_SUCH_CHANNEL', `There is no channel #${name}.`);
}

function notAMember(name: string) {
  return failure('NOT_A_MEMBER', `You are not a member of #${name}; join it first.`);
}

function creatingTooFast(what: 'create' | 'rename') {
  const { channelCreateBurst: burst, channelCreateEverySeconds: every } = LIMITS;
  return what === 'create'
    ? failure('RATE_LIMITED', `You can create ${burst} channels at once, then one every ${every} seconds; wait and try again.`)
    : failure(
        'RATE_LIMITED',
        `Renaming shares the limit of creating: ${burst} channels at once, then one every ${every} seconds; wait and try again.`,
      );
}

function nameTaken(name: string) {
  return failure('CHANNEL_EXISTS', `The name #${name} is taken.`);
}
