import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg, { type Pool } from 'pg';
import type { Logger } from '../log';
import { redactUrl } from '../redact';
import { MESSAGES_CHANNEL } from '../store/pg-queries';
import { openPool } from '../store/pg-store';
import {
  EVENTS_CHANNEL,
  encodeEnvelope,
  parseEnvelope,
  type ClusterEvent,
  type PresenceChange,
  type PublishedEvent,
} from './cluster-events';
import { CLUSTER_SQL } from './cluster-queries';
import { MessageTail, type LiveMessage } from './message-tail';
import { pgLockouts } from './pg-lockouts';
import { PgPeers } from './pg-peers';
import { TicketKeys } from './ticket-keys';
import type { LockoutCountsFactory } from '../lockout-counts';

/** What a node does with what the cluster tells it. */
export interface ClusterReceiver {
  /** A message any node stored (this one too), in id order, to deliver to this node's sessions. */
  message(live: LiveMessage): void;
  /** Another node's change, presence and departures included. */
  event(event: ClusterEvent): void;
  /** Who is online on the other nodes, all of it: at the start, and after the link to the database was lost. */
  presence(online: RemotePresence[]): void;
  /** After the link to the database was lost: what this node keeps in memory is read again. */
  resync(): Promise<void>;
  /**
   * This node is back after the others took it out, or after its presence could not be written: users may have
   * signed in elsewhere meanwhile as if they had no session here (`presence` has just told who).
   */
  rejoined(): void;
}

export interface RemotePresence {
  node: string;
  user: string;
  idle: boolean;
}

/** What the message center's services ask of the cluster. */
export interface Cluster {
  /** This node's id: unique to this process, never reused. */
  readonly node: string;
  /** Tells the other nodes of a change this node stored; never throws, a failure is logged. */
  publish(event: PublishedEvent): void;
  /** This node's sessions of `user` changed at `at`: online (`idle` whether all are idle) or none left here (null). */
  presence(user: string, idle: boolean | null, at: number): void;
  /** The peer listeners of every node's sessions (private chat). */
  readonly peers: PgPeers;
  /** The live nodes' ticket keys, which clients accept tickets signed with. */
  readonly ticketKeys: TicketKeys;
  /**
   * Resolves true once this node has heard every change the others announced before the call (false if it cannot
   * tell within a few seconds: the database is out of reach).
   */
  caughtUp(): Promise<boolean>;
}

export interface PgClusterOptions {
  url: string;
  /** How often a node says it is alive; one silent for 1.5 of these is taken out. Default 10 s. */
  heartbeatMs?: number;
  /** The public half of this node's private-chat ticket key, published for the other nodes' clients. */
  ticketKey: string;
  log: Logger;
}

const DEFAULT_HEARTBEAT_MS = 10_000;
const RECONNECT_MIN_MS = 250;
/**
 * Beats between two readings of what the node keeps in memory: a node that died between storing a change and
 * announcing it leaves the others unaware of it until then (docs/scaling.md, "What is eventual").
 */
const BEATS_PER_RESYNC = 20;
const SYNC_TIMEOUT_MS = 3_000;
/** Presence changes per statement and notification: well under NOTIFY's 8,000 bytes with 64-character names. */
const PRESENCE_BATCH = 60;
const RECONNECT_MAX_MS = 5_000;

/**
 * One node's link to the others through PostgreSQL (docs/scaling.md "Cluster mode"): it listens for what they
 * announce (LISTEN/NOTIFY), reads the messages they store (./message-tail.ts), keeps its presence rows and its
 * heartbeat, and takes out nodes that stopped beating. After a lost connection it reads everything again, so
 * that a node that missed notifications is late, never wrong.
 */
export class PgCluster implements Cluster {
  readonly node = `${hostname().slice(0, 30)}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly heartbeatMs: number;
  private listener: pg.Client | undefined;
  private tail: MessageTail | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private reconnectMs = RECONNECT_MIN_MS;
  /** Presence changes not written yet, the latest per user: written together, one batch at a time. */
  private readonly unwritten = new Map<string, PresenceChange>();
  private writing: Promise<void> | undefined;
  /** This node's users as last written: online (idle or not). Written again if the node was taken out meanwhile. */
  private readonly mine = new Map<string, boolean>();
  /** A presence write failed: the rows may be wrong until written again. */
  private stale = false;
  private beats = 0;
  /** caughtUp's marks on their way back: PostgreSQL delivers notifications in the order their transactions committed. */
  private readonly syncs = new Map<string, () => void>();
  /** Since when heartbeats have reached the database; undefined while the last one did not. */
  private reachableSince: number | undefined = 0;

  private readonly pool: Pool;
  private receiver: ClusterReceiver | undefined;
  readonly peers: PgPeers;
  readonly ticketKeys: TicketKeys;

  /** Nothing is connected until `join`; the node's id is known from here. */
  constructor(private readonly options: PgClusterOptions) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    // A database out of reach must fail a sign-in's lockout check soon rather than hold it (see ./pg-lockouts.ts).
    this.pool = openPool({ connectionString: options.url, max: 6, connectionTimeoutMillis: 5_000 });
    this.peers = new PgPeers(this.pool, this.node, options.log);
    this.ticketKeys = new TicketKeys(this.node, options.ticketKey);
  }

  /**
   * Joins the cluster: registers the node, learns who is online on the others (told to `receiver`), and starts
   * listening. The schema must be there (the store's migrations ran first). On failure, the cluster is stopped.
   */
  async join(receiver: ClusterReceiver): Promise<void> {
    this.receiver = receiver;
    try {
      await this.register();
      await this.sweep();
      await this.listen();
      await this.loadPresence();
      this.tail = await MessageTail.start(this.pool, (live) => receiver.message(live), this.options.log);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs / 2);
    this.timer.unref();
    this.options.log.info('joined the cluster', { node: this.node, database: redactUrl(this.options.url) });
  }

  /** The lockout counts, shared by every node (./pg-lockouts.ts). */
  lockouts(): LockoutCountsFactory {
    return pgLockouts(this.pool, this.node);
  }

  publish(event: ClusterEvent): void {
    const failed = (err: unknown): void =>
      this.options.log.error('could not tell the other nodes of a change', { type: event.type, err: String(err) });
    let payload: string;
    try {
      payload = encodeEnvelope({ from: this.node, event }); // throws past NOTIFY's size
    } catch (err) {
      return failed(err);
    }
    this.pool.query(CLUSTER_SQL.notify, [payload]).catch(failed);
  }

  caughtUp(): Promise<boolean> {
    const token = randomBytes(12).toString('base64url');
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), SYNC_TIMEOUT_MS);
      const done = (heard: boolean): void => {
        clearTimeout(timer);
        this.syncs.delete(token);
        resolve(heard);
      };
      this.syncs.set(token, () => done(true));
      this.pool.query(CLUSTER_SQL.notify, [encodeEnvelope({ from: this.node, event: { type: 'sync', token } })]).catch(() => done(false));
    });
  }

  /** Leaves the cluster: its users go offline on the other nodes at once, rather than after its heartbeats stop. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.tail?.stop();
    while (this.writing) await this.writing;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    try {
      await this.bury(this.node, 0);
    } catch (err) {
      this.options.log.warn('could not leave the cluster cleanly; the others will take this node out', { err: String(err) });
    }
    await this.pool.end();
  }

  presence(user: string, idle: boolean | null, at: number): void {
    if (this.stopped) return;
    if (idle === null) this.mine.delete(user);
    else this.mine.set(user, idle);
    this.unwritten.delete(user); // re-inserted last, so that batches keep the order of users' latest changes
    this.unwritten.set(user, { user, idle, at });
    this.writing ??= this.writePresence();
  }

  /**
   * Writes the presence changes made meanwhile, a batch at a time, each batch's rows and its announcement in one
   * statement: a sign-in storm (a node restarting, its clients coming back) costs a few statements, and the other
   * nodes hear of it in a few notifications, which their presence feeds batch as they would their own.
   */
  private async writePresence(): Promise<void> {
    // Written even while stopping: the sign-outs of a clean stop come just before it, and stop waits for them.
    while (this.unwritten.size > 0) {
      await new Promise((resolve) => setImmediate(resolve)); // the rest of this turn's changes join the batch
      const batch = [...this.unwritten.values()].slice(0, PRESENCE_BATCH);
      for (const change of batch) this.unwritten.delete(change.user);
      const here = batch.filter((c) => c.idle !== null);
      try {
        const payload = encodeEnvelope({ from: this.node, event: { type: 'presence', node: this.node, changes: batch } });
        await this.pool.query(CLUSTER_SQL.writePresence, [
          here.map((c) => c.user),
          here.map((c) => c.idle),
          here.map((c) => c.at),
          batch.filter((c) => c.idle === null).map((c) => c.user),
          this.node,
          payload,
        ]);
      } catch (err) {
        // The heartbeat writes every row again once the database is back (see beat).
        this.stale = true;
        this.options.log.warn('could not store presence', { users: batch.length, err: String(err) });
      }
    }
    this.writing = undefined;
  }

  /** Says this node is alive, and takes out those that stopped saying so. */
  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      const { rowCount } = await this.pool.query(CLUSTER_SQL.heartbeat, [this.node]);
      this.reachableSince ??= Date.now();
      if (rowCount === 0 || this.stale || this.peers.stale) await this.rejoin();
      await this.sweep();
      this.tail?.wake(); // in case a notification was lost
      if (++this.beats % BEATS_PER_RESYNC === 0) await this.receiver?.resync();
    } catch (err) {
      this.reachableSince = undefined;
      this.options.log.warn('could not reach the database for a heartbeat', { err: String(err) });
    }
  }

  /**
   * Registers again and writes every presence row anew, telling the others: after the others took this node out
   * while it could not reach the database, or after a presence write failed.
   */
  private async rejoin(): Promise<void> {
    this.options.log.warn('writing this node and its presence again after trouble with the database', { node: this.node });
    this.stale = false;
    await this.register();
    await this.peers.writeAgain();
    await this.loadPresence();
    this.receiver?.rejoined();
    const { rows } = await this.pool.query<{ username: string }>(CLUSTER_SQL.deletePresenceOf, [this.node]);
    const now = Date.now();
    for (const { username } of rows) if (!this.mine.has(username)) this.presence(username, null, now);
    for (const [user, idle] of this.mine) this.presence(user, idle, now);
  }

  /**
   * Takes out every node silent for 1.5 heartbeats (a live one beats every half). Not until this node has reached
   * the database for that long itself: after an outage, the others were silent for the same reason, and need the
   * time to beat again.
   */
  private async sweep(): Promise<void> {
    const silence = Math.round(this.heartbeatMs * 1.5);
    if (this.reachableSince === undefined || Date.now() - this.reachableSince < silence) return;
    const { rows } = await this.pool.query<{ id: string }>(CLUSTER_SQL.staleNodes, [silence]);
    for (const { id } of rows) if (id !== this.node) await this.bury(id, silence);
  }

  /**
   * Removes a node silent for `silence` ms (0: this one, leaving) with its presence, in one transaction that also
   * tells every node; its users online nowhere else were last seen at its last heartbeat.
   */
  private async bury(node: string, silence: number): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Its presence rows first, which refer to its row; put back by the rollback if the node is not to go.
      const gone = await client.query<{ username: string }>(CLUSTER_SQL.deletePresenceOf, [node]);
      const { rows } = await client.query<{ heartbeat_at: number }>(CLUSTER_SQL.deleteNode, [node, silence]);
      const last = rows[0];
      if (!last) return void (await client.query('ROLLBACK'));
      const at = Number(last.heartbeat_at);
      await client.query(CLUSTER_SQL.deleteChecksOf, [node]);
      await client.query(CLUSTER_SQL.deletePeersOf, [node]);
      await client.query(CLUSTER_SQL.lastSeenAt, [gone.rows.map((r) => r.username), at]);
      await client.query(CLUSTER_SQL.notify, [encodeEnvelope({ from: this.node, event: { type: 'gone', node, at } })]);
      await client.query('COMMIT');
      if (node !== this.node) {
        this.options.log.warn('took out a node that stopped beating', { node, users: gone.rowCount });
        this.receiver?.event({ type: 'gone', node, at });
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** Registers this node with its ticket key, and tells the others that its clients' tickets are to be accepted. */
  private async register(): Promise<void> {
    await this.pool.query(CLUSTER_SQL.registerNode, [this.node, this.options.ticketKey]);
    this.publish({ type: 'node', node: this.node, ticketKey: this.options.ticketKey });
  }

  /** Who is online on the other nodes now, and which nodes are live (their ticket keys). */
  private async loadPresence(): Promise<void> {
    const { rows } = await this.pool.query<{ node: string; username: string; idle: boolean }>(CLUSTER_SQL.otherPresence, [this.node]);
    this.receiver?.presence(rows.map((row) => ({ node: row.node, user: row.username, idle: row.idle })));
    const nodes = await this.pool.query<{ id: string; ticket_key: string }>(CLUSTER_SQL.nodeKeys);
    this.ticketKeys.replace(new Map(nodes.rows.map((row) => [row.id, row.ticket_key])));
  }

  /** A connection of its own that LISTENs; when it breaks, another is opened and everything read again. */
  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url });
    client.on('notification', (n) => {
      if (n.channel === MESSAGES_CHANNEL) return this.tail?.wake();
      const envelope = parseEnvelope(n.payload);
      if (envelope?.event.type === 'sync') return envelope.from === this.node ? this.syncs.get(envelope.event.token)?.() : undefined;
      if (envelope && envelope.from !== this.node) this.receiver?.event(envelope.event);
    });
    client.on('error', () => {}); // 'end' follows, and reconnects
    client.on('end', () => {
      if (this.listener !== client || this.stopped) return;
      this.listener = undefined;
      this.options.log.warn('lost the cluster connection to the database; reconnecting');
      this.reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    await client.query(`LISTEN ${MESSAGES_CHANNEL}`);
    this.listener = client;
  }

  private reconnect(): void {
    const wait = this.reconnectMs;
    this.reconnectMs = Math.min(RECONNECT_MAX_MS, this.reconnectMs * 2);
    setTimeout(() => {
      if (this.stopped) return;
      void this.listen()
        .then(() => this.resync())
        .catch((err: unknown) => {
          this.options.log.warn('could not reconnect to the database yet', { err: String(err) });
          this.reconnect();
        });
    }, wait).unref();
  }

  /** After a reconnection: what was missed meanwhile, read from the database. */
  private async resync(): Promise<void> {
    this.reconnectMs = RECONNECT_MIN_MS;
    await this.beat();
    await this.receiver?.resync();
    await this.loadPresence();
    this.tail?.wake();
    this.options.log.info('reconnected to the cluster');
  }
}
