import type { Server } from 'socket.io';
import type { ClientToServerEvents, PresenceEvent, ServerToClientEvents } from '../protocol';
import type { Blocks } from './blocks';
import type { Clock } from './clock';
import type { Connection } from './connection';
import type { Presence } from './presence';

/** Every signed-in session is in this room, so that a presence batch is encoded once for all who see the same list. */
const SIGNED_IN = 'signed-in';

/** A user's latest change in the window: someone who came and went is still told as gone, so no view is left stale. */
interface Change {
  online: boolean;
  at: number;
  seq: number;
}

/**
 * Tells signed-in sessions who came online and who left, in batches: the changes of one window
 * (`batchMs`) go out as one `presence` event per session. One event per change to every session
 * made a storm of N sign-ins cost N² packets, and could bury the server.
 */
export class PresenceFeed {
  private changes = new Map<string, Change>();
  /** Sessions that signed in during this window, with the change count at that moment: their login reply told them the rest. */
  private joined = new Map<Connection, number>();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly io: Server<ClientToServerEvents, ServerToClientEvents>,
    private readonly presence: Presence<Connection>,
    private readonly blocks: Blocks,
    private readonly clock: Clock,
    private readonly batchMs: number,
  ) {}

  /** A session signed in; it hears of changes from now on. */
  signedIn(conn: Connection): void {
    void conn.socket.join(SIGNED_IN);
    this.joined.set(conn, this.seq);
  }

  signedOut(conn: Connection): void {
    void conn.socket.leave(SIGNED_IN);
    this.joined.delete(conn);
  }

  changed(username: string, online: boolean): void {
    if (this.disposed) return;
    this.changes.delete(username); // re-inserted last: the batch lists changes in the order of their latest
    this.changes.set(username, { online, at: this.clock(), seq: ++this.seq });
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  /** Sends what changed since the last flush. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const changes = [...this.changes];
    const joined = this.joined;
    this.changes = new Map();
    this.joined = new Map();
    if (changes.length === 0) return;
    const event = ([username, c]: [string, Change]): PresenceEvent => ({ username, online: c.online, at: c.at });

    // Lists of their own: the subjects' sessions (not told about themselves), those of users with a block
    // either way with a subject (not told about them), and sessions that signed in during the window.
    const own = new Set<Connection>(joined.keys());
    for (const [user] of changes) {
      for (const session of this.presence.sessionsOf(user)) own.add(session);
      for (const other of this.blocks.relatedTo(user)) for (const session of this.presence.sessionsOf(other)) own.add(session);
    }
    this.io
      .to(SIGNED_IN)
      .except([...own].map((session) => session.socket.id))
      .emit('presence', changes.map(event));
    for (const session of own) {
      const viewer = session.user;
      if (viewer === undefined) continue;
      const since = joined.get(session);
      const list = changes.filter(([user, c]) => user !== viewer && !this.blocks.between(user, viewer) && c.seq > (since ?? 0));
      if (list.length > 0) session.socket.emit('presence', list.map(event));
    }
  }

  /** Drops what is pending and announces nothing more (a server shutting down signs everyone out at once). */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.changes.clear();
    this.joined.clear();
  }
}
