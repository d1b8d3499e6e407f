import { hostname } from 'node:os';
import pg from 'pg';
import type { AccountChange } from '../accounts';
import { errorMessage } from '../../protocol/errors';
import { encodeEnvelope } from './cluster-events';
import { CLUSTER_SQL } from './cluster-queries';

/** How long an operator waits for a database that does not answer (a host that drops packets) before being told. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Tells a cluster's running nodes of account changes a program that is not a node stored in their database. */
export interface NodeNotifier {
  /** Tells every node, in the order told, that `user`'s account changed; the change must be stored already. */
  tell(user: string, change: AccountChange): void;
  /** Waits for what was told and disconnects; fails, naming the changes, if some could not be told. */
  close(): Promise<void>;
}

/**
 * Connects to the cluster's database at `url` to tell its nodes of account changes, with the event a node sends the
 * others (`parley-server users --postgres`): each node then applies the change at once, as if one of them had made it.
 */
export async function notifyNodes(url: string): Promise<NodeNotifier> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => {}); // a broken connection fails the queries after it, which close() reports
  await client.connect();
  // Unlike any node's id, so that every node applies what it is told.
  const from = `admin-${hostname().slice(0, 30)}-${process.pid}`;
  const told: Promise<void>[] = [];
  const untold: string[] = [];
  let failure: unknown;
  return {
    tell: (user, change) => {
      const payload = encodeEnvelope({ from, event: { type: 'account', user, change } });
      // One connection sends its queries one after another: the nodes hear of the changes in the order they were made.
      const query = client.query(CLUSTER_SQL.notify, [payload]);
      told.push(
        query.then(
          () => {},
          (err: unknown) => {
            failure ??= err;
            untold.push(`${user} ${change}`);
          },
        ),
      );
    },
    close: async () => {
      await Promise.all(told);
      await client.end().catch(() => {});
      if (failure !== undefined)
        throw new Error(
          `stored, but the running nodes could not be told of ${untold.join(', ')} (${errorMessage(failure)}): restart them to apply it`,
        );
    },
  };
}
