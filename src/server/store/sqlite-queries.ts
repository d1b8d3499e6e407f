// The SQL the embedded store runs, grouped by the state each statement serves; each is prepared once at open.

const MESSAGE_COLUMNS = 'm.id, m.sender, m.recipient, m.kind, m.body, m.sent_at';
/** The id of the account named by parameter `n`, 0 if there is none: with the name, what a message belongs to. */
const accountId = (n: number): string => `coalesce((SELECT id FROM users WHERE username = ?${n}), 0)`;
/** Messages that `sender` (parameter `n`) sent: its account's, or the bare name's. */
const sentBy = (n: number): string => `sender_id = ${accountId(n)} AND sender = ?${n}`;
const sentTo = (n: number): string => `recipient_id = ${accountId(n)} AND recipient = ?${n}`;

/** Accounts: who exists, their password hash, when they were last seen. */
const ACCOUNTS = {
  getUser: 'SELECT * FROM users WHERE username = ?',
  // Run before putUser: a new account starts with nothing addressed to its bare name (a message that was
  // stored for an account removed meanwhile, say).
  clearUnowned: 'DELETE FROM pending WHERE recipient = ?1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = ?1)',
  clearUnownedDeliveries: 'DELETE FROM deliveries WHERE recipient = ?1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = ?1)',
  clearUnownedTokens: 'DELETE FROM session_tokens WHERE username = ?1 AND NOT EXISTS (SELECT 1 FROM users WHERE username = ?1)',
  listUsers: 'SELECT * FROM users ORDER BY username',
  putUser: `INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)
            ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash`,
  // Every account is a member of #general; a new one starts reading at its newest message.
  joinGeneral: `INSERT OR IGNORE INTO channel_members (channel_id, username, read_seq)
                SELECT id, ?, last_seq FROM channels WHERE name = 'general'`,
  deleteUser: 'DELETE FROM users WHERE username = ?',
  deleteBlocksOf: 'DELETE FROM blocks WHERE blocker = ?1 OR blocked = ?1',
  // Their receipts too: a later account of that name must not find them in its history.
  deleteDeliveriesOf: 'DELETE FROM deliveries WHERE recipient = ?',
  deletePendingOf: 'DELETE FROM pending WHERE recipient = ?',
  deleteMembershipsOf: 'DELETE FROM channel_members WHERE username = ?',
  deleteMentionsOf: 'DELETE FROM mentions WHERE username = ?',
  deleteReadPositionsOf: 'DELETE FROM read_positions WHERE username = ?1 OR partner = ?1',
  forgetCreator: 'UPDATE channels SET creator = NULL WHERE creator = ?',
  setLastSeen: 'UPDATE users SET last_seen = ? WHERE username = ?',
} as const;

/** Session tokens (by their SHA-256). */
const SESSION_TOKENS = {
  putSessionToken: 'INSERT INTO session_tokens (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
  deleteExpiredTokens: 'DELETE FROM session_tokens WHERE expires_at <= ?',
  getSessionToken: 'SELECT * FROM session_tokens WHERE token_hash = ?',
  renewSessionToken: 'UPDATE session_tokens SET expires_at = ? WHERE token_hash = ?',
  deleteSessionToken: 'DELETE FROM session_tokens WHERE token_hash = ?',
  deleteSessionTokensOf: 'DELETE FROM session_tokens WHERE username = ?',
} as const;

/** Messages and the recipients' queues: storing a send, what waits, acknowledgements. */
const MESSAGES = {
  findByClientId: `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE ${sentBy(1)} AND client_msg_id = ?2`,
  // A retried send (same sender and clientMsgId) inserts nothing; NULL ids never conflict.
  insertMessage: `INSERT INTO messages (sender, sender_id, kind, recipient, recipient_id, body, sent_at, client_msg_id)
                  VALUES (?1, ${accountId(1)}, ?2, ?3, iif(?3 IS NULL, NULL, ${accountId(3)}), ?4, ?5, ?6)
                  ON CONFLICT (sender_id, sender, client_msg_id) DO NOTHING`,
  insertPending: 'INSERT INTO pending (recipient, message_id, sender) VALUES (?, ?, ?)',
  // Stops counting at the cap: a full queue costs no more to check than one just under it.
  // Of the recipients in the JSON list ?1, those for whom ?2 has ?3 messages waiting already: one statement for a
  // whole broadcast, each count stopping at the cap.
  fullQueues: `SELECT r.value AS recipient FROM json_each(?1) r
               WHERE (SELECT count(*) FROM (SELECT 1 FROM pending WHERE recipient = r.value AND sender = ?2 LIMIT ?3)) >= ?3`,
  pendingFor: `SELECT ${MESSAGE_COLUMNS} FROM pending p JOIN messages m ON m.id = p.message_id
               WHERE p.recipient = ? AND p.message_id > ? ORDER BY p.message_id LIMIT ?`,
  // An acknowledgement moves its rows from pending to deliveries, two statements for any number of ids
  // (a JSON array). OR IGNORE: databases written before this kept both rows from the start.
  recordDelivered: `INSERT OR IGNORE INTO deliveries (message_id, recipient)
                    SELECT message_id, recipient FROM pending
                    WHERE recipient = ?1 AND message_id IN (SELECT value FROM json_each(?2))`,
  markDelivered: 'DELETE FROM pending WHERE recipient = ?1 AND message_id IN (SELECT value FROM json_each(?2))',
} as const;

/** History pages. */
const HISTORY = {
  // What a user's account sent (but to channels), was delivered, and has yet to acknowledge. Each branch takes its newest `limit`
  // rows through its own index, so a page costs O(limit) however long the history; the outer query
  // keeps the newest `limit` of them all.
  history: `
    WITH page (id) AS (
      SELECT id FROM (SELECT id FROM messages WHERE ${sentBy(1)} AND id < ?2 AND kind != 'channel' ORDER BY id DESC LIMIT ?3)
      UNION
      SELECT id FROM (SELECT message_id AS id FROM deliveries
                      WHERE recipient = ?1 AND message_id < ?2 ORDER BY message_id DESC LIMIT ?3)
      UNION
      SELECT id FROM (SELECT message_id AS id FROM pending
                      WHERE recipient = ?1 AND message_id < ?2 ORDER BY message_id DESC LIMIT ?3)
      ORDER BY id DESC LIMIT ?3)
    SELECT ${MESSAGE_COLUMNS} FROM page JOIN messages m ON m.id = page.id ORDER BY m.id`,
  historyWith: `
    WITH page (id) AS (
      SELECT id FROM (SELECT id FROM messages WHERE ${sentBy(1)} AND ${sentTo(2)} AND id < ?3 ORDER BY id DESC LIMIT ?4)
      UNION ALL
      SELECT id FROM (SELECT id FROM messages WHERE ${sentBy(2)} AND ${sentTo(1)} AND id < ?3 ORDER BY id DESC LIMIT ?4)
      ORDER BY id DESC LIMIT ?4)
    SELECT ${MESSAGE_COLUMNS} FROM page JOIN messages m ON m.id = page.id ORDER BY m.id`,
} as const;

/** A channel message's columns: its channel's name now, its seq and who it mentions (a JSON array). */
const CHANNEL_MESSAGE_COLUMNS = `${MESSAGE_COLUMNS}, c.name AS channel, m.seq,
  (SELECT json_group_array(username) FROM mentions WHERE message_id = m.id) AS mentions`;
/** Messages of senders not in the JSON array parameter `n` (blocked either way, or the reader). */
const notFrom = (n: number): string => `m.sender NOT IN (SELECT value FROM json_each(?${n}))`;

/** Channels, their members and read positions, their messages and mentions. */
const CHANNELS = {
  listChannels: 'SELECT * FROM channels ORDER BY name',
  // #general's members are every account: not listed.
  listMembers: `SELECT cm.channel_id, cm.username FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
                WHERE c.name != 'general' ORDER BY cm.channel_id, cm.username`,
  insertChannel: `INSERT INTO channels (name, topic, private, creator, created_at) VALUES (?, ?, ?, ?, ?)
                  ON CONFLICT (name) DO NOTHING`,
  // A member starts reading at the channel's newest message: what came before is in its history.
  addMember: `INSERT OR IGNORE INTO channel_members (channel_id, username, read_seq)
              SELECT id, ?2, last_seq FROM channels WHERE id = ?1`,
  removeMember: 'DELETE FROM channel_members WHERE channel_id = ? AND username = ?',
  setTopic: 'UPDATE channels SET topic = ? WHERE id = ?',
  renameChannel: 'UPDATE channels SET name = ? WHERE id = ?',
  deleteChannelMentions: 'DELETE FROM mentions WHERE channel_id = ?',
  deleteChannelMessages: 'DELETE FROM messages WHERE channel_id = ?',
  deleteChannelMembers: 'DELETE FROM channel_members WHERE channel_id = ?',
  deleteChannel: 'DELETE FROM channels WHERE id = ?',
  // A private channel nobody is a member of can never be seen again: it goes, and its name is free.
  emptyPrivateChannels:
    'SELECT id FROM channels c WHERE private = 1 AND NOT EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id)',
  // The seq is the channel's next; a retried post (same sender and clientMsgId) inserts nothing.
  insertChannelMessage: `INSERT INTO messages (sender, sender_id, kind, body, sent_at, client_msg_id, channel_id, seq)
                         VALUES (?1, ${accountId(1)}, 'channel', ?2, ?3, ?4, ?5, (SELECT last_seq + 1 FROM channels WHERE id = ?5))
                         ON CONFLICT (sender_id, sender, client_msg_id) DO NOTHING`,
  bumpLastSeq: 'UPDATE channels SET last_seq = last_seq + 1 WHERE id = ?',
  insertMention: 'INSERT INTO mentions (message_id, username, channel_id, seq) SELECT id, ?2, channel_id, seq FROM messages WHERE id = ?1',
  channelMessage: `SELECT ${CHANNEL_MESSAGE_COLUMNS} FROM messages m JOIN channels c ON c.id = m.channel_id WHERE m.id = ?`,
  // Newest first: the caller turns the page around.
  channelHistory: `SELECT ${CHANNEL_MESSAGE_COLUMNS} FROM messages m JOIN channels c ON c.id = m.channel_id
                   WHERE m.channel_id = ?1 AND m.seq < ?2 AND ${notFrom(3)} ORDER BY m.seq DESC LIMIT ?4`,
  // Per channel of ?1, what came after their read position from anyone not in ?2, through the (channel_id, seq) key.
  channelStates: `SELECT cm.channel_id, c.last_seq, cm.read_seq,
                    (SELECT count(*) FROM messages m WHERE m.channel_id = cm.channel_id AND m.seq > cm.read_seq AND ${notFrom(2)}) AS unread,
                    (SELECT count(*) FROM mentions x JOIN messages m ON m.id = x.message_id
                     WHERE x.username = ?1 AND x.channel_id = cm.channel_id AND x.seq > cm.read_seq AND ${notFrom(2)}) AS mentions
                  FROM channel_members cm JOIN channels c ON c.id = cm.channel_id WHERE cm.username = ?1`,
  // Forward only, and never past the newest message.
  readChannel: `UPDATE channel_members SET read_seq = max(read_seq, min(?3, (SELECT last_seq FROM channels WHERE id = ?1)))
                WHERE channel_id = ?1 AND username = ?2`,
  channelReadSeq: 'SELECT read_seq FROM channel_members WHERE channel_id = ? AND username = ?',
} as const;

/** Read positions in direct conversations and the broadcasts ('' as the partner), and what they leave unread. */
const READ_POSITIONS = {
  // At most the conversation's newest message (the broadcasts': the newest ?1 received), so that a read tells nobody
  // how far the server's ids have gone.
  readDirect: `INSERT INTO read_positions (username, partner, read_id)
               VALUES (?1, ?2, min(?3, iif(?2 = '',
                 max(coalesce((SELECT max(message_id) FROM deliveries WHERE recipient = ?1), 0),
                     coalesce((SELECT max(message_id) FROM pending WHERE recipient = ?1), 0)),
                 max(coalesce((SELECT max(id) FROM messages WHERE ${sentBy(1)} AND ${sentTo(2)}), 0),
                     coalesce((SELECT max(id) FROM messages WHERE ${sentBy(2)} AND ${sentTo(1)}), 0)))))
               ON CONFLICT (username, partner) DO UPDATE SET read_id = max(read_id, excluded.read_id)`,
  directReadId: 'SELECT read_id FROM read_positions WHERE username = ? AND partner = ?',
  readPositions: 'SELECT partner, read_id FROM read_positions WHERE username = ?',
  // What ?1 received, per sender of direct messages ('' for broadcasts): the newest, and how many after the read position.
  receivedSummary: `
    WITH received (id) AS (SELECT message_id FROM deliveries WHERE recipient = ?1 UNION SELECT message_id FROM pending WHERE recipient = ?1),
         got (partner, id) AS (SELECT iif(m.kind = 'direct', m.sender, ''), m.id FROM received JOIN messages m ON m.id = received.id)
    SELECT got.partner, max(got.id) AS last_id, sum(got.id > coalesce(r.read_id, 0)) AS unread
    FROM got LEFT JOIN read_positions r ON r.username = ?1 AND r.partner = got.partner GROUP BY got.partner`,
  // What ?1 sent, per recipient of direct messages ('' for broadcasts): the newest.
  sentSummary: `SELECT iif(kind = 'direct', recipient, '') AS partner, max(id) AS last_id FROM messages
                WHERE ${sentBy(1)} AND kind != 'channel' GROUP BY partner`,
} as const;

/** Retention (../retention.ts) and exports: messages a slice at a time, in id order. */
const SLICES = {
  slice: 'SELECT id, sent_at FROM messages WHERE id > ? ORDER BY id LIMIT ?',
  // Of the messages with ids in ?1..?2, those an account still waits for.
  awaited: `SELECT DISTINCT message_id FROM pending p
            WHERE message_id BETWEEN ?1 AND ?2 AND EXISTS (SELECT 1 FROM users WHERE username = p.recipient)`,
  // Every statement below takes the JSON array ?1 of the ids to delete (an account's pending rows are never among them).
  expirePending: 'DELETE FROM pending WHERE message_id IN (SELECT value FROM json_each(?1))',
  // Deliveries are keyed by recipient: each recipient (found by skipping through the key, one seek each) has its rows
  // in ?2..?3 deleted through the key, rather than the whole table scanned for the ids.
  expireDeliveries: `
    WITH RECURSIVE r (name) AS (
      SELECT min(recipient) FROM deliveries
      UNION ALL
      SELECT (SELECT min(recipient) FROM deliveries WHERE recipient > r.name) FROM r WHERE r.name IS NOT NULL)
    DELETE FROM deliveries
    WHERE recipient IN (SELECT name FROM r) AND message_id BETWEEN ?2 AND ?3 AND +message_id IN (SELECT value FROM json_each(?1))`,
  expireMentions: 'DELETE FROM mentions WHERE message_id IN (SELECT value FROM json_each(?1))',
  expireMessages: 'DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?1))',
  postsBy: `SELECT ${CHANNEL_MESSAGE_COLUMNS} FROM messages m JOIN channels c ON c.id = m.channel_id
            WHERE m.id > ?2 AND m.id <= ?3 AND m.kind = 'channel' AND ${sentBy(1)} ORDER BY m.id`,
} as const;

/** Blocks. */
const BLOCKS = {
  listBlocks: 'SELECT blocker, blocked FROM blocks ORDER BY blocker, blocked',
  addBlock: 'INSERT OR IGNORE INTO blocks (blocker, blocked) VALUES (?, ?)',
  removeBlock: 'DELETE FROM blocks WHERE blocker = ? AND blocked = ?',
} as const;

export const SQL = {
  ...ACCOUNTS,
  ...SESSION_TOKENS,
  ...MESSAGES,
  ...HISTORY,
  ...CHANNELS,
  ...READ_POSITIONS,
  ...SLICES,
  ...BLOCKS,
} as const;

export type QueryName = keyof typeof SQL;
