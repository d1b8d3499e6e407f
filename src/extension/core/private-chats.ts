import type { EventEmitter } from 'node:events';
import { ParleyRequestError } from '../../client/request-error';
import type { PrivateChannels } from '../../client/private-channels';
import { PrivateChatError, type PrivateClosed, type PrivateMessage } from '../../client/private-api';
import { privateCloseReason } from '../../client/private-api';
import { formatPrivateRefused } from '../../client/sentences';
import { EVERYONE, privateId, type ShownMessage } from '../../view-protocol';
import type { SessionEvents } from './chat-session';
import type { ChatState } from './chat-state';
import type { SessionConnection } from './session-connection';
import { errorMessage } from '../../protocol/errors';

/**
 * The session's private chats: direct and encrypted, never through the server, kept in memory only. Opening,
 * sending and stopping them, and what their events say in their conversations.
 */

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

export class PrivateChats {
  constructor(
    private readonly state: ChatState,
    private readonly connection: SessionConnection,
    private readonly events: EventEmitter<SessionEvents>,
  ) {}

  /** The channel state of the private chat with a user, as the client core sees it. */
  stateOf(username: string): 'connecting' | 'direct' | 'closed' {
    const state = this.connection.channels?.stateOf(username) ?? 'closed';
    return state === 'open' ? 'direct' : state;
  }

  /**
   * Opens a private chat (or finds the open one) and returns its conversation id. Rejects with the
   * server's ParleyRequestError or the client core's PrivateChatError; a `privateFailed` event offers
   * the server instead when that makes sense.
   */
  async start(username: string): Promise<{ conversation: string; already: boolean }> {
    const channels = this.connection.requireChannels();
    if (username === this.state.me) {
      const error = new ParleyRequestError({ code: 'SELF', message: 'A private chat is with someone else, not yourself.' });
      this.events.emit('privateFailed', { username, message: error.message, offerServer: false });
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
      this.failure(username, err);
      throw err;
    }
  }

  /** Sends over the open channel with `username`; never through the server. Without a channel: an error and the offer. */
  send(username: string, body: string): ShownMessage {
    const channels = this.connection.requireChannels();
    let sent: PrivateMessage;
    try {
      sent = channels.send(username, body);
    } catch (err) {
      this.failure(username, err, body);
      throw err;
    }
    return this.state.addPrivateMessage(sent, true);
  }

  /** Closes the private chat with `username`, telling the peer. */
  stop(username: string): void {
    this.connection.requireChannels().stop(username);
  }

  /** Says why a private chat cannot be used, in the conversation, and offers the server when that would work. */
  private failure(username: string, err: unknown, body?: string): void {
    const code = err instanceof PrivateChatError || err instanceof ParleyRequestError ? err.code : 'INTERNAL';
    const reason = errorMessage(err);
    const offerServer = SERVER_FALLBACK_CODES.has(code);
    const message =
      offerServer && !/through the server/.test(reason)
        ? `${reason} Nothing was sent; "Send via Server" sends it through the server instead (stored there).`
        : reason;
    this.state.addNotice(privateId(username), message, 'error');
    this.events.emit('privateFailed', { username, message, offerServer, ...(body !== undefined && { body }) });
  }

  /** Tells of the chats' events in their conversations, while they are this session's. */
  wire(channels: PrivateChannels): void {
    const current = (): boolean => this.connection.channels === channels;
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
      this.events.emit('privateOpened', { username, conversation, direction });
    });
    channels.on('closed', (info) => {
      if (!current()) return;
      this.state.setPrivateState(info.username, 'closed');
      this.state.addNotice(privateId(info.username), describePrivateClosed(info), info.reason === 'blocked' ? 'error' : 'info');
      // Without a server session, the session ends with its last private chat.
      if (!this.connection.client && channels.open.length === 0) this.connection.endServerSession('No private chats are left; signed out.');
    });
    channels.on('message', (message) => {
      if (!current()) return;
      const shown = this.state.addPrivateMessage(message, true);
      const conversation = privateId(message.from);
      if (!this.state.isViewing(conversation)) this.events.emit('notify', { message: shown, conversation, reason: 'direct' });
    });
    channels.on('refused', (info) => {
      if (!current()) return;
      const text = formatPrivateRefused(info).replace(/^\* /, '');
      this.state.addNotice(EVERYONE, text, 'error');
      this.events.emit('privateRefused', text);
    });
    channels.on('problem', (error) => current() && this.state.addNotice(EVERYONE, `Private chat: ${error.message}`, 'error'));
  }
}

/** "Private chat with bob is closed (bob stopped it)." */
function describePrivateClosed(info: PrivateClosed): string {
  return `Private chat with ${info.username} is closed (${privateCloseReason(info, info.username)}).`;
}
