import type { PoolClient } from 'pg';

// The PostgreSQL store's schema, and how a database is brought up to the newest. It holds what the embedded
// store's newest schema holds (./sqlite-migrations.ts), with two differences: message ids come from a counter
// row rather than a sequence (see ./pg-store.ts, takeMessageId), and sorting compares bytes (COLLATE "C"), as SQLite does.

/** Append-only: entry i takes the schema from version i to i + 1. */
export const PG_MIGRATIONS: readonly string[] = [
  `
  -- Counters taken with UPDATE ... RETURNING inside the transaction that uses the value: the row stays locked
  -- until that transaction ends, so values are handed out in commit order (a sequence's are not).
  CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
  );
  INSERT INTO counters (name, value) VALUES ('messages', 0);

  CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen     BIGINT
  );
  CREATE TABLE blocks (
    blocker TEXT COLLATE "C" NOT NULL,
    blocked TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (blocker, blocked)
  );
  CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX session_tokens_by_user ON session_tokens (username);
  CREATE INDEX session_tokens_by_expiry ON session_tokens (expires_at);

  CREATE TABLE channels (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    topic      TEXT NOT NULL DEFAULT '',
    private    SMALLINT NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
    creator    TEXT,
    last_seq   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE channel_members (
    channel_id BIGINT NOT NULL REFERENCES channels (id),
    username   TEXT COLLATE "C" NOT NULL,
    read_seq   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, username)
  );
  CREATE INDEX channel_members_by_user ON channel_members (username);

  CREATE TABLE messages (
    id            BIGINT PRIMARY KEY,                -- from counters 'messages'
    sender        TEXT NOT NULL,
    sender_id     BIGINT NOT NULL,                   -- users.id, or 0: no account
    kind          TEXT NOT NULL CHECK (kind IN ('direct', 'broadcast', 'channel')),
    recipient     TEXT,                              -- NULL for a broadcast or a channel message
    recipient_id  BIGINT,
    body          TEXT NOT NULL,
    sent_at       BIGINT NOT NULL,
    client_msg_id TEXT,
    channel_id    BIGINT REFERENCES channels (id),
    seq           BIGINT,
    UNIQUE (sender_id, sender, client_msg_id),
    UNIQUE (channel_id, seq),
    CHECK ((kind = 'channel') = (channel_id IS NOT NULL AND seq IS NOT NULL))
  );
  CREATE INDEX messages_by_sender ON messages (sender_id, sender, id) WHERE kind != 'channel';
  CREATE INDEX messages_by_pair ON messages (sender_id, sender, recipient_id, recipient, id) WHERE recipient IS NOT NULL;

  CREATE TABLE deliveries (
    message_id BIGINT NOT NULL REFERENCES messages (id),
    recipient  TEXT NOT NULL,
    PRIMARY KEY (recipient, message_id)
  );
  CREATE TABLE pending (
    recipient  TEXT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    sender     TEXT NOT NULL,
    PRIMARY KEY (recipient, message_id)
  );
  CREATE INDEX pending_by_pair ON pending (recipient, sender);

  CREATE TABLE mentions (
    message_id BIGINT NOT NULL REFERENCES messages (id),
    username   TEXT COLLATE "C" NOT NULL,
    channel_id BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (message_id, username)
  );
  CREATE INDEX mentions_by_user ON mentions (username, channel_id, seq);

  CREATE TABLE read_positions (
    username TEXT NOT NULL,
    partner  TEXT NOT NULL,                          -- '' for the broadcasts
    read_id  BIGINT NOT NULL,
    PRIMARY KEY (username, partner)
  );

  INSERT INTO channels (name, created_at) VALUES ('general', (extract(epoch FROM now()) * 1000)::bigint);
  `,
  `
  -- Cluster mode (../cluster/): what every node reads to deliver live what another stored, and who is online where.
  ALTER TABLE messages ADD COLUMN origin TEXT;       -- the sending session (node/socket), which its reply tells instead
  ALTER TABLE messages ADD COLUMN recipients TEXT[]; -- whom a direct message or broadcast goes to (pending rows go with acknowledgements)

  CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,                     -- the database's clock, in ms
    ticket_key   TEXT NOT NULL                        -- the public half of its private-chat ticket key
  );
  CREATE TABLE presence (
    username TEXT COLLATE "C" NOT NULL,
    -- Checked at commit: a node is taken out (its row deleted) before its presence rows, in one transaction.
    node     TEXT NOT NULL REFERENCES nodes (id) DEFERRABLE INITIALLY DEFERRED,
    idle     BOOLEAN NOT NULL,
    since    BIGINT NOT NULL,
    PRIMARY KEY (username, node)
  );
  CREATE INDEX presence_by_node ON presence (node);
  -- The lockout counts the nodes share (src/server/cluster/pg-lockouts.ts): a row per (username, address) with
  -- failures, and a row per password check in progress, tagged with the node that runs it.
  CREATE TABLE lockouts (
    username        TEXT COLLATE "C" NOT NULL,
    address         TEXT COLLATE "C" NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (username, address)
  );
  CREATE INDEX lockouts_by_last_failure ON lockouts (last_failure_at);
  CREATE TABLE lockout_checks (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT COLLATE "C" NOT NULL,
    address  TEXT COLLATE "C" NOT NULL,
    node     TEXT NOT NULL,
    taken_at BIGINT NOT NULL
  );
  CREATE INDEX lockout_checks_by_pair ON lockout_checks (username, address);
  CREATE INDEX lockout_checks_by_age ON lockout_checks (taken_at);
  -- Each session's peer listener for private chat (src/server/cluster/pg-peers.ts), written by the node that holds the
  -- session, so that a user on another node can be handed it; gone with the session, or with its node.
  CREATE TABLE peers (
    node          TEXT NOT NULL,
    socket        TEXT NOT NULL,
    username      TEXT COLLATE "C" NOT NULL,
    host          TEXT NOT NULL,
    port          INTEGER NOT NULL,
    public_key    TEXT NOT NULL,                      -- the session's X25519 key
    registered_at BIGINT NOT NULL,                    -- the database's clock, in ms
    PRIMARY KEY (node, socket)
  );
  CREATE INDEX peers_by_user ON peers (username, registered_at);
  `,
  `
  -- A send or a post in one round trip (./pg-store.ts): the counter's row is locked from the id to the commit, so the
  -- fewer round trips a write takes, the less the other nodes wait. Each statement sees what committed before it ran,
  -- as when they were sent one by one: queues are counted after the counter is taken.
  CREATE FUNCTION parley_sent_before(p_sender_id BIGINT, p_from TEXT, p_client_msg_id TEXT) RETURNS BOOLEAN
  LANGUAGE sql AS $fn$
    SELECT p_client_msg_id IS NOT NULL AND EXISTS (
      SELECT 1 FROM messages WHERE sender_id = p_sender_id AND sender = p_from AND client_msg_id = p_client_msg_id)
  $fn$;

  CREATE FUNCTION parley_send(p_from TEXT, p_kind TEXT, p_to TEXT, p_body TEXT, p_sent_at BIGINT, p_client_msg_id TEXT,
                              p_origin TEXT, p_recipients TEXT[], p_max_pending INTEGER,
                              OUT outcome TEXT, OUT new_id BIGINT, OUT full_queues TEXT[])
  LANGUAGE plpgsql AS $fn$
  DECLARE
    v_sender_id BIGINT := coalesce((SELECT id FROM users WHERE username = p_from), 0);
  BEGIN
    full_queues := '{}';
    IF parley_sent_before(v_sender_id, p_from, p_client_msg_id) THEN
      outcome := 'duplicate';
      RETURN;
    END IF;
    UPDATE counters SET value = value + 1 WHERE name = 'messages' RETURNING value INTO new_id;
    IF p_max_pending IS NOT NULL THEN
      -- Of the recipients, those for whom the sender has p_max_pending messages waiting already, in their order.
      SELECT coalesce(array_agg(r ORDER BY n), '{}') INTO full_queues
        FROM unnest(p_recipients) WITH ORDINALITY AS q (r, n)
        WHERE (SELECT count(*) FROM (SELECT 1 FROM pending
                                     WHERE recipient = r AND sender = p_from LIMIT p_max_pending) x) >= p_max_pending;
      IF p_to IS NOT NULL AND cardinality(full_queues) > 0 THEN
        outcome := 'full';
        RETURN;
      END IF;
    END IF;
    INSERT INTO messages (id, sender, sender_id, kind, recipient, recipient_id, body, sent_at, client_msg_id, origin, recipients)
      VALUES (new_id, p_from, v_sender_id, p_kind, p_to,
              CASE WHEN p_to IS NULL THEN NULL ELSE coalesce((SELECT id FROM users WHERE username = p_to), 0) END,
              p_body, p_sent_at, p_client_msg_id, p_origin,
              ARRAY(SELECT r FROM unnest(p_recipients) r WHERE r <> ALL (full_queues)))
      ON CONFLICT (sender_id, sender, client_msg_id) DO NOTHING;
    IF NOT FOUND THEN
      outcome := 'raced'; -- another node stored this send first, and committed: this one waited for it
      RETURN;
    END IF;
    INSERT INTO pending (recipient, message_id, sender)
      SELECT r, new_id, p_from FROM unnest(p_recipients) r WHERE r <> ALL (full_queues);
    PERFORM pg_notify('parley_messages', '');
    outcome := 'stored';
  END
  $fn$;

  -- The counter first, then the channel's row, as every transaction takes them: no two posts wait for each other.
  CREATE FUNCTION parley_post(p_from TEXT, p_body TEXT, p_sent_at BIGINT, p_client_msg_id TEXT, p_channel_id BIGINT,
                              p_origin TEXT, p_mentions TEXT[],
                              OUT outcome TEXT, OUT new_id BIGINT, OUT new_seq BIGINT, OUT channel_name TEXT, OUT mention_list TEXT)
  LANGUAGE plpgsql AS $fn$
  DECLARE
    v_sender_id BIGINT := coalesce((SELECT id FROM users WHERE username = p_from), 0);
  BEGIN
    IF parley_sent_before(v_sender_id, p_from, p_client_msg_id) THEN
      outcome := 'duplicate';
      RETURN;
    END IF;
    UPDATE counters SET value = value + 1 WHERE name = 'messages' RETURNING value INTO new_id;
    UPDATE channels SET last_seq = last_seq + 1 WHERE id = p_channel_id RETURNING last_seq, name INTO new_seq, channel_name;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'there is no channel %', p_channel_id;
    END IF;
    INSERT INTO messages (id, sender, sender_id, kind, body, sent_at, client_msg_id, channel_id, seq, origin)
      VALUES (new_id, p_from, v_sender_id, 'channel', p_body, p_sent_at, p_client_msg_id, p_channel_id, new_seq, p_origin)
      ON CONFLICT (sender_id, sender, client_msg_id) DO NOTHING;
    IF NOT FOUND THEN
      outcome := 'raced';
      RETURN;
    END IF;
    INSERT INTO mentions (message_id, username, channel_id, seq)
      SELECT DISTINCT new_id, u, p_channel_id, new_seq FROM unnest(p_mentions) u;
    SELECT coalesce(json_agg(username ORDER BY username), '[]')::text INTO mention_list FROM mentions WHERE message_id = new_id;
    PERFORM pg_notify('parley_messages', '');
    outcome := 'stored';
  END
  $fn$;
  `,
];

/** Any constant: serialises nodes that start together, so that one of them migrates and the others find it done. */
const MIGRATION_LOCK = 0x7061726c; // 'parl'

/** Brings the database `client` is connected to up to the newest schema, in one transaction. */
export async function migrate(client: PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM parley_schema');
    const version = rows[0]?.version ?? 0;
    if (version > PG_MIGRATIONS.length) {
      throw new Error(`the database has schema version ${version}; this server knows up to ${PG_MIGRATIONS.length}`);
    }
    for (const sql of PG_MIGRATIONS.slice(version)) await client.query(sql);
    if (rows.length === 0) await client.query('INSERT INTO parley_schema (version) VALUES ($1)', [PG_MIGRATIONS.length]);
    else await client.query('UPDATE parley_schema SET version = $1', [PG_MIGRATIONS.length]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
