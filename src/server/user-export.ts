import type { ChatMessage } from '../protocol';
import type { Store } from './store/store';

/** `parley-server export USER`: what the server keeps of one account, as JSON (docs/operations.md). */
export interface UserExport {
  format: 'parley-user-export';
  version: 1;
  exportedAt: string;
  /** The account, without its password hash. */
  account: { username: string; createdAt: number; lastSeen: number | null };
  /** Direct messages and broadcasts the account sent or received (acknowledged or still waiting), oldest first. */
  messages: ChatMessage[];
  /** The channels the account is a member of, with its read position in each. */
  channels: { name: string; topic: string; private: boolean; creator: string | null; lastSeq: number; readSeq: number }[];
  /** Channel messages the account posted, in channels it is still in or not, oldest first. */
  posts: ChatMessage[];
  /** Whom the account blocks (not who blocks it: that is the other account's data). */
  blocks: string[];
  /** Read positions in direct conversations (`with` null: the broadcasts). */
  directReadPositions: { with: string | null; readId: number }[];
}

/** Messages per history page, and messages looked at per step of the walk for posts: each is one store call, others' writes between. */
const PAGE = 1_000;
const POST_SLICE = 20_000;

export async function exportUser(store: Store, username: string, now: number): Promise<UserExport> {
  const user = await store.getUser(username);
  if (!user) throw new Error(`no user "${username}"`);
  const pages: ChatMessage[][] = []; // newest first
  for (let before: number | undefined; ;) {
    const page = await store.history(username, { limit: PAGE, ...(before !== undefined && { before }) });
    pages.push(page);
    if (page.length < PAGE) break;
    before = page[0]!.id;
  }
  const posts: ChatMessage[] = [];
  for (let after: number | undefined = 0; after !== undefined;) {
    const step = await store.postsBy(username, { after, limit: POST_SLICE });
    posts.push(...step.found);
    after = step.last;
  }
  const channels = new Map((await store.listChannels()).map((c) => [c.id, c]));
  return {
    format: 'parley-user-export',
    version: 1,
    exportedAt: new Date(now).toISOString(),
    account: { username: user.username, createdAt: user.createdAt, lastSeen: user.lastSeen },
    messages: pages.reverse().flat(),
    channels: (await store.channelStates(username, [])).flatMap(({ channelId, lastSeq, readSeq }) => {
      const channel = channels.get(channelId);
      if (!channel) return [];
      return [{ name: channel.name, topic: channel.topic, private: channel.private, creator: channel.creator, lastSeq, readSeq }];
    }),
    posts,
    blocks: (await store.listBlocks()).filter((b) => b.blocker === username).map((b) => b.blocked),
    directReadPositions: (await store.directStates(username)).map((s) => ({ with: s.with, readId: s.readId })),
  };
}
