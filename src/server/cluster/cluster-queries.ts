import { EVENTS_CHANNEL } from './cluster-events';

// The SQL of cluster mode's own tables (nodes, presence, peers; the schema is in ../store/pg-migrations.ts). Times that
// compare nodes with each other (heartbeats) are the database's clock, so that nodes' clocks may differ.

const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

export const CLUSTER_SQL = {
  registerNode: `INSERT INTO nodes (id, started_at, heartbeat_at, ticket_key) VALUES ($1, ${NOW_MS}, ${NOW_MS}, $2)
                 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
  heartbeat: `UPDATE nodes SET heartbeat_at = ${NOW_MS} WHERE id = $1 RETURNING heartbeat_at`,
  /** Nodes whose last heartbeat is older than $1 ms. */
  staleNodes: `SELECT id FROM nodes WHERE heartbeat_at < ${NOW_MS} - $1`,
  /** Takes a stale node out, if no other node did meanwhile; returns its last heartbeat. */
  deleteNode: `DELETE FROM nodes WHERE id = $1 AND heartbeat_at < ${NOW_MS} - $2 RETURNING heartbeat_at`,
  deletePresenceOf: 'DELETE FROM presence WHERE node = $1 RETURNING username',
  /** A stopped node's password checks in progress will never end: their places in the lockout counts are freed. */
  deleteChecksOf: 'DELETE FROM lockout_checks WHERE node = $1',
  /** Users of $1 who are online nowhere now were last seen at $2 (at the latest). */
  lastSeenAt: `UPDATE users SET last_seen = GREATEST(coalesce(last_seen, 0), $2) WHERE username = ANY($1::text[])
               AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.username = users.username)`,
  /** A node's sessions' peer listeners go with it. */
  deletePeersOf: 'DELETE FROM peers WHERE node = $1',
  deleteOwnNode: 'DELETE FROM nodes WHERE id = $1',
  /** Every live node's ticket key (../cluster/ticket-keys.ts). */
  nodeKeys: 'SELECT id, ticket_key FROM nodes',
  /** A session's peer listener ($1 node, $2 socket, $3 user, $4 host, $5 port, $6 key), registered now on the database's clock. */
  setPeer: `INSERT INTO peers (node, socket, username, host, port, public_key, registered_at) VALUES ($1, $2, $3, $4, $5, $6, ${NOW_MS})
            ON CONFLICT (node, socket) DO UPDATE SET username = excluded.username, host = excluded.host, port = excluded.port,
              public_key = excluded.public_key, registered_at = excluded.registered_at`,
  deletePeer: 'DELETE FROM peers WHERE node = $1 AND socket = $2',
  /** The listeners of $1's sessions on nodes other than $2, the most recently registered first. */
  peersElsewhere: `SELECT host, port, public_key, registered_at FROM peers WHERE username = $1 AND node <> $2
                   ORDER BY registered_at DESC, node, socket`,
  otherPresence: 'SELECT node, username, idle FROM presence WHERE node <> $1',
  /** This node's sessions of users: online ($1 users, $2 idle, $3 since) and gone ($4), on node $5, told to the others ($6). */
  writePresence: `WITH gone AS (DELETE FROM presence WHERE node = $5 AND username = ANY($4::text[])),
                       here AS (INSERT INTO presence (username, node, idle, since)
                                SELECT u, $5, i, s FROM unnest($1::text[], $2::boolean[], $3::bigint[]) AS t (u, i, s)
                                ON CONFLICT (username, node) DO UPDATE SET idle = excluded.idle)
                  SELECT pg_notify('${EVENTS_CHANNEL}', $6)`,
  notify: `SELECT pg_notify('${EVENTS_CHANNEL}', $1)`,
  lastMessageId: "SELECT value AS id FROM counters WHERE name = 'messages'",
  /** Messages stored after $1, in id order, with what live delivery needs: who they went to and the session that sent them. */
  tail: `SELECT m.id, m.sender, m.recipient, m.kind, m.body, m.sent_at, m.origin, m.recipients, c.name AS channel, m.seq,
                (SELECT coalesce(json_agg(username ORDER BY username), '[]')::text FROM mentions WHERE message_id = m.id) AS mentions
         FROM messages m LEFT JOIN channels c ON c.id = m.channel_id
         WHERE m.id > $1 ORDER BY m.id LIMIT $2`,
} as const;
