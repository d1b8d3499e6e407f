import { runCommand, type CommandPort, type Outcome } from '../../client/command-runner';
import { asRequestError } from '../../client/request-error';
import { formatHelp, formatOffline } from '../../client/sentences';
import type { ChatMessage } from '../../protocol';
// From their own modules, not the index: the index would load the schemas (zod) at activation.
import type { Command } from '../../protocol/commands';
import { LIMITS } from '../../protocol/limits';
import { EVERYONE, channelId, channelOf, directId, partnerOf, privateId, privatePartnerOf, type ShownMessage } from '../../view-protocol';
import type { InputResult } from './chat-session';
import type { ChatState } from './chat-state';
import { readTypedLine } from '../../client/typed-line';
import type { ConversationSync } from './conversation-sync';
import type { People } from './people';
import type { PrivateChats } from './private-chats';
import type { SessionConnection } from './session-connection';

/**
 * What the user types or picks: the requests as the palette commands use them (each updates the chat state
 * and returns the answer), and the composer's lines, run through the shared command runner.
 */

/** What this session's requests answer: with the message as shown, and the private chat's conversation. */
interface SessionReplies {
  message: { message: ChatMessage; online: boolean };
  broadcast: { message: ChatMessage; delivered: number; skipped: number; queueFull: string[] };
  start: { conversation: string; already: boolean };
  private: ShownMessage;
}

export class SessionCommands {
  constructor(
    private readonly state: ChatState,
    private readonly connection: SessionConnection,
    private readonly people: People,
    private readonly privateChats: PrivateChats,
    private readonly sync: ConversationSync,
  ) {}

  async whoelse(): Promise<string[]> {
    const { users } = await this.connection.requireClient().whoelse();
    this.state.setOnline(users);
    return users;
  }

  async wholast(minutes: number): Promise<string[]> {
    const { users } = await this.connection.requireClient().wholast(minutes);
    this.state.applyWholast(minutes, users);
    return users;
  }

  async sendDirect(to: string, body: string): Promise<{ message: ChatMessage; online: boolean }> {
    const me = this.connection.requireMe();
    const reply = await this.connection.requireClient().message(to, body);
    const message: ChatMessage = { id: reply.id, from: me, to, kind: 'direct', body, sentAt: reply.sentAt };
    this.state.addMessages([message], true);
    return { message, online: reply.online };
  }

  async broadcast(body: string, to?: string[]): Promise<{ message: ChatMessage; delivered: number; skipped: number; queueFull: string[] }> {
    const me = this.connection.requireMe();
    const reply = await this.connection.requireClient().broadcast(body, to);
    const message: ChatMessage = { id: reply.id, from: me, to: null, kind: 'broadcast', body, sentAt: reply.sentAt };
    this.state.addMessages([message], true);
    return { message, delivered: reply.delivered, skipped: reply.skipped, queueFull: reply.queueFull ?? [] };
  }

  async post(channel: string, body: string): Promise<ChatMessage> {
    const me = this.connection.requireMe();
    const reply = await this.connection.requireClient().post(channel, body);
    const message: ChatMessage = { id: reply.id, from: me, to: null, kind: 'channel', body, sentAt: reply.sentAt, channel, seq: reply.seq };
    this.state.addMessages([message], true);
    return message;
  }

  async blocklist(): Promise<string[]> {
    const { users } = await this.connection.requireClient().blocklist();
    this.state.setBlocked(users);
    return users;
  }

  async sendTo(conversation: string, body: string): Promise<ShownMessage> {
    const secret = privatePartnerOf(conversation);
    if (secret !== undefined) return this.privateChats.send(secret, body);
    const channel = channelOf(conversation);
    if (channel !== undefined) return this.post(channel, body);
    const partner = partnerOf(conversation);
    if (partner === undefined) return (await this.broadcast(body)).message;
    const { message, online } = await this.sendDirect(partner, body);
    if (!online) this.state.addNotice(conversation, formatOffline(partner), 'info');
    return message;
  }

  /** A line from the composer, read by readTypedLine: text for the conversation, or a "/" command. */
  async runInput(conversation: string, line: string): Promise<InputResult> {
    const read = readTypedLine(line);
    switch (read.kind) {
      case 'empty':
        return read;
      case 'text':
        return this.sendText(conversation, read.body);
      case 'command':
        return this.execute(conversation, read.command);
      case 'error':
        this.state.addNotice(conversation, read.error, 'error');
        return read;
    }
  }

  private async sendText(conversation: string, body: string): Promise<InputResult> {
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

  async execute(conversation: string, command: Command): Promise<InputResult> {
    try {
      return this.present(conversation, await runCommand(command, this.port), command);
    } catch (err) {
      const error = asRequestError(err).message;
      // Private-chat failures are already told in the private conversation.
      const peer = command.name === 'startprivate' ? command.username : command.name === 'private' ? command.to : undefined;
      const told = peer !== undefined && conversation === privateId(peer);
      if (!told) this.state.addNotice(conversation, error, 'error');
      return { kind: 'error', error };
    }
  }

  /** The runner's view of this session: the requests also update the chat state. */
  private readonly port: CommandPort<SessionReplies> = {
    requests: {
      whoelse: async () => ({ users: await this.whoelse() }),
      wholast: async (minutes) => ({ users: await this.wholast(minutes) }),
      message: (to, body) => this.sendDirect(to, body),
      broadcast: (body, to) => this.broadcast(body, to),
      block: (username) => this.people.block(username),
      unblock: (username) => this.people.unblock(username),
      blocklist: async () => ({ users: await this.blocklist() }),
      request: (event, payload) => this.sync.request(event, payload),
    },
    private: {
      start: (username) => this.privateChats.start(username),
      send: (to, body) => this.privateChats.send(to, body),
      stop: (username) => this.privateChats.stop(username),
    },
  };

  /** A command whose place is a conversation: the view opens it (`posted`: what was posted there, to show). */
  private opened(command: Command['name'], text: string, open: string, posted?: ChatMessage): InputResult {
    if (posted) this.state.addMessages([posted], true);
    return { kind: 'command', command, text, open };
  }

  /** An outcome as quiet lines: where the command was typed, and beside what was sent where it went. */
  private present(conversation: string, outcome: Outcome<SessionReplies>, command: Command): InputResult {
    const note = (where: string, text: string): void => void this.state.addNotice(where, text, 'info');
    switch (outcome.name) {
      case 'logout':
        return { kind: 'logout' };
      case 'message': {
        const target = directId(outcome.to);
        if (target !== conversation) note(conversation, outcome.sentence);
        else if (!outcome.reply.online) note(target, formatOffline(outcome.to));
        return { kind: 'sent', conversation: target, message: outcome.reply.message, online: outcome.reply.online };
      }
      case 'broadcast': {
        note(EVERYONE, outcome.sentence);
        const { message, ...delivery } = outcome.reply;
        return { kind: 'sent', conversation: EVERYONE, message, delivery };
      }
      case 'private': {
        const target = privateId(outcome.to);
        if (target !== conversation) note(conversation, outcome.sentence);
        return { kind: 'sent', conversation: target, message: outcome.sent };
      }
      case 'startprivate': {
        const target = outcome.reply.conversation;
        if (target !== conversation) note(conversation, outcome.sentence);
        return { kind: 'command', command: outcome.name, text: outcome.sentence, open: target };
      }
      case 'post': {
        const { reply, channel } = outcome;
        const me = this.connection.requireMe();
        const body = command.name === 'post' ? command.body : '';
        const message: ChatMessage = {
          id: reply.id,
          from: me,
          to: null,
          kind: 'channel',
          body,
          sentAt: reply.sentAt,
          channel,
          seq: reply.seq,
        };
        return this.opened(outcome.name, outcome.sentence, channelId(channel), message);
      }
      case 'join':
      case 'create':
        return this.opened(outcome.name, outcome.sentence, channelId(outcome.channel.name));
      case 'query':
        return this.opened(outcome.name, outcome.sentence, (outcome.private ? privateId : directId)(outcome.username));
      case 'history': {
        const of = outcome.of;
        const target = of === undefined ? conversation : 'channel' in of ? channelId(of.channel) : directId(of.with);
        return this.opened(outcome.name, 'Older messages load as you scroll up in the conversation.', target);
      }
      case 'close': {
        // The terminal's command mode has no place in the panel, where "/" starts a command in any conversation.
        const text =
          'The chat view has no command mode: what you type is a message to the conversation on screen, and "/" starts a command.';
        note(conversation, text);
        return { kind: 'command', command: outcome.name, text };
      }
      default: {
        const text =
          outcome.name === 'help'
            ? `${formatHelp('panel')}\nAnything else is sent as a message ("//" starts one with "/"); Shift+Enter adds a line.`
            : outcome.sentence;
        note(conversation, text);
        return { kind: 'command', command: outcome.name, text, ...('users' in outcome && { users: outcome.users }) };
      }
    }
  }
}
