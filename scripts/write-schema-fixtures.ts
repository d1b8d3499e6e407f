// Writes test/fixtures/schemas/vN.db: the contents of test/fixtures/schemas/contents.ts, saved by the store of
// the commit that introduced schema version N, checked out into a temporary git worktree.
// Usage: node --import tsx scripts/write-schema-fixtures.ts [N ...]   (every version in COMMITS if none given)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
} from '../test/fixtures/schemas/contents';
import { userVersion } from '../test/fixtures/schemas/user-version';

/** For each schema version, the commit on main's first-parent line where `PRAGMA user_version` first reached it. */
const COMMITS: Record<number, string> = {
  1: '74105b6', // Message center ... with an embedded SQLite store
  2: 'f4e70f0', // Store: unacknowledged deliveries in a small table of their own (schema 2)
  3: '13fdd2d', // Merge branch 'h/accounts'
  4: 'f00711c', // Merge branch 'h/replay'
  5: '84e5c1e', // Merge branch 'h/tokens'
  6: '0ec14cb', // Merge h/server: channels, read positions, mentions (protocol 3)
};

/** A cheap scrypt cost: the hash is self-describing, so the server checks it with these parameters. */
const SCRYPT = { N: 1024, r: 8, p: 1 };

/** The part of an old Store this script uses. */
interface OldStore {
  putUser(username: string, passwordHash: string, createdAt: number): Promise<void>;
  setLastSeen(username: string, at: number): Promise<void>;
  saveMessage(message: { from: string; kind: string; body: string; sentAt: number; recipients: string[]; clientMsgId: string }): Promise<{
    message: { id: number };
  }>;
  markDelivered(...args: [string, number[]] | [{ recipient: string; ids: number[] }[]]): Promise<unknown>;
  addBlock(blocker: string, blocked: string): Promise<void>;
  putSessionToken?(token: { tokenHash: string; username: string; createdAt: number; expiresAt: number }): Promise<void>;
  close(): Promise<void>;
}

/** What a store of schema CHANNELS_SINCE and later adds to OldStore. */
interface ChannelStore extends OldStore {
  listChannels(): Promise<{ id: number; name: string }[]>;
  createChannel(channel: {
    name: string;
    topic: string;
    private: boolean;
    creator: string;
    createdAt: number;
  }): Promise<number | undefined>;
  addMember(channelId: number, username: string): Promise<void>;
  post(message: { from: string; channelId: number; body: string; sentAt: number; mentions: string[]; clientMsgId: string }): Promise<{
    message: { id: number; seq?: number };
  }>;
  readChannel(channelId: number, username: string, seq: number): Promise<number>;
  readDirect(username: string, partner: string | null, id: number): Promise<number>;
}

interface OldTree {
  openSqliteStore(dataDir: string): Promise<OldStore>;
  hashPassword(password: string, cost: typeof SCRYPT): Promise<string>;
  hashToken?(token: string): string;
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(repo, 'test', 'fixtures', 'schemas');

async function loadTree(tree: string, version: number): Promise<OldTree> {
  const { openSqliteStore } = (await import(path.join(tree, 'src/server/store/sqlite-store.ts'))) as Pick<OldTree, 'openSqliteStore'>;
  const { hashPassword } = (await import(path.join(tree, 'src/server/passwords.ts'))) as Pick<OldTree, 'hashPassword'>;
  if (version < TOKENS_SINCE) return { openSqliteStore, hashPassword };
  const { hashToken } = (await import(path.join(tree, 'src/server/session-tokens.ts'))) as Required<Pick<OldTree, 'hashToken'>>;
  return { openSqliteStore, hashPassword, hashToken };
}

async function writeContents(old: OldTree, dataDir: string, version: number): Promise<void> {
  const store = await old.openSqliteStore(dataDir);
  try {
    for (const user of USERS) await store.putUser(user.username, await old.hashPassword(user.password, SCRYPT), user.createdAt);
    for (const user of USERS) if (user.lastSeen !== null) await store.setLastSeen(user.username, user.lastSeen);
    for (const [i, m] of MESSAGES.entries()) {
      const { message } = await store.saveMessage({
        from: m.from,
        kind: m.kind,
        body: m.body,
        sentAt: m.sentAt,
        recipients: m.recipients,
        clientMsgId: m.clientMsgId,
      });
      if (message.id !== i + 1) throw new Error(`message ${i} got id ${message.id}, not ${i + 1}`);
      for (const recipient of m.acknowledgedBy) {
        // Stores before schema 3 took one recipient's acknowledgement as (recipient, ids), not a list of them.
        if (store.markDelivered.length === 2) await store.markDelivered(recipient, [message.id]);
        else await store.markDelivered([{ recipient, ids: [message.id] }]);
      }
    }
    for (const { blocker, blocked } of BLOCKS) await store.addBlock(blocker, blocked);
    if (version >= TOKENS_SINCE) {
      for (const { token, ...rest } of TOKENS) await store.putSessionToken!({ tokenHash: old.hashToken!(token), ...rest });
    }
    if (version >= CHANNELS_SINCE) await writeChannels(store as ChannelStore);
  } finally {
    await store.close();
  }
}

async function writeChannels(store: ChannelStore): Promise<void> {
  const general = (await store.listChannels()).find((c) => c.name === GENERAL);
  if (!general) throw new Error(`the store made no #${GENERAL}`);
  const ids = new Map([[GENERAL, general.id]]);
  for (const { members, ...channel } of CHANNELS) {
    const id = await store.createChannel(channel);
    if (id === undefined) throw new Error(`channel ${channel.name} was not created`);
    ids.set(channel.name, id);
    for (const member of members) if (member !== channel.creator) await store.addMember(id, member);
  }
  for (const [i, { channel, ...m }] of CHANNEL_MESSAGES.entries()) {
    const { message } = await store.post({ channelId: ids.get(channel)!, ...m });
    if (message.id !== MESSAGES.length + i + 1 || message.seq !== seqOf(i)) {
      throw new Error(
        `channel message ${i} got id ${message.id} and seq ${String(message.seq)}, not ${MESSAGES.length + i + 1} and ${seqOf(i)}`,
      );
    }
  }
  for (const { channel, username, seq } of CHANNEL_READS) await store.readChannel(ids.get(channel)!, username, seq);
  for (const { username, partner, id } of DIRECT_READS) await store.readDirect(username, partner, id);
}

async function writeFixture(version: number): Promise<void> {
  const commit = COMMITS[version];
  if (!commit) throw new Error(`no commit known for schema version ${version}: add it to COMMITS`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `parley-schema-${version}-`));
  const tree = path.join(scratch, 'tree');
  execFileSync('git', ['-C', repo, 'worktree', 'add', '--detach', tree, commit], { stdio: 'ignore' });
  try {
    // The old code runs on this tree's packages: its own lockfile may name the same ones, and nothing here is built.
    fs.symlinkSync(path.join(repo, 'node_modules'), path.join(tree, 'node_modules'), 'dir');
    const dataDir = path.join(scratch, 'data');
    await writeContents(await loadTree(tree, version), dataDir, version);
    const file = path.join(dataDir, 'parley.db');
    const written = userVersion(file);
    if (written !== version) throw new Error(`commit ${commit} wrote schema version ${written}, not ${version}`);
    fs.copyFileSync(file, path.join(outDir, `v${version}.db`));
    console.log(`v${version}.db: schema ${written} from ${commit}, ${fs.statSync(file).size} bytes`);
  } finally {
    execFileSync('git', ['-C', repo, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(versions: number[]): Promise<void> {
  for (const version of versions) await writeFixture(version);
}

main(process.argv.length > 2 ? process.argv.slice(2).map(Number) : Object.keys(COMMITS).map(Number)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
