import type { EventEmitter } from 'node:events';
import type {
  ChannelEvent,
  ChannelInfo,
  ChannelState,
  ConversationRef,
  ReadEvent,
  ReplyBodies,
  RequestName,
  RequestPayload,
} from '../../protocol';
import { GENERAL_CHANNEL } from '../../protocol/limits';
import { EVERYONE, channelId, channelOf, directId, partnerOf } from '../../view-protocol';
import type { SessionEvents } from './chat-session';
import type { ChatState } from './chat-state';
import type { SessionConnection } from './session-connection';

/**
 * The user's conversations as the server keeps them (protocol 3): the channels they are in, and for every
 * conversation the read position and the unread and mention counts, asked for at each sign-in and resume and
 * kept live from the `channel` and `read` events.
 */
export class ConversationSync {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: ChatState,
    private readonly connection: SessionConnection,
    private readonly events: EventEmitter<SessionEvents>,
    /** How long after a read the counts are asked for again, when the read does not say them. */
    private readonly refreshDelayMs = 300,
  ) {}

  /**
   * Asks the server for every conversation and its counts. At sign-in and on coming back (`away`), mentions the user
   * was not told of make one notification.
   */
  async refresh(away = true): Promise<void> {
    const client = this.connection.requireClient();
    // #general is everyone's, whatever the server answers.
    if (!this.state.has(channelId(GENERAL_CHANNEL))) this.state.setChannel({ name: GENERAL_CHANNEL, topic: '', private: false });
    const reply = await client.request('conversations', {});
    if (this.connection.client !== client) return;
    const mentions = this.state.applyConversations(reply);
    if (away && mentions.length > 0) this.events.emit('mentionsAway', mentions);
  }

  /** A read position moved (here or in another window): what is read there is read here. */
  onRead(event: ReadEvent): void {
    if (!this.state.applyRead(conversationIdOf(event.conversation), event.upTo)) this.scheduleRefresh();
  }

  onChannel(event: ChannelEvent): void {
    const me = this.state.me;
    const self = event.username === me;
    const name = `#${event.channel}`;
    const note = (conversation: string, text: string): void => void this.state.addNotice(conversation, text, 'info', event.at);
    if (event.change === 'renamed' && event.to !== undefined) {
      this.state.renameChannel(event.channel, event.to);
      note(channelId(event.to), `${event.by} renamed ${name} to #${event.to}.`);
    }
    const gone = event.change === 'deleted' || (self && (event.change === 'left' || event.change === 'removed'));
    if (gone) {
      this.state.dropChannel(event.channel);
      if (event.change === 'deleted') note(EVERYONE, `${event.by} deleted ${name}.`);
      else if (event.change === 'removed') note(EVERYONE, `${event.by} removed you from ${name}.`);
      return;
    }
    if (event.state) this.applyChannel(event.state);
    const where = channelId(event.change === 'renamed' ? (event.to ?? event.channel) : event.channel);
    const text = changeText(event, self);
    if (text && this.state.has(where)) note(where, text);
  }

  /** Public channels and the private ones the user is in. */
  async channels(): Promise<ChannelInfo[]> {
    return (await this.connection.requireClient().request('channels', {})).channels;
  }

  /** Joins a channel; returns its conversation. */
  async join(channel: string): Promise<string> {
    return channelId((await this.request('join', { channel })).channel.name);
  }

  /** Creates a channel (the user is its first member); returns its conversation. */
  async create(name: string, privateChannel: boolean): Promise<string> {
    return channelId((await this.request('createchannel', { name, ...(privateChannel && { private: true }) })).channel.name);
  }

  /**
   * Sends a request; one that changes a channel is applied here as the `channel` event the server sends the user's
   * other sessions (this one has the reply instead).
   */
  async request<E extends RequestName>(event: E, payload: RequestPayload<E>): Promise<ReplyBodies[E]> {
    const reply = await this.connection.requireClient().request(event, payload);
    const me = this.state.me;
    const change = AS_EVENT[event] as ((p: RequestPayload<E>, r: ReplyBodies[E], me: string) => ChangeOf) | undefined;
    if (change && me) this.onChannel({ ...change(payload, reply, me), by: me, at: Date.now() });
    return reply;
  }

  /** Nothing more to ask of this connection. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private applyChannel(channel: ChannelState): void {
    const id = this.state.setChannel(channel);
    this.state.applyCounts(id, { last: channel.lastSeq, read: channel.readSeq, unread: channel.unread, mentions: channel.mentions });
  }

  private scheduleRefresh(): void {
    const client = this.connection.client;
    if (!client || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.connection.client === client && client.state === 'signed-in') void this.refresh(false).catch(() => {});
    }, this.refreshDelayMs);
  }
}

type ChangeOf = Omit<ChannelEvent, 'by' | 'at'>;

/** The channel requests as the `channel` events they cause. */
const AS_EVENT: { [E in RequestName]?: (payload: RequestPayload<E>, reply: ReplyBodies[E], me: string) => ChangeOf } = {
  createchannel: (_p, reply, me) => ({ change: 'created', channel: reply.channel.name, username: me, state: reply.channel }),
  join: (_p, reply, me) => ({ change: 'joined', channel: reply.channel.name, username: me, state: reply.channel }),
  leave: (payload, _r, me) => ({ change: 'left', channel: payload.channel, username: me }),
  topic: (payload) => ({ change: 'topic', channel: payload.channel, topic: payload.topic }),
  invite: (payload) => ({ change: 'added', channel: payload.channel, username: payload.username }),
  kick: (payload) => ({ change: 'removed', channel: payload.channel, username: payload.username }),
  renamechannel: (payload) => ({ change: 'renamed', channel: payload.channel, to: payload.to }),
  deletechannel: (payload) => ({ change: 'deleted', channel: payload.channel }),
};

/** The extension's conversation id for the protocol's reference to one. */
export function conversationIdOf(ref: ConversationRef): string {
  if ('channel' in ref) return channelId(ref.channel);
  if ('with' in ref) return directId(ref.with);
  return EVERYONE;
}

/** The protocol's reference to a conversation of the server's (undefined for a private chat, which it never sees). */
export function conversationRefOf(conversation: string): ConversationRef | undefined {
  if (conversation === EVERYONE) return { broadcasts: true };
  const channel = channelOf(conversation);
  if (channel !== undefined) return { channel };
  const partner = partnerOf(conversation);
  return partner === undefined ? undefined : { with: partner };
}

/** A line in the channel for what changed in it (renames and departures are told above). */
function changeText(event: ChannelEvent, self: boolean): string | undefined {
  const who = self ? 'You' : event.username;
  switch (event.change) {
    case 'created':
      return `${event.by} created #${event.channel}.`;
    case 'joined':
      return `${who} joined.`;
    case 'left':
      return `${who} left.`;
    case 'added':
      return `${event.by} added ${self ? 'you' : event.username}.`;
    case 'removed':
      return `${event.by} removed ${event.username}.`;
    case 'topic':
      return event.topic ? `${event.by} set the topic: ${event.topic}` : `${event.by} cleared the topic.`;
    default:
      return undefined;
  }
}
