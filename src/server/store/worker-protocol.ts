import type { SqliteStoreOptions } from './sqlite-store';
import type { CommitOutcome, Store } from './store';

/** What the main thread passes to a store worker as `workerData`. */
export interface WorkerInit {
  /** Already claimed by the main thread (./data-dir.ts). */
  dir: string;
  options: SqliteStoreOptions;
}

/** The Store methods a worker runs for the main thread (close is a message of its own; the others are the main thread's own). */
export type StoreMethod = Exclude<keyof Store, 'close' | 'health' | 'onCommit'>;

export interface StoreCall<M extends StoreMethod = StoreMethod> {
  id: number;
  method: M;
  args: Parameters<Store[M]>;
}

export type ToWorker = { type: 'calls'; calls: StoreCall[] } | { type: 'close'; id: number };

export type CallResult = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

/** `commits`: those made since the last results, which settled these (sent only when there were some). */
export type FromWorker =
  { type: 'ready' } | { type: 'failed'; message: string } | { type: 'results'; results: CallResult[]; commits?: CommitOutcome[] };
