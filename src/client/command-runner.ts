import { randomUUID } from 'node:crypto';
import type {
  ChannelInfo,
  ChannelState,
  ChatMessage,
  Command,
  CommandName,
  HistoryOf,
  ReplyBodies,
  RequestName,
  RequestPayload,
} from '../protocol';
import {
  BACK_TO_COMMANDS,
  SIGNED_OUT,
  formatChannels,
  formatCreated,
  formatDeleted,
  formatHistoryPage,
  formatInvited,
  formatJoined,
  formatKicked,
  formatLeft,
  formatMembers,
  formatPosted,
  formatQuery,
  formatRenamed,
  formatTopic,
  formatBlocked,
  formatBlocklist,
  formatBroadcast,
  formatHelp,
  formatPrivateSent,
  formatPrivateStarted,
  formatPrivateStopping,
  formatSent,
  formatUnblocked,
  formatWhoElse,
  formatWhoLast,
} from './sentences';

/**
 * Runs a parsed text command for either client: sends its request(s) and returns a typed outcome with the
 * sentence that tells the user of it. The clients differ only in how they present an outcome.
 */

/** The reply types that differ from client to client: the extension's carry the message it shows. */
export interface Replies {
  message: { online: boolean };
  broadcast: { delivered: number; skipped: number; queueFull?: string[] };
  start: { already: boolean };
  private: unknown;
}

/** What the runner needs of a client: `ParleyClient` and `PrivateChannels` are one, as they are. */
export interface CommandPort<R extends Replies = Replies> {
  requests: {
    whoelse(): Promise<{ users: string[] }>;
    wholast(minutes: number): Promise<{ users: string[] }>;
    message(to: string, body: string): Promise<R['message']>;
    broadcast(body: string, to?: string[]): Promise<R['broadcast']>;
    block(username: string): Promise<unknown>;
    unblock(username: string): Promise<unknown>;
    blocklist(): Promise<{ users: string[] }>;
    /** Any other request, as `ParleyClient.request` sends it: a new command that needs nothing more of a client uses this. */
    request<E extends RequestName>(event: E, payload: RequestPayload<E>): Promise<ReplyBodies[E]>;
  };
  private: {
    start(username: string): Promise<R['start']>;
    send(to: string, body: string): R['private'];
    stop(username: string): void;
  };
}

export type Outcome<R extends Replies = Replies> = { sentence: string } & (
  | { name: 'help' }
  /** Nothing is sent: each client signs out its own way; the sentence is what it says once signed out. */
  | { name: 'logout' }
  | { name: 'whoelse'; users: string[] }
  | { name: 'wholast'; minutes: number; users: string[] }
  | { name: 'message'; to: string; reply: R['message'] }
  | { name: 'broadcast'; to?: string[]; reply: R['broadcast'] }
  | { name: 'block'; username: string }
  | { name: 'unblock'; username: string }
  | { name: 'blocklist'; users: string[] }
  | { name: 'startprivate'; username: string; reply: R['start'] }
  | { name: 'private'; to: string; sent: R['private'] }
  | { name: 'stopprivate'; username: string }
  | { name: 'join'; channel: ChannelState }
  | { name: 'leave'; channel: string }
  | { name: 'channels'; channels: ChannelInfo[] }
  | { name: 'create'; channel: ChannelState }
  | { name: 'topic'; channel: ChannelInfo }
  | { name: 'invite'; channel: string; username: string }
  | { name: 'kick'; channel: string; username: string }
  | { name: 'rename'; channel: string; to: string }
  | { name: 'delete'; channel: string }
  | { name: 'members'; channel: string; members: string[] }
  | { name: 'post'; channel: string; reply: ReplyBodies['post'] }
  /** A page, oldest first; `more` when older messages remain. */
  | { name: 'history'; of?: HistoryOf; messages: ChatMessage[]; more: boolean }
  /** `private`: the direct, encrypted chat with the user is open (opened by this command, or already). */
  | { name: 'query'; username: string; private: boolean }
  /** Nothing is sent: the client leaves its current conversation. */
  | { name: 'close' }
);

type Handler<N extends CommandName> = <R extends Replies>(
  command: Extract<Command, { name: N }>,
  port: CommandPort<R>,
) => Promise<Extract<Outcome<R>, { name: N }>>;

/** One handler per command: a command without one does not compile. */
const HANDLERS: { [N in CommandName]: Handler<N> } = {
  help: async () => ({ name: 'help', sentence: formatHelp() }),
  logout: async () => ({ name: 'logout', sentence: SIGNED_OUT }),
  whoelse: async (_command, port) => {
    const { users } = await port.requests.whoelse();
    return { name: 'whoelse', users, sentence: formatWhoElse(users) };
  },
  wholast: async ({ minutes }, port) => {
    const { users } = await port.requests.wholast(minutes);
    return { name: 'wholast', minutes, users, sentence: formatWhoLast(users, minutes) };
  },
  message: async ({ to, body }, port) => {
    const reply = await port.requests.message(to, body);
    return { name: 'message', to, reply, sentence: formatSent(to, reply.online) };
  },
  broadcast: async ({ body, to }, port) => {
    const reply = await port.requests.broadcast(body, to);
    return { name: 'broadcast', ...(to && { to }), reply, sentence: formatBroadcast(reply, to !== undefined) };
  },
  block: async ({ username }, port) => {
    await port.requests.block(username);
    return { name: 'block', username, sentence: formatBlocked(username) };
  },
  unblock: async ({ username }, port) => {
    await port.requests.unblock(username);
    return { name: 'unblock', username, sentence: formatUnblocked(username) };
  },
  blocklist: async (_command, port) => {
    const { users } = await port.requests.blocklist();
    return { name: 'blocklist', users, sentence: formatBlocklist(users) };
  },
  startprivate: async ({ username }, port) => {
    const reply = await port.private.start(username);
    return { name: 'startprivate', username, reply, sentence: formatPrivateStarted(username, reply.already) };
  },
  private: async ({ to, body }, port) => ({ name: 'private', to, sent: port.private.send(to, body), sentence: formatPrivateSent(to) }),
  stopprivate: async ({ username }, port) => {
    port.private.stop(username);
    return { name: 'stopprivate', username, sentence: formatPrivateStopping(username) };
  },
  join: async ({ channel }, port) => {
    const reply = await port.requests.request('join', { channel });
    return { name: 'join', channel: reply.channel, sentence: formatJoined(reply.channel) };
  },
  leave: async ({ channel }, port) => {
    await port.requests.request('leave', { channel });
    return { name: 'leave', channel, sentence: formatLeft(channel) };
  },
  channels: async (_command, port) => {
    const { channels } = await port.requests.request('channels', {});
    return { name: 'channels', channels, sentence: formatChannels(channels) };
  },
  create: async ({ channel, private: secret }, port) => {
    const reply = await port.requests.request('createchannel', { name: channel, ...(secret && { private: true }) });
    return { name: 'create', channel: reply.channel, sentence: formatCreated(reply.channel) };
  },
  topic: async ({ channel, topic }, port) => {
    const reply = await port.requests.request('topic', { channel, topic });
    return { name: 'topic', channel: reply.channel, sentence: formatTopic(reply.channel) };
  },
  invite: async ({ channel, username }, port) => {
    await port.requests.request('invite', { channel, username });
    return { name: 'invite', channel, username, sentence: formatInvited(channel, username) };
  },
  kick: async ({ channel, username }, port) => {
    await port.requests.request('kick', { channel, username });
    return { name: 'kick', channel, username, sentence: formatKicked(channel, username) };
  },
  rename: async ({ channel, to }, port) => {
    await port.requests.request('renamechannel', { channel, to });
    return { name: 'rename', channel, to, sentence: formatRenamed(channel, to) };
  },
  delete: async ({ channel }, port) => {
    await port.requests.request('deletechannel', { channel });
    return { name: 'delete', channel, sentence: formatDeleted(channel) };
  },
  members: async ({ channel }, port) => {
    const { members } = await port.requests.request('members', { channel });
    return { name: 'members', channel, members, sentence: formatMembers(channel, members) };
  },
  post: async ({ channel, body }, port) => {
    const reply = await port.requests.request('post', { channel, body, clientMsgId: randomUUID() });
    return { name: 'post', channel, reply, sentence: formatPosted(channel) };
  },
  history: async ({ of, before, limit }, port) => {
    const page = { ...of, ...(before !== undefined && { before }), ...(limit !== undefined && { limit }) };
    const { messages, more } = await port.requests.request('history', page);
    const sentence = formatHistoryPage(of, messages.length, more, before !== undefined);
    return { name: 'history', ...(of && { of }), messages, more, sentence };
  },
  query: async ({ username, private: direct }, port) => {
    if (direct) await port.private.start(username);
    return { name: 'query', username, private: direct, sentence: formatQuery(username, direct) };
  },
  close: async () => ({ name: 'close', sentence: BACK_TO_COMMANDS }),
};

/** Runs `command` through `port`; rejects with what the request or the private chat threw. */
export function runCommand<R extends Replies>(command: Command, port: CommandPort<R>): Promise<Outcome<R>> {
  // TypeScript cannot pair a union's member with its handler; the table's type makes that pairing.
  const handler = HANDLERS[command.name] as (command: Command, port: CommandPort<R>) => Promise<Outcome<R>>;
  return handler(command, port);
}
