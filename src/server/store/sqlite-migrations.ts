import type { Database } from 'node-sqlite3-wasm';
import { int, type Row } from './sqlite-rows';

// The embedded store's schema: each migration, and how a database file is brought up to the newest.

/** Append-only: entry i takes the schema from user_version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER
  );
  CREATE TABLE blocks (
    blocker TEXT NOT NULL,
    blocked TEXT NOT NULL,
    PRIMARY KEY (blocker, blocked)
  ) WITHOUT ROWID;
  CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused
    sender        TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('direct', 'broadcast')),
    recipient     TEXT,                              -- NULL for a broadcast
    body          TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    client_msg_id TEXT,
    UNIQUE (sender, client_msg_id)
  );
  -- The primary key also serves history: everything a user received, by id.
  CREATE TABLE deliveries (
    message_id INTEGER NOT NULL REFERENCES messages (id),
    recipient  TEXT NOT NULL,
    delivered  INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1)),
    PRIMARY KEY (recipient, message_id)
  ) WITHOUT ROWID;
  -- Delivered rows stay for history; this keeps pendingFor from walking over them.
  CREATE INDEX deliveries_pending ON deliveries (recipient, message_id) WHERE delivered = 0;
  CREATE INDEX messages_by_sender ON messages (sender, id);
  CREATE INDEX messages_by_pair ON messages (sender, recipient, id) WHERE recipient IS NOT NULL;
  `,
  // Unacknowledged deliveries move to a table of their own. It holds only what is in flight, so it
  // stays a few pages that every commit shares; a flag and a partial index on `deliveries` (keyed by
  // recipient, spread over the whole file) cost a page write per recipient twice: when stored, when
  // acknowledged.
  `
  CREATE TABLE pending (
    recipient  TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (recipient, message_id)
  ) WITHOUT ROWID;
  INSERT INTO pending (recipient, message_id) SELECT recipient, message_id FROM deliveries WHERE delivered = 0;
  DROP INDEX deliveries_pending;
  ALTER TABLE deliveries DROP COLUMN delivered;
  `,
  // Accounts get an id of their own, never reused (AUTOINCREMENT), and messages belong to their sender's
  // and recipient's accounts: a user removed and added again is a new account that inherits none of the
  // old one's messages. Names stay for display. A name with no account (one removed before this, or a
  // store used without accounts) has id 0. Deliveries and pending rows are the recipient's own and keep
  // the name: removeUser deletes them, and putUser clears what an account removed before this left.
  `
  CREATE TABLE users_v3 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER
  );
  INSERT INTO users_v3 (username, password_hash, created_at, last_seen)
    SELECT username, password_hash, created_at, last_seen FROM users ORDER BY created_at, username;
  DROP TABLE users;
  ALTER TABLE users_v3 RENAME TO users;

  CREATE TABLE messages_v3 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sender        TEXT NOT NULL,
    sender_id     INTEGER NOT NULL,                  -- users.id, or 0: no account
    kind          TEXT NOT NULL CHECK (kind IN ('direct', 'broadcast')),
    recipient     TEXT,                              -- NULL for a broadcast
    recipient_id  INTEGER,                           -- likewise; NULL for a broadcast
    body          TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    client_msg_id TEXT,
    UNIQUE (sender_id, sender, client_msg_id)
  );
  INSERT INTO messages_v3 (id, sender, sender_id, kind, recipient, recipient_id, body, sent_at, client_msg_id)
    SELECT m.id, m.sender, coalesce(s.id, 0), m.kind, m.recipient,
           CASE WHEN m.recipient IS NULL THEN NULL ELSE coalesce(r.id, 0) END, m.body, m.sent_at, m.client_msg_id
    FROM messages m LEFT JOIN users s ON s.username = m.sender LEFT JOIN users r ON r.username = m.recipient;
  -- Ids are never reused, even those of the newest messages if they were ever deleted.
  UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'messages')) WHERE name = 'messages_v3';
  DROP TABLE messages;
  ALTER TABLE messages_v3 RENAME TO messages;
  CREATE INDEX messages_by_sender ON messages (sender_id, sender, id);
  CREATE INDEX messages_by_pair ON messages (sender_id, sender, recipient_id, recipient, id) WHERE recipient IS NOT NULL;
  `,
  // Pending rows name their sender, so that what one sender has queued for one recipient is counted
  // through an index (the cap in saveMessage) rather than by walking the recipient's whole queue.
  `
  ALTER TABLE pending ADD COLUMN sender TEXT;
  UPDATE pending SET sender = (SELECT sender FROM messages WHERE id = pending.message_id);
  CREATE INDEX pending_by_pair ON pending (recipient, sender);
  `,
  // Session tokens (protocol 2): only their SHA-256 is kept, so that a copy of the file signs nobody in.
  `
  CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX session_tokens_by_user ON session_tokens (username);
  CREATE INDEX session_tokens_by_expiry ON session_tokens (expires_at);
  `,
  // Channels (protocol 3). A channel message is one row of `messages` with its channel and seq: nothing is
  // written per member, who keep a read position instead (channel_members.read_seq); a mention is a row per
  // mentioned member. #general exists from here on with every account a member (putUser adds new ones).
  // `messages` is rebuilt for its kind's CHECK, keeping every id.
  `
  CREATE TABLE channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    topic      TEXT NOT NULL DEFAULT '',
    private    INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
    creator    TEXT,                                 -- NULL for general, or once the creator's account is removed
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE channel_members (
    channel_id INTEGER NOT NULL REFERENCES channels (id),
    username   TEXT NOT NULL,
    read_seq   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, username)
  ) WITHOUT ROWID;
  CREATE INDEX channel_members_by_user ON channel_members (username);

  CREATE TABLE messages_v6 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sender        TEXT NOT NULL,
    sender_id     INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('direct', 'broadcast', 'channel')),
    recipient     TEXT,
    recipient_id  INTEGER,
    body          TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    client_msg_id TEXT,
    channel_id    INTEGER REFERENCES channels (id),  -- a channel message's channel, and its place in it
    seq           INTEGER,
    UNIQUE (sender_id, sender, client_msg_id),
    UNIQUE (channel_id, seq),
    CHECK ((kind = 'channel') = (channel_id IS NOT NULL AND seq IS NOT NULL))
  );
  INSERT INTO messages_v6 (id, sender, sender_id, kind, recipient, recipient_id, body, sent_at, client_msg_id)
    SELECT id, sender, sender_id, kind, recipient, recipient_id, body, sent_at, client_msg_id FROM messages;
  UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'messages')) WHERE name = 'messages_v6';
  INSERT INTO sqlite_sequence (name, seq)
    SELECT 'messages_v6', seq FROM sqlite_sequence WHERE name = 'messages'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages_v6');
  DROP TABLE messages;
  ALTER TABLE messages_v6 RENAME TO messages;
  -- Channel messages are read by channel: leaving them out keeps a sender's history pages walking this index alone.
  CREATE INDEX messages_by_sender ON messages (sender_id, sender, id) WHERE kind != 'channel';
  CREATE INDEX messages_by_pair ON messages (sender_id, sender, recipient_id, recipient, id) WHERE recipient IS NOT NULL;

  CREATE TABLE mentions (
    message_id INTEGER NOT NULL REFERENCES messages (id),
    username   TEXT NOT NULL,
    channel_id INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (message_id, username)
  ) WITHOUT ROWID;
  CREATE INDEX mentions_by_user ON mentions (username, channel_id, seq);

  -- Read positions in direct conversations (partner: the other user) and in the broadcasts (partner '').
  CREATE TABLE read_positions (
    username TEXT NOT NULL,
    partner  TEXT NOT NULL,
    read_id  INTEGER NOT NULL,
    PRIMARY KEY (username, partner)
  ) WITHOUT ROWID;

  -- What a client acknowledged before read positions existed was shown: it starts read, and only what waits counts as unread.
  INSERT INTO read_positions (username, partner, read_id)
    SELECT d.recipient, iif(m.kind = 'direct', m.sender, ''), max(d.message_id)
    FROM deliveries d JOIN messages m ON m.id = d.message_id
    -- Schemas 1 and 2 kept a deliveries row for what was still pending too.
    WHERE NOT EXISTS (SELECT 1 FROM pending p WHERE p.recipient = d.recipient AND p.message_id = d.message_id)
    GROUP BY d.recipient, iif(m.kind = 'direct', m.sender, '');

  INSERT INTO channels (name, created_at) VALUES ('general', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
  INSERT INTO channel_members (channel_id, username) SELECT (SELECT id FROM channels WHERE name = 'general'), username FROM users;
  `,
];

/** Brings `db` (the file `file`) from its `user_version` to the newest schema, a transaction per migration. */
export function migrate(db: Database, file: string): void {
  const [row] = db.all('PRAGMA user_version') as Row[];
  const version = row ? int(row, 'user_version') : 0;
  if (version > MIGRATIONS.length) {
    throw new Error(`${file} has schema version ${version}; this server knows up to ${MIGRATIONS.length}`);
  }
  if (version === MIGRATIONS.length) return;
  // SQLite's way to change a table's constraints is to rebuild it, and dropping a table that others
  // reference fails while foreign keys are enforced (this build enforces them); the check below
  // stands in for them. The pragma cannot change inside a transaction.
  const [fk] = db.all('PRAGMA foreign_keys') as Row[];
  db.exec('PRAGMA foreign_keys = OFF');
  try {
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(MIGRATIONS[v] ?? '');
        const broken = db.all('PRAGMA foreign_key_check');
        if (broken.length > 0) throw new Error(`migration ${v + 1} of ${file} left ${broken.length} rows without what they reference`);
        db.exec(`PRAGMA user_version = ${v + 1}`);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    }
  } finally {
    if (fk && int(fk, 'foreign_keys') === 1) db.exec('PRAGMA foreign_keys = ON');
  }
}
