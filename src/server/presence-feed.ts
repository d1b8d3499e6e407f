import type { Server } from 'socket.io';
import { CHANNELS_PROTOCOL_VERSION, type ClientToServerEvents, type PresenceEvent, type ServerToClientEvents } from '../protocol';
import type { Blocks } from './blocks';
import type { Clock } from './clock';
import type { Connection } from './connection';
import type { Presence } from './presence';

/**
 * Every signed-in session is in one of these rooms, so that a presence batch is encoded once for all who see the same
 * list: protocol 3 sessions hear of idle states, older ones neither see the field nor changes of it alone.
 */
const SIGNED_IN = 'signed-in';
const SIGNED_IN_IDLE = 'signed-in:idle';

/** A user's latest change in the window: someone who came and went is still told as gone, so no view is left stale. */
interface Change {
  online: boolean;
  idle: boolean;
  /** Whether they came online or went offline in the window: only then do protocol 1 and 2 sessions hear of it. */
  presence: boolean;
  at: number;
  seq: number;
}

/** Whether a session hears of idle states (protocol 3). */
export function hearsIdle(conn: Connection): boolean {
  return conn.protocol >= CHANNELS_PROTOCOL_VERSION;
}

/** A presence event as a session sees it: with `idle` when it hears of idle states. */
export function presenceEvent(withIdle: boolean, username: string, change: { online: boolean; idle: boolean; at: number }): PresenceEvent {
  const event = { username, online: change.online, at: change.at };
  return withIdle ? { ...event, idle: change.idle } : event;
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
    void conn.socket.join(hearsIdle(conn) ? SIGNED_IN_IDLE : SIGNED_IN);
    this.joined.set(conn, this.seq);
  }

  signedOut(conn: Connection): void {
    void conn.socket.leave(hearsIdle(conn) ? SIGNED_IN_IDLE : SIGNED_IN);
    this.joined.delete(conn);
  }

  /** A user came online or went offline (not idle either way). */
  changed(username: string, online: boolean): void {
    this.record(username, { online, idle: false, presence: true });
  }

  /** An online user became idle or active again. */
  idleChanged(username: string, idle: boolean): void {
    this.record(username, { online: true, idle, presence: this.changes.get(username)?.presence ?? false });
  }

  private record(username: string, change: Omit<Change, 'at' | 'seq'>): void {
    if (this.disposed) return;
    this.changes.delete(username); // re-inserted last: the batch lists changes in the order of their latest
    this.changes.set(username, { ...change, at: this.clock(), seq: ++this.seq });
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
    // Protocol 1 and 2 sessions hear only of users who came or went.
    const heard = (withIdle: boolean, list: [string, Change][]): PresenceEvent[] =>
      list.filter(([, c]) => withIdle || c.presence).map(([user, c]) => presenceEvent(withIdle, user, c));

    // Lists of their own: the subjects' sessions (not told about themselves), those of users with a block
    // either way with a subject (not told about them), and sessions that signed in during the window.
    const own = new Set<Connection>(joined.keys());
    for (const [user] of changes) {
      for (const session of this.presence.sessionsOf(user)) own.add(session);
      for (const other of this.blocks.relatedTo(user)) for (const session of this.presence.sessionsOf(other)) own.add(session);
    }
    const except = [...own].map((session) => session.socket.id);
    for (const [room, withIdle] of [
      [SIGNED_IN, false],
      [SIGNED_IN_IDLE, true],
    ] as const) {
      const events = heard(withIdle, changes);
      if (events.length > 0) this.io.to(room).except(except).emit('presence', events);
    }
    for (const session of own) {
      const viewer = session.user;
      if (viewer === undefined) continue;
      const since = joined.get(session);
      const list = changes.filter(([user, c]) => user !== viewer && !this.blocks.between(user, viewer) && c.seq > (since ?? 0));
      const events = heard(hearsIdle(session), list);
      if (events.length > 0) session.socket.emit('presence', events);
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
