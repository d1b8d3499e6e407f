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
  deleteUser: 'DELETE FROM users WHERE username = ?',
  deleteBlocksOf: 'DELETE FROM blocks WHERE blocker = ?1 OR blocked = ?1',
  // Their receipts too: a later account of that name must not find them in its history.
  deleteDeliveriesOf: 'DELETE FROM deliveries WHERE recipient = ?',
  deletePendingOf: 'DELETE FROM pending WHERE recipient = ?',
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
  // What a user's account sent, was delivered, and has yet to acknowledge. Each branch takes its newest `limit`
  // rows through its own index, so a page costs O(limit) however long the history; the outer query
  // keeps the newest `limit` of them all.
  history: `
    WITH page (id) AS (
      SELECT id FROM (SELECT id FROM messages WHERE ${sentBy(1)} AND id < ?2 ORDER BY id DESC LIMIT ?3)
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

/** Blocks. */
const BLOCKS = {
  listBlocks: 'SELECT blocker, blocked FROM blocks ORDER BY blocker, blocked',
  addBlock: 'INSERT OR IGNORE INTO blocks (blocker, blocked) VALUES (?, ?)',
  removeBlock: 'DELETE FROM blocks WHERE blocker = ? AND blocked = ?',
} as const;

export const SQL = { ...ACCOUNTS, ...SESSION_TOKENS, ...MESSAGES, ...HISTORY, ...BLOCKS } as const;

export type QueryName = keyof typeof SQL;
