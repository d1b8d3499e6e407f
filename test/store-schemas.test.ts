import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ParleyClient } from '../src/client/parley-client';
import type { ChannelState, ChatMessage, DirectState } from '../src/protocol';
import { verifyPassword } from '../src/server/passwords';
import { hashToken } from '../src/server/session-tokens';
import { MIGRATIONS } from '../src/server/store/sqlite-migrations';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import {
  BLOCKS,
  CHANNEL_MESSAGES,
  CHANNEL_READS,
  CHANNELS,
  CHANNELS_SINCE,
  DIRECT_READS,
  GENERAL,
  MESSAGES,
  seqOf,
  TOKENS,
  TOKENS_SINCE,
  USERS,
  type FixtureChannelMessage,
  type FixtureMessage,
} from './fixtures/schemas/contents';
import { userVersion } from './fixtures/schemas/user-version';
import { collect, eventually, startServer, tempDir } from './helpers/server';

// Each test/fixtures/schemas/vN.db was written by the commit that introduced schema version N (see the README
// there); whatever the newest schema is, every one of them must open in it with all it held.

const FIXTURES = fileURLToPath(new URL('fixtures/schemas/', import.meta.url));

const fixtures = fs
  .readdirSync(FIXTURES)
  .flatMap((name) => {
    const match = /^v(\d+)\.db$/.exec(name);
    return match ? [{ version: Number(match[1]), file: path.join(FIXTURES, name) }] : [];
  })
  .sort((a, b) => a.version - b.version);

/** A fixture message as the store gives it back: saved in order into an empty database, so the i-th has id i + 1. */
const stored = (m: FixtureMessage): ChatMessage => ({
  id: MESSAGES.indexOf(m) + 1,
  from: m.from,
  to: m.kind === 'direct' ? m.recipients[0]! : null,
  kind: m.kind,
  body: m.body,
  sentAt: m.sentAt,
});

const pendingOf = (user: string): ChatMessage[] =>
  MESSAGES.filter((m) => m.recipients.includes(user) && !m.acknowledgedBy.includes(user)).map(stored);
const historyOf = (user: string): ChatMessage[] => MESSAGES.filter((m) => m.from === user || m.recipients.includes(user)).map(stored);
const conversation = (a: string, b: string): ChatMessage[] =>
  MESSAGES.filter((m) => m.kind === 'direct' && [m.from, m.recipients[0]].sort().join() === [a, b].sort().join()).map(stored);
const hasTokens = (version: number): boolean => version >= TOKENS_SINCE;
const hasChannels = (version: number): boolean => version >= CHANNELS_SINCE;

/** The users `user` blocks or is blocked by: the server hides their channel messages from `user`. */
const blockedEitherWay = (user: string): string[] =>
  BLOCKS.flatMap(({ blocker, blocked }) => (blocker === user ? [blocked] : blocked === user ? [blocker] : []));

interface ExpectedChannel {
  name: string;
  topic: string;
  private: boolean;
  creator: string | null;
  members: string[];
}

/** #general, which schema 6 makes with every account a member, and from the fixtures of that schema on, theirs. */
const channelsIn = (version: number): ExpectedChannel[] => [
  { name: GENERAL, topic: '', private: false, creator: null, members: USERS.map((u) => u.username) },
  ...(hasChannels(version) ? CHANNELS : []),
];

/** A fixture channel message as the store gives it back: posted in order after MESSAGES. */
const storedPost = (m: FixtureChannelMessage, i: number): ChatMessage => ({
  id: MESSAGES.length + i + 1,
  from: m.from,
  to: null,
  kind: 'channel',
  body: m.body,
  sentAt: m.sentAt,
  channel: m.channel,
  seq: seqOf(i),
  mentions: m.mentions,
});

/** A channel's messages in a fixture of `version`, oldest first. */
const postsIn = (version: number, channel: string): ChatMessage[] =>
  hasChannels(version) ? CHANNEL_MESSAGES.map(storedPost).filter((m) => m.channel === channel) : [];

/** `user`'s channels as `conversations` shows them: unread and mentions leave out their own and the blocked ones'. */
function channelStatesOf(version: number, user: string): ChannelState[] {
  return channelsIn(version)
    .filter((c) => c.members.includes(user))
    .map((c) => {
      const posts = postsIn(version, c.name);
      const read = hasChannels(version) ? CHANNEL_READS.find((r) => r.channel === c.name && r.username === user) : undefined;
      const readSeq = read?.seq ?? 0;
      const hidden = [user, ...blockedEitherWay(user)];
      const unread = posts.filter((m) => m.seq! > readSeq && !hidden.includes(m.from));
      return {
        name: c.name,
        topic: c.topic,
        private: c.private,
        creator: c.creator,
        members: c.members.length,
        member: true,
        lastSeq: posts.length,
        readSeq,
        unread: unread.length,
        mentions: unread.filter((m) => m.mentions!.includes(user)).length,
      };
    });
}

/**
 * `user`'s direct conversations and broadcasts, each with its newest id and read position. Schema 6 starts the read
 * positions of older databases at what was acknowledged; its own fixture has those of DIRECT_READS.
 */
function directStatesOf(version: number, user: string): DirectState[] {
  const partnerOf = (m: FixtureMessage): string | null => (m.kind === 'direct' ? (m.from === user ? m.recipients[0]! : m.from) : null);
  const reads = hasChannels(version)
    ? DIRECT_READS.filter((r) => r.username === user)
    : MESSAGES.flatMap((m, i) => (m.acknowledgedBy.includes(user) ? [{ partner: partnerOf(m), id: i + 1 }] : []));
  const states = new Map<string | null, DirectState>([[null, { with: null, lastId: 0, readId: 0, unread: 0 }]]);
  MESSAGES.forEach((m, i) => {
    const received = m.recipients.includes(user);
    if (m.from !== user && !received) return;
    const partner = partnerOf(m);
    const readId = Math.max(0, ...reads.filter((r) => r.partner === partner).map((r) => r.id));
    const unread = (states.get(partner)?.unread ?? 0) + (received && i + 1 > readId ? 1 : 0);
    states.set(partner, { with: partner, lastId: i + 1, readId, unread });
  });
  return byPartner([...states.values()]);
}

const byPartner = <T extends { with: string | null }>(states: T[]): T[] =>
  [...states].sort((a, b) => (a.with ?? '').localeCompare(b.with ?? ''));
const byName = <T extends { name: string }>(channels: T[]): T[] => [...channels].sort((a, b) => a.name.localeCompare(b.name));

/** A data directory holding a copy of the fixture, removed after the test. */
function copyOf(t: TestContext, file: string): string {
  const dir = tempDir('parley-schema-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(file, path.join(dir, 'parley.db'));
  return dir;
}

test('every schema version has a fixture database, written by that version', () => {
  assert.deepEqual(
    fixtures.map((f) => f.version),
    MIGRATIONS.map((_, i) => i + 1),
    'write the missing ones as test/fixtures/schemas/README.md says',
  );
  for (const { version, file } of fixtures) assert.equal(userVersion(file), version, file);
});

for (const { version, file } of fixtures) {
  describe(`a database written by schema version ${version}`, () => {
    test('opens in the current store with every user, message, pending delivery, block, token, channel and read position', async (t) => {
      const dir = copyOf(t, file);
      const store = await openSqliteStore(dir);
      try {
        const users = await store.listUsers();
        assert.deepEqual(
          users.map(({ username, createdAt, lastSeen }) => ({ username, createdAt, lastSeen })),
          USERS.map(({ username, createdAt, lastSeen }) => ({ username, createdAt, lastSeen })),
        );
        assert.equal(new Set(users.map((u) => u.id)).size, USERS.length, 'each account has an id of its own');
        for (const { username, password } of USERS) {
          const user = users.find((u) => u.username === username)!;
          assert.ok(await verifyPassword(password, user.passwordHash), `${username}'s password still checks`);
          assert.deepEqual(await store.pendingFor(username), pendingOf(username), `${username}'s pending messages`);
          assert.deepEqual(await store.history(username, { limit: 100 }), historyOf(username), `${username}'s history`);
          for (const other of USERS) {
            if (other.username === username) continue;
            assert.deepEqual(await store.history(username, { with: other.username, limit: 100 }), conversation(username, other.username));
          }
        }
        for (const m of MESSAGES) assert.deepEqual(await store.findSent(m.from, m.clientMsgId), stored(m), `${m.from}'s ${m.clientMsgId}`);
        assert.deepEqual(await store.listBlocks(), BLOCKS);
        for (const { token, ...record } of TOKENS) {
          const kept = await store.getSessionToken(hashToken(token));
          assert.deepEqual(kept, hasTokens(version) ? { tokenHash: hashToken(token), ...record } : undefined);
        }

        const channels = await store.listChannels();
        assert.deepEqual(
          byName(channels).map(({ name, topic, private: isPrivate, creator, lastSeq, members }) => ({
            name,
            topic,
            private: isPrivate,
            creator,
            lastSeq,
            members: [...members].sort(),
          })),
          byName(channelsIn(version)).map(({ name, topic, private: isPrivate, creator, members }) => ({
            name,
            topic,
            private: isPrivate,
            creator,
            lastSeq: postsIn(version, name).length,
            // The store keeps no member list for #general: every account is one.
            members: name === GENERAL ? [] : [...members].sort(),
          })),
        );
        for (const { id, name } of channels) {
          assert.deepEqual(await store.channelHistory(id, { limit: 100, hidden: [] }), postsIn(version, name), `#${name}'s history`);
        }
        const nameOf = new Map(channels.map((c) => [c.id, c.name]));
        for (const { username } of USERS) {
          const states = await store.channelStates(username, [username, ...blockedEitherWay(username)]);
          assert.deepEqual(
            byName(states.map(({ channelId, ...state }) => ({ name: nameOf.get(channelId)!, ...state }))),
            byName(channelStatesOf(version, username)).map(({ name, lastSeq, readSeq, unread, mentions }) => ({
              name,
              lastSeq,
              readSeq,
              unread,
              mentions,
            })),
            `${username}'s channels`,
          );
        }
      } finally {
        await store.close();
      }
      assert.equal(userVersion(path.join(dir, 'parley.db')), MIGRATIONS.length, 'migrated to the newest schema');
    });

    test('keeps the read positions of direct conversations, or starts them at what was acknowledged', async (t) => {
      const store = await openSqliteStore(copyOf(t, file));
      try {
        for (const { username } of USERS) {
          assert.deepEqual(
            byPartner(await store.directStates(username)),
            directStatesOf(version, username),
            `${username}'s read positions`,
          );
        }
      } finally {
        await store.close();
      }
    });

    test('serves its users on a real server: sign-in, replay, history, blocks, session tokens and channels', async (t) => {
      const srv = await startServer({ dataDir: copyOf(t, file) });
      t.after(() => srv.close());
      const clients = new Map<string, ParleyClient>();
      for (const { username, password } of USERS) {
        const client = await srv.connect();
        const arrived = collect(client, 'message');
        await client.login(username, password);
        const expected = pendingOf(username);
        await eventually(() => arrived.length >= expected.length, 3000, `${username}'s replay`);
        assert.deepEqual(
          arrived.map(([m]) => m),
          expected,
          `${username}'s pending messages are replayed`,
        );
        assert.deepEqual((await client.history()).messages, historyOf(username), `${username}'s history`);

        const { channels, directs, broadcasts } = await client.request('conversations', {});
        assert.deepEqual(byName(channels), byName(channelStatesOf(version, username)), `${username}'s channels`);
        assert.deepEqual(byPartner([broadcasts, ...directs]), directStatesOf(version, username), `${username}'s read positions`);
        const hidden = blockedEitherWay(username);
        for (const channel of channelsIn(version)) {
          if (channel.members.includes(username)) {
            assert.deepEqual(
              (await client.history({ channel: channel.name, limit: 100 })).messages,
              postsIn(version, channel.name).filter((m) => !hidden.includes(m.from)),
              `#${channel.name} as ${username} sees it`,
            );
          } else if (channel.private) {
            await assert.rejects(
              client.history({ channel: channel.name }),
              { code: 'NO_SUCH_CHANNEL' },
              `${username} cannot see #${channel.name}`,
            );
          }
        }
        clients.set(username, client);
      }

      for (const { blocker, blocked } of BLOCKS) {
        const blocks = BLOCKS.filter((b) => b.blocker === blocker).map((b) => b.blocked);
        assert.deepEqual((await clients.get(blocker)!.blocklist()).users, blocks);
        await assert.rejects(clients.get(blocked)!.message(blocker, 'still blocked?'), { code: 'BLOCKED' });
      }
      const sent = await clients.get('alice')!.message('bob', 'after the upgrade');
      const posted = await clients.get('alice')!.post(GENERAL, 'after the upgrade');
      assert.equal(posted.seq, postsIn(version, GENERAL).length + 1, "#general's next message takes the next seq");
      const saved = MESSAGES.length + (hasChannels(version) ? CHANNEL_MESSAGES.length : 0);
      assert.ok(sent.id > saved && posted.id > sent.id, 'new messages take ids after the old ones');

      if (hasTokens(version)) {
        for (const { token, username } of TOKENS) {
          const client = await srv.connect();
          assert.equal((await client.resume(token)).username, username, `${username}'s session token signs in`);
        }
      }
    });
  });
}
