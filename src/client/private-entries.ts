import { LIMITS } from '../protocol';
import { PrivateChatError, type PrivateOpened } from './private-api';
import type { PrivateChannel, PrivateCloseReason } from './private-channel';

/** One private chat of PrivateChannels, from the first step of opening it to its close. */
export interface Entry {
  username: string;
  /** Who dialled: on a crossing, the channel dialled by the smaller username survives on both sides. */
  initiator: string;
  direction: PrivateOpened['direction'];
  /** Where an incoming caller connected from, for the log. */
  address: string;
  state: 'connecting' | 'open' | 'closed';
  channel: PrivateChannel | undefined;
  /** Known once the channel's keys are derived. */
  safetyCode: string;
  /** Settles when the channel opens or fails to. */
  opened: Promise<void>;
  settle: (error?: Error) => void;
}

export function newEntry(username: string, initiator: string, direction: Entry['direction'], address = ''): Entry {
  let settle!: Entry['settle'];
  const opened = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  opened.catch(() => {}); // the failure is reported where it is awaited, or not at all
  return { username, initiator, direction, address, state: 'connecting', channel: undefined, safetyCode: '', opened, settle };
}

/**
 * Which chat is each user's: at most one current entry per user, plus incoming connections that passed the ticket
 * check but have not proved their key yet. Those take the place of a chat with the same user only once they do: a
 * stolen, unused ticket cannot cut a live chat.
 */
export class Entries {
  private readonly current = new Map<string, Entry>();
  private readonly confirming = new Set<Entry>();

  get(username: string): Entry | undefined {
    return this.current.get(username);
  }

  isCurrent(entry: Entry): boolean {
    return this.current.get(entry.username) === entry;
  }

  /** The user's current entry, or else one of theirs still confirming its key. */
  anyWith(username: string): Entry | undefined {
    return this.current.get(username) ?? [...this.confirming].find((e) => e.username === username);
  }

  confirmingWith(username: string): Entry[] {
    return [...this.confirming].filter((e) => e.username === username);
  }

  all(): Entry[] {
    return [...this.current.values(), ...this.confirming];
  }

  /** An outgoing chat becomes the user's at once; an incoming one only when it confirms (see `confirmed`). */
  add(entry: Entry): void {
    if (entry.direction === 'outgoing') this.current.set(entry.username, entry);
    else this.confirming.add(entry);
  }

  /**
   * A channel opened. A confirmed incoming one takes the place of whatever this client had with the user (the peer
   * evidently lost it).
   */
  confirmed(entry: Entry): void {
    if (!this.confirming.delete(entry)) return;
    const previous = this.current.get(entry.username);
    if (previous && previous !== entry) {
      this.forget(previous);
      previous.channel?.close('replaced', false);
      previous.settle(new PrivateChatError('CLOSED', `${entry.username} opened a private chat with you at the same moment; using theirs.`));
    }
    this.current.set(entry.username, entry);
  }

  forget(entry: Entry): void {
    this.confirming.delete(entry);
    if (this.current.get(entry.username) === entry) this.current.delete(entry.username);
  }

  /** Users with an open chat, sorted. */
  open(): string[] {
    return [...this.current.values()]
      .filter((e) => e.state === 'open')
      .map((e) => e.username)
      .sort();
  }

  /** Users this client has a chat with, open or being opened, for the server to check against blocks. */
  partners(): string[] {
    const users = new Set([...this.current.keys(), ...[...this.confirming].map((e) => e.username)]);
    return [...users].slice(0, LIMITS.privatePartnersMax);
  }
}

/** Why a chat that never opened failed, as its opener is told. */
export function failedToOpen(username: string, reason: PrivateCloseReason, byPeer: boolean): PrivateChatError {
  if (reason === 'signed-out' || reason === 'stopped' || reason === 'replaced' || reason === 'blocked') {
    return new PrivateChatError('CLOSED', `The private chat with ${username} was closed before it opened (${reason}).`);
  }
  if (byPeer && reason === 'lost')
    return new PrivateChatError('PEER_REFUSED', `${username}'s client closed the connection before the chat opened.`);
  return new PrivateChatError(
    'KEY_CONFIRMATION_FAILED',
    `${username}'s client did not prove it holds the key the message center vouched for (${reason}); the connection was closed.`,
  );
}
