import type { ParleyClient } from '../../src/client/parley-client';
import { createTestDatabase } from './postgres';
import { eventually, passwordOf, startServer, tempDir, TestClock, type TestServer } from './server';

/** Nodes of one cluster on a test database: real servers in this process, each on its own loopback port. */
export interface TestCluster {
  url: string;
  nodes: TestServer[];
  /** A client of node `i`, signed in as `username`. */
  signIn(username: string, node: number): Promise<ParleyClient>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  users?: string[];
  heartbeatMs?: number;
  /** A database made before (to start nodes again on it). */
  url?: string;
}

/** Starts `nodes` nodes (default 3) on one new PostgreSQL database, and adds `users` once every node knows them. */
export async function startCluster(options: ClusterOptions = {}, clock = new TestClock()): Promise<TestCluster> {
  const url = options.url ?? (await createTestDatabase());
  const nodes: TestServer[] = [];
  for (let i = 0; i < (options.nodes ?? 3); i++) {
    const cluster = { url, ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs }) };
    // The test clock stands still, so rates never refill: tests here poll other nodes' state with requests.
    const rateLimit = { burst: 100_000, perSecond: 1 };
    nodes.push(await startServer({ cluster, dataDir: tempDir(), rateLimit, sendRate: rateLimit }, clock));
  }
  for (const user of options.users ?? [])
    if (!nodes[0]!.server.accounts.has(user)) await nodes[0]!.server.accounts.add(user, passwordOf(user));
  await eventually(
    () => nodes.every((n) => (options.users ?? []).every((u) => n.server.accounts.has(u))),
    5000,
    'every node to know the users',
  );
  return {
    url,
    nodes,
    signIn: (username, node) => nodes[node]!.signIn(username),
    close: async () => {
      for (const node of nodes) await node.close();
    },
  };
}
