import type { Pool } from 'pg';
import type { PeerEndpoint } from '../connection';
import type { Logger } from '../log';
import { CLUSTER_SQL } from './cluster-queries';

/**
 * The peer listeners of a cluster's sessions, in the `peers` table (docs/scaling.md "Private chat across nodes"): each
 * node writes its own sessions' listeners and deletes them when the sessions end; a node taken out loses its rows
 * (pg-cluster.ts, bury) and writes them again when it rejoins. Another node reads them to hand a listener to its user.
 */
export class PgPeers {
  /** This node's sessions' listeners, by socket id: what `writeAgain` writes. */
  private readonly mine = new Map<string, { user: string; peer: PeerEndpoint }>();
  /** One write at a time, in order: a session's delete must follow its insert. */
  private writes: Promise<void> = Promise.resolve();
  /** A write failed: the rows may be wrong until `writeAgain` (the next heartbeat's). */
  stale = false;

  constructor(
    private readonly pool: Pool,
    private readonly node: string,
    private readonly log: Logger,
  ) {}

  /**
   * A session registered (or replaced) its listener. Resolves once written, so that a user of another node can be
   * handed it as soon as the session's client hears its reply; a failed write is logged, and the session's own node
   * still hands the listener out.
   */
  register(socket: string, user: string, peer: PeerEndpoint): Promise<void> {
    this.mine.set(socket, { user, peer });
    return this.write(CLUSTER_SQL.setPeer, [this.node, socket, user, peer.host, peer.port, peer.publicKey]);
  }

  /** The session ended. */
  unregister(socket: string): void {
    if (this.mine.delete(socket)) void this.write(CLUSTER_SQL.deletePeer, [this.node, socket]);
  }

  /** The listeners of `user`'s sessions on the other nodes, the most recently registered first. */
  async elsewhere(user: string): Promise<PeerEndpoint[]> {
    const { rows } = await this.pool.query<{ host: string; port: number; public_key: string; registered_at: number }>(
      CLUSTER_SQL.peersElsewhere,
      [user, this.node],
    );
    return rows.map((r) => ({ host: r.host, port: r.port, publicKey: r.public_key, registeredAt: Number(r.registered_at) }));
  }

  /** After the others took this node out (and its rows with it), or a write failed: every listener of its sessions, written anew. */
  async writeAgain(): Promise<void> {
    this.stale = false;
    await this.write(CLUSTER_SQL.deletePeersOf, [this.node]);
    await Promise.all([...this.mine].map(([socket, { user, peer }]) => this.register(socket, user, peer)));
  }

  private write(sql: string, params: unknown[]): Promise<void> {
    this.writes = this.writes.then(async () => {
      try {
        await this.pool.query(sql, params);
      } catch (err) {
        this.stale = true;
        this.log.warn('could not store a peer listener', { err: String(err) });
      }
    });
    return this.writes;
  }
}
