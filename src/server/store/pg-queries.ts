// The SQL the PostgreSQL store runs, grouped as the embedded store's (./sqlite-queries.ts) and with the same
// meaning; lists are arrays ($n::text[]) where SQLite takes JSON, and rows come back in the shapes ./sqlite-rows.ts reads.

/**
 * PostgreSQL's channel on which each storing transaction wakes the cluster's nodes (../cluster/message-tail.ts):
 * the functions parley_send and parley_post (./pg-migrations.ts) notify it.
 */
export const MESSAGES_CHANNEL = 'parley_messages';

const MESSAGE_COLUMNS = 'm.id, m.sender, m.recipient, m.kind, m.body, m.sent_at';
/** The id of the account named by parameter `n`, 0 if there is none: with the name, what a message belongs to. */
const accountId = (n: number): string => `coalesce((SELECT id FROM users WHERE username = $${n}), 0)`;
/** Messages that `sender` (parameter `n`) sent: its account's, or the bare name's. */
const sentBy = (n: number): string => `sender_id = ${accountId(n)} AND sender = $${n}`;
const sentTo = (n: number): string => `recipient_id = ${accountId(n)} AND recipient = $${n}`;

const ACCOUNTS = {
  getUser: 'SELECT * FROM users WHERE username = $1',
  clearUnowned: 'DELETE FROM pending WHERE recipient = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = $1)',
  clearUnownedDeliveries: 'DELETE FROM deliveries WHERE recipient = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = $1)',
  clearUnownedTokens: 'DELETE FROM session_tokens WHERE username = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = $1)',
  listUsers: 'SELECT * FROM users ORDER BY username',
  // Replacing a hash first, so that a replacement takes no value of the identity (an upsert would).
  setPassword: 'UPDATE users SET password_hash = $2 WHERE username = $1',
  putUser: `INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3)
            ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash`,
  joinGeneral: `INSERT INTO channel_members (channel_id, username, read_seq)
                SELECT id, $1, last_seq FROM channels WHERE name = 'general' ON CONFLICT DO NOTHING`,
  deleteUser: 'DELETE FROM users WHERE username = $1',
  deleteBlocksOf: 'DELETE FROM blocks WHERE blocker = $1 OR blocked = $1',
  deleteDeliveriesOf: 'DELETE FROM deliveries WHERE recipient = $1',
  deletePendingOf: 'DELETE FROM pending WHERE recipient = $1',
  deleteMembershipsOf: 'DELETE FROM channel_members WHERE username = $1',
  deleteMentionsOf: 'DELETE FROM mentions WHERE username = $1',
  deleteReadPositionsOf: 'DELETE FROM read_positions WHERE username = $1 OR partner = $1',
  forgetCreator: 'UPDATE channels SET creator = NULL WHERE creator = $1',
  setLastSeen: 'UPDATE users SET last_seen = $2 WHERE username = $1',
} as const;

const SESSION_TOKENS = {
  putSessionToken: 'INSERT INTO session_tokens (token_hash, username, created_at, expires_at) VALUES ($1, $2, $3, $4)',
  deleteExpiredTokens: 'DELETE FROM session_tokens WHERE expires_at <= $1',
  getSessionToken: 'SELECT * FROM session_tokens WHERE token_hash = $1',
  renewSessionToken: 'UPDATE session_tokens SET expires_at = $2 WHERE token_hash = $1',
  deleteSessionToken: 'DELETE FROM session_tokens WHERE token_hash = $1',
  deleteSessionTokensOf: 'DELETE FROM session_tokens WHERE username = $1',
} as const;

const MESSAGES = {
  // A direct message or broadcast, stored and announced (every node listening hears it once the transaction commits):
  // outcome 'stored', 'duplicate' (nothing written), 'raced' or 'full' (to be rolled back). See parley_send.
  send: 'SELECT outcome, new_id, to_json(full_queues)::text AS full_queues FROM parley_send($1, $2, $3, $4, $5, $6, $7, $8, $9)',
  findByClientId: `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE ${sentBy(1)} AND client_msg_id = $2`,
  pendingFor: `SELECT ${MESSAGE_COLUMNS} FROM pending p JOIN messages m ON m.id = p.message_id
               WHERE p.recipient = $1 AND p.message_id > $2 ORDER BY p.message_id LIMIT $3`,
  // Moves a batch's acknowledged rows from pending to deliveries in one statement: ($1, $2) are (recipient, id) pairs,
  // $3 the acknowledgement each pair comes from; counts, per acknowledgement, the rows that were pending (a pair
  // acknowledged twice counts for the first).
  markDelivered: `WITH acks (recipient, message_id, entry) AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[])),
                       moved AS (DELETE FROM pending p USING acks a WHERE p.recipient = a.recipient AND p.message_id = a.message_id
                                 RETURNING p.recipient, p.message_id),
                       kept AS (INSERT INTO deliveries (message_id, recipient) SELECT message_id, recipient FROM moved ON CONFLICT DO NOTHING)
                  SELECT (SELECT min(entry) FROM acks a WHERE a.recipient = m.recipient AND a.message_id = m.message_id) AS entry,
                         count(*) AS n
                  FROM moved m GROUP BY 1`,
} as const;

const HISTORY = {
  history: `
    WITH page (id) AS (
      (SELECT id FROM messages WHERE ${sentBy(1)} AND id < $2 AND kind != 'channel' ORDER BY id DESC LIMIT $3)
      UNION
      (SELECT message_id FROM deliveries WHERE recipient = $1 AND message_id < $2 ORDER BY message_id DESC LIMIT $3)
      UNION
      (SELECT message_id FROM pending WHERE recipient = $1 AND message_id < $2 ORDER BY message_id DESC LIMIT $3)
      ORDER BY id DESC LIMIT $3)
    SELECT ${MESSAGE_COLUMNS} FROM page JOIN messages m ON m.id = page.id ORDER BY m.id`,
  historyWith: `
    WITH page (id) AS (
      (SELECT id FROM messages WHERE ${sentBy(1)} AND ${sentTo(2)} AND id < $3 ORDER BY id DESC LIMIT $4)
      UNION ALL
      (SELECT id FROM messages WHERE ${sentBy(2)} AND ${sentTo(1)} AND id < $3 ORDER BY id DESC LIMIT $4)
      ORDER BY id DESC LIMIT $4)
    SELECT ${MESSAGE_COLUMNS} FROM page JOIN messages m ON m.id = page.id ORDER BY m.id`,
} as const;

const CHANNEL_MESSAGE_COLUMNS = `${MESSAGE_COLUMNS}, c.name AS channel, m.seq,
  (SELECT coalesce(json_agg(username ORDER BY username), '[]')::text FROM mentions WHERE message_id = m.id) AS mentions`;
/** Messages of senders not in the array parameter `n`. */
const notFrom = (n: number): string => `m.sender <> ALL($${n}::text[])`;

const CHANNELS = {
  listChannels: 'SELECT * FROM channels ORDER BY name',
  listMembers: `SELECT cm.channel_id, cm.username FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
                WHERE c.name != 'general' ORDER BY cm.channel_id, cm.username`,
  insertChannel: `INSERT INTO channels (name, topic, private, creator, created_at) VALUES ($1, $2, $3, $4, $5)
                  ON CONFLICT (name) DO NOTHING RETURNING id`,
  addMember: `INSERT INTO channel_members (channel_id, username, read_seq)
              SELECT id, $2, last_seq FROM channels WHERE id = $1 ON CONFLICT DO NOTHING`,
  removeMember: 'DELETE FROM channel_members WHERE channel_id = $1 AND username = $2',
  setTopic: 'UPDATE channels SET topic = $2 WHERE id = $1',
  renameChannel: 'UPDATE channels SET name = $2 WHERE id = $1',
  deleteChannelMentions: 'DELETE FROM mentions WHERE channel_id = $1',
  deleteChannelMessages: 'DELETE FROM messages WHERE channel_id = $1',
  deleteChannelMembers: 'DELETE FROM channel_members WHERE channel_id = $1',
  deleteChannel: 'DELETE FROM channels WHERE id = $1',
  emptyPrivateChannels:
    'SELECT id FROM channels c WHERE private = 1 AND NOT EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id)',
  // A channel message with its seq and mentions, as `send` (see parley_post): the channel's row, like the message
  // counter, stays locked until the post commits, so seqs are handed out in commit order.
  post: 'SELECT * FROM parley_post($1, $2, $3, $4, $5, $6, $7)',
  channelMessage: `SELECT ${CHANNEL_MESSAGE_COLUMNS} FROM messages m JOIN channels c ON c.id = m.channel_id WHERE m.id = $1`,
  channelHistory: `SELECT ${CHANNEL_MESSAGE_COLUMNS} FROM messages m JOIN channels c ON c.id = m.channel_id
                   WHERE m.channel_id = $1 AND m.seq < $2 AND ${notFrom(3)} ORDER BY m.seq DESC LIMIT $4`,
  channelStates: `SELECT cm.channel_id, c.last_seq, cm.read_seq,
                    (SELECT count(*) FROM messages m WHERE m.channel_id = cm.channel_id AND m.seq > cm.read_seq AND ${notFrom(2)}) AS unread,
                    (SELECT count(*) FROM mentions x JOIN messages m ON m.id = x.message_id
                     WHERE x.username = $1 AND x.channel_id = cm.channel_id AND x.seq > cm.read_seq AND ${notFrom(2)}) AS mentions
                  FROM channel_members cm JOIN channels c ON c.id = cm.channel_id WHERE cm.username = $1`,
  readChannel: `UPDATE channel_members SET read_seq = greatest(read_seq, least($3::bigint, (SELECT last_seq FROM channels WHERE id = $1)))
                WHERE channel_id = $1 AND username = $2 RETURNING read_seq`,
} as const;

const READ_POSITIONS = {
  readDirect: `INSERT INTO read_positions (username, partner, read_id)
               VALUES ($1, $2, least($3::bigint, CASE WHEN $2 = ''
                 THEN greatest(coalesce((SELECT max(message_id) FROM deliveries WHERE recipient = $1), 0),
                               coalesce((SELECT max(message_id) FROM pending WHERE recipient = $1), 0))
                 ELSE greatest(coalesce((SELECT max(id) FROM messages WHERE ${sentBy(1)} AND ${sentTo(2)}), 0),
                               coalesce((SELECT max(id) FROM messages WHERE ${sentBy(2)} AND ${sentTo(1)}), 0)) END))
               ON CONFLICT (username, partner) DO UPDATE SET read_id = greatest(read_positions.read_id, excluded.read_id)
               RETURNING read_id`,
  readPositions: 'SELECT partner, read_id FROM read_positions WHERE username = $1',
  receivedSummary: `
    WITH received (id) AS (SELECT message_id FROM deliveries WHERE recipient = $1 UNION SELECT message_id FROM pending WHERE recipient = $1),
         got (partner, id) AS (SELECT CASE WHEN m.kind = 'direct' THEN m.sender ELSE '' END, m.id FROM received JOIN messages m ON m.id = received.id)
    SELECT got.partner, max(got.id) AS last_id, count(*) FILTER (WHERE got.id > coalesce(r.read_id, 0)) AS unread
    FROM got LEFT JOIN read_positions r ON r.username = $1 AND r.partner = got.partner GROUP BY got.partner`,
  sentSummary: `SELECT CASE WHEN kind = 'direct' THEN recipient ELSE '' END AS partner, max(id) AS last_id FROM messages
                WHERE ${sentBy(1)} AND kind != 'channel' GROUP BY 1`,
} as const;

const BLOCKS = {
  listBlocks: 'SELECT blocker, blocked FROM blocks ORDER BY blocker, blocked',
  addBlock: 'INSERT INTO blocks (blocker, blocked) VALUES ($1, $2) ON CONFLICT DO NOTHING',
  removeBlock: 'DELETE FROM blocks WHERE blocker = $1 AND blocked = $2',
} as const;

/** Retention and export walk the messages in slices of ids (see SqliteStore's). */
const SLICES = {
  slice: 'SELECT id, sent_at FROM messages WHERE id > $1 ORDER BY id LIMIT $2',
  // Of the messages with ids in $1..$2, those an account still waits for.
  awaited: `SELECT DISTINCT message_id FROM pending p
            WHERE message_id BETWEEN $1 AND $2 AND EXISTS (SELECT 1 FROM users WHERE username = p.recipient)`,
  expirePending: 'DELETE FROM pending WHERE message_id = ANY($1::bigint[])',
  expireDeliveries: 'DELETE FROM deliveries WHERE message_id = ANY($1::bigint[])',
  expireMentions: 'DELETE FROM mentions WHERE message_id = ANY($1::bigint[])',
  expireMessages: 'DELETE FROM messages WHERE id = ANY($1::bigint[])',
  postsBy: `SELECT ${CHANNEL_MESSAGE_COLUMNS} FROM messages m JOIN channels c ON c.id = m.channel_id
            WHERE m.id > $2 AND m.id <= $3 AND m.kind = 'channel' AND m.sender_id = ${accountId(1)} AND m.sender = $1 ORDER BY m.id`,
} as const;

export const PG_SQL = {
  ...ACCOUNTS,
  ...SESSION_TOKENS,
  ...MESSAGES,
  ...HISTORY,
  ...CHANNELS,
  ...READ_POSITIONS,
  ...BLOCKS,
  ...SLICES,
} as const;

export type PgQueryName = keyof typeof PG_SQL;
