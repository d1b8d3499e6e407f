import type { RequestName, RequestPayload } from '../protocol';
import type { Connection } from './connection';
import type { Presence } from './presence';
import type { PresenceFeed } from './presence-feed';

/**
 * The idle state of presence (protocol 3, request `status`): a user is idle while online and every one of their
 * sessions said its user is away from it. A session that signs in is not idle, so a user's new window makes them
 * active again, and their last active window leaving makes them idle.
 */
export class IdleStatus {
  constructor(
    private readonly presence: Presence<Connection>,
    private readonly feed: PresenceFeed,
    /** Told this node's state of a user after each change: online (idle or not) or without sessions here (null). */
    private readonly local: (user: string, idle: boolean | null) => void = () => {},
  ) {}

  isIdle(user: string): boolean {
    return this.presence.isOnline(user) && this.idleHere(user) && this.presence.idleElsewhere(user);
  }

  /** Whether every one of the user's sessions on this node is idle (true when there is none). */
  idleHere(user: string): boolean {
    for (const session of this.presence.sessionsOf(user)) if (!session.idle) return false;
    return true;
  }

  /** The `status` request: this session's user is away from it (true) or back (false). */
  set(conn: Connection, idle: boolean): void {
    this.around(conn.user!, () => (conn.idle = idle));
  }

  /**
   * Runs a change to a user's sessions and announces their idle state if it changed while they stayed online
   * (coming online and going offline are announced as such, idle false).
   */
  around<T>(user: string, change: () => T): T {
    const wasOnline = this.presence.isOnline(user);
    const wasIdle = this.isIdle(user);
    const result = change();
    const idle = this.isIdle(user);
    if (wasOnline && this.presence.isOnline(user) && idle !== wasIdle) this.feed.idleChanged(user, idle);
    this.local(user, this.presence.sessionsOf(user).size > 0 ? this.idleHere(user) : null);
    return result;
  }
}

/**
 * Whether a request counts as activity for the idle timeout: acknowledgements do not, since they come without the
 * user, nor does `status` saying the user is away (a session that keeps saying so must still time out).
 */
export function isActivity<E extends RequestName>(event: E, payload: RequestPayload<E>): boolean {
  if (event === 'received') return false;
  return event !== 'status' || !(payload as RequestPayload<'status'>).idle;
}
